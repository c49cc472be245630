/** Servers the Node suites start: on 127.0.0.1, on a free port, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled `edge-ranges` command (package.json "bin"); test/support/build.ts builds it before the suites. */
export const CLI = `${ROOT}dist/functions/cli/edge-ranges.js`;
/** tsx as a loader: one process, so the PID we hold is the server's own. */
const TSX_LOADER = ['--import', 'tsx'];

export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (for tools that cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a TypeScript entry with tsx and resolves once `ready` matches its output (capturing the URL). */
export function startTs(
  entry: string,
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<Server> {
  return startCommand(process.execPath, [...TSX_LOADER, entry], env, ready, timeoutMs);
}

/**
 * Runs `command` from the repository root and resolves once `ready` matches
 * its output (capturing the URL in its first group); rejects with the
 * output if it exits first or is not ready within `timeoutMs`.
 */
export function startCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<Server> {
  const label = [command, ...args].join(' ');
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, stopped whole: `npm start` is dev.ts → wrangler →
    // wrangler's CLI → workerd, and a stop escalated to SIGKILL under load
    // left wrangler and its workerds running after the suite.
    detached: true,
  });
  let output = '';
  const server: Server = {
    url: '',
    child,
    output: () => output,
    stop: () => stopProcess(child, { group: true }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void server.stop();
      reject(new Error(`${label} was not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data;
      const m = ready.exec(output);
      if (m && server.url === '') {
        clearTimeout(timer);
        resolve({ ...server, url: m[1] ?? '' });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // A missing runtime is an error, never a skip.
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${label}: ${err.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/**
 * SIGTERM, then SIGKILL if it lingers (after `graceMs`, default 5000 ms);
 * resolves once the process is gone. `group`: the child was spawned
 * `detached` and leads its own process group; every process in the group
 * gets the signals, and whatever is left when the leader is gone is killed.
 */
export function stopProcess(child: ChildProcess, { graceMs = 5000, group = false } = {}): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // ESRCH: already gone.
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    if (group) signal('SIGKILL');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      if (group) signal('SIGKILL');
      resolve();
    });
    signal('SIGTERM');
  });
}

/** Runs a command to completion and returns its exit code and output. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // A missing tool is an error, never a skip.
    child.on('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
    // 'close', not 'exit': a child's last write may still be in the pipe when it exits
    // (Node docs, child_process "Event: 'exit'"); a CI run lost Bun's one line so.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port; rejects if the child exits. */
export async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before listening:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms:\n${output()}`);
}

/**
 * `npm start` (the Workers entry under wrangler dev, local R2) on a free
 * port over the local state in `persistTo`, without the demo objects.
 */
export async function startNpmStart(persistTo: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  return startTs('infra/local/dev.ts', { PORT: String(port), PERSIST_TO: persistTo, DEMO: 'off', ...env }, /serving local R2 at (http:\S+)/);
}
