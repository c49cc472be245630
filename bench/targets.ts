/**
 * Starting and stopping what the benchmarks measure: radosgw (the store),
 * nginx (the reference static server), the Node, Deno and Bun entries and
 * the Workers entry under wrangler dev. Everything on 127.0.0.1, on free ports, stopped by PID.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { entryCommand, type Runtime } from '../infra/local/runtimes.ts';
import { runWrangler, startWrangler } from '../infra/local/wrangler.ts';
import { readS3Settings } from '../lib/config.ts';
import type { S3Settings } from '../lib/store/s3.ts';
import { startNginx as startSharedNginx, type NginxOptions } from '../test/support/nginx.ts';
import { ROOT, freePort, run, startCommand, startTs, stopProcess, waitForPort } from '../test/support/processes.ts';
import { commOf, descendants } from './procs.ts';

export interface Target {
  readonly url: string;
  /** The process that does the serving (behind tsx or wrangler), for RSS and CPU. */
  readonly pid: number;
  /** Every process that does work per request (workerd runs two under wrangler dev). */
  readonly cpuPids: readonly number[];
  /** A process in front of it that may also work per request (wrangler's node process). */
  readonly helperPid?: number;
  /** The V8 inspector of the Worker (wrangler dev only). */
  readonly inspectorPort?: number;
  /** What the process wrote so far (the Node entry: its log lines). */
  readonly output?: () => string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// radosgw

export interface Store {
  readonly settings: S3Settings;
  /** The S3_* lines as an environment for the Node entry. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A private radosgw from infra/local/s3.sh with its own state dir, so it
 * never touches a server the test suites are using. Memstore is sized for
 * the 1 GiB object (the OSD holds about twice the data in RAM).
 */
export async function startStore(stateDir: string, memstoreMiB: number): Promise<Store> {
  const env = { S3_STATE_DIR: stateDir, S3_MEMSTORE_MIB: String(memstoreMiB), S3_BUCKET: 'edge-ranges-bench' };
  const down = async () => void (await run('bash', ['infra/local/s3.sh', 'down'], { env }));
  const up = await run('bash', ['infra/local/s3.sh', 'up'], { env });
  if (up.code !== 0) {
    await down();
    throw new Error(`infra/local/s3.sh up failed:\n${up.stderr}`);
  }
  const settingsEnv: Record<string, string> = {};
  for (const m of up.stdout.matchAll(/^export (S3_\w+)=(.*)$/gm)) settingsEnv[m[1]!] = m[2]!;
  return { settings: readS3Settings(settingsEnv), env: settingsEnv, stop: down };
}

// ---------------------------------------------------------------------------------------------
// nginx

/**
 * nginx (test/support/nginx.ts) serving `root`. One worker process: the Node
 * entry is one process too, and the machine has two cores, one of which the
 * load generator needs.
 */
export async function startNginx(root: string, options: NginxOptions = {}): Promise<Target> {
  const nginx = await startSharedNginx(root, options);
  // The master only accepts and forks; the worker serves.
  const worker = descendants(nginx.child.pid!).find((p) => p.comm === 'nginx');
  const pid = worker?.pid ?? nginx.child.pid!;
  return { url: nginx.url, pid, cpuPids: [pid], stop: nginx.stop };
}

// ---------------------------------------------------------------------------------------------
// The Node entry

/** functions/node/index.ts via tsx, on a port it picks itself (PORT=0). */
export async function startNodeEntry(s3Env: Record<string, string>, extra: Record<string, string> = {}): Promise<Target> {
  const server = await startTs(
    'functions/node/index.ts',
    { ...s3Env, HOST: '127.0.0.1', PORT: '0', NODE_NO_WARNINGS: '1', ...extra },
    /listening on (http:\/\/[\d.]+:\d+)/,
  );
  // tsx runs the entry in a child node process: measure that one.
  const inner = descendants(server.child.pid!).filter((p) => p.comm === 'node').pop();
  const pid = inner?.pid ?? server.child.pid!;
  return { url: server.url, pid, cpuPids: [pid], output: server.output, stop: server.stop };
}

// ---------------------------------------------------------------------------------------------
// The ceiling of a Node hop

/** bench/tcp-proxy.ts in its own node process, in front of `storeEndpoint`. */
export async function startTcpProxy(storeEndpoint: string): Promise<Target> {
  const proxy = await startTs('bench/tcp-proxy.ts', { PROXY_TARGET: storeEndpoint, NODE_NO_WARNINGS: '1' }, /listening on (http:\/\/[\d.]+:\d+)/);
  const pid = proxy.child.pid!;
  return { url: proxy.url, pid, cpuPids: [pid], stop: proxy.stop };
}

// ---------------------------------------------------------------------------------------------
// The Deno and Bun entries

/** functions/deno or functions/bun under the binary npm installed (no wrapper: the PID is the server's). */
export async function startRuntimeEntry(runtime: Runtime, s3Env: Record<string, string>): Promise<Target> {
  const { command, args } = entryCommand(runtime);
  const server = await startCommand(command, args, { ...s3Env, HOST: '127.0.0.1', PORT: '0' }, /listening on (http:\/\/[\d.]+:\d+)/);
  const pid = server.child.pid!;
  return { url: server.url, pid, cpuPids: [pid], stop: server.stop };
}

// ---------------------------------------------------------------------------------------------
// The Workers entry

/**
 * wrangler dev (local mode, workerd) on the local R2 under `persistTo`,
 * running `entry` (default: wrangler.toml's, functions/cloudflare/index.ts).
 */
export async function startWorkersEntry(persistTo: string, readyKey: string, entry?: string): Promise<Target> {
  // wrangler dev watches the sources and restarts workerd when they change;
  // others edit lib/ while the benchmarks run. So the Worker is bundled once
  // (as `wrangler deploy` would) and wrangler dev serves that file unbundled:
  // one version of the code, and workerd PIDs that stay valid.
  const bundleDir = mkdtempSync(join(tmpdir(), 'edge-ranges-bench-worker-'));
  await runWrangler(['deploy', ...(entry ? [join(ROOT, entry)] : []), '--dry-run', '--outdir', bundleDir]);
  const bundle = join(bundleDir, entry ? `${basename(entry).replace(/\.ts$/, '')}.js` : 'index.js');
  const port = await freePort();
  const inspector = await freePort();
  const child = startWrangler(
    [
      'dev', bundle, '--no-bundle', '--config', join(ROOT, 'wrangler.toml'), '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
      '--persist-to', persistTo, '--show-interactive-dev-session=false', '--log-level', 'warn',
      // a–h measure the path without the edge cache (bench/cache.ts measures it on Node).
      '--var', 'CACHE:off',
    ],
    'pipe',
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopWrangler(child);
    rmSync(bundleDir, { recursive: true, force: true });
  };
  await orStop(stop, async () => {
    await waitForPort(port, child, () => output);
    // The port opens before the Worker runs: wait for a real answer.
    await waitForAnswer(`${url}/${readyKey}`);
  });
  // wrangler dev runs two workerd processes: one with its proxy worker on our
  // port, which forwards each request to the other, where our Worker runs.
  const workerd = descendants(child.pid!).filter((p) => p.comm === 'workerd');
  const ours = workerd.find((p) => !cmdlineOf(p.pid).includes(`entry=127.0.0.1:${port}`)) ?? workerd[0];
  if (ours === undefined) {
    await stop();
    throw new Error('no workerd process below wrangler');
  }
  return { url, pid: ours.pid, cpuPids: workerd.map((p) => p.pid), helperPid: child.pid!, inspectorPort: inspector, stop };
}

/**
 * SIGTERM to wrangler, which stops its workerd; any of its descendants still
 * alive afterwards (found by walking the tree from wrangler's PID before
 * stopping it) are killed by their own PID.
 */
async function stopWrangler(child: ChildProcess): Promise<void> {
  const below = child.pid ? descendants(child.pid) : [];
  await stopProcess(child);
  for (const p of below) {
    // Only if that PID is still the same program (not recycled meanwhile).
    if (commOf(p.pid) !== p.comm) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone: the normal case
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Resolves once `url` answers 2xx (a HEAD), retrying for up to a minute. */
/** Runs `work`; if it fails, stops what was started before passing the error on. */
async function orStop(stop: () => Promise<void>, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForAnswer(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url, { method: 'HEAD' })).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 2xx within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export { ROOT };
