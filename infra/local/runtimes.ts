/**
 * The Deno and Bun binaries that `npm ci` installs (the `deno` and `bun`
 * npm packages, pinned in package.json), and the command line that runs an
 * entry under each. Called directly, never through node_modules/.bin:
 * deno's .bin shim is a Node wrapper (the PID we hold would not be the
 * server's), and bun's is a 450-byte placeholder until its postinstall
 * script runs, which npm skips for packages not in allowScripts. Both
 * binaries ship in a per-platform package (optionalDependencies) that
 * installs without any script.
 *
 *   tsx infra/local/runtimes.ts deno|bun   runs that entry (npm run start:deno / start:bun)
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Runtime = 'deno' | 'bun';
export const RUNTIMES: readonly Runtime[] = ['deno', 'bun'];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULES = join(ROOT, 'node_modules');

/**
 * Deno's permissions, each needed: the network (S3, listening), the
 * environment (settings; the AWS SDK reads AWS_*), and the OS release (the
 * SDK's user agent). No file system access.
 */
const DENO_FLAGS = ['run', '--no-prompt', '--no-lock', '--allow-net', '--allow-env', '--allow-sys=osRelease'];
/** Bun would load a .env file from the working directory; Node and Deno do not. */
const BUN_FLAGS = ['--no-env-file'];

/** The entry each runtime runs, relative to the repository root. */
export const ENTRIES: Readonly<Record<Runtime, string>> = {
  deno: 'functions/deno/index.ts',
  bun: 'functions/bun/index.ts',
};

/**
 * The runtime's binary, absolute. Throws (naming `npm ci`) when it is not
 * installed: a missing runtime fails loudly, never silently skips.
 */
export function runtimeBinary(runtime: Runtime): string {
  const candidates = runtime === 'deno' ? denoBinaries() : bunBinaries();
  // A real binary is tens of MB; bun's unreplaced placeholder is a 450-byte script.
  const found = candidates.find((p) => existsSync(p) && statSync(p).size > 1_000_000);
  if (!found) {
    throw new Error(`${runtime} is not installed for ${process.platform}-${process.arch} (looked at ${candidates.join(', ')}): run npm ci`);
  }
  return found;
}

/** The command and arguments that run the runtime's entry from the repository root. */
export function entryCommand(runtime: Runtime): { command: string; args: string[] } {
  const flags = runtime === 'deno' ? DENO_FLAGS : BUN_FLAGS;
  return { command: runtimeBinary(runtime), args: [...flags, ENTRIES[runtime]] };
}

function denoBinaries(): string[] {
  // @deno/<os>-<arch>[-glibc]/deno (see the deno package's install_api.cjs).
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const pkg = process.platform === 'linux' ? `linux-${arch}-glibc` : `${process.platform}-${arch}`;
  return [join(MODULES, '@deno', pkg, 'deno')];
}

function bunBinaries(): string[] {
  // @oven/bun-<os>-<arch>/bin/bun until bun's postinstall moves it to bun/bin/bun.exe.
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x64';
  return [join(MODULES, '@oven', `bun-${process.platform}-${arch}`, 'bin', 'bun'), join(MODULES, 'bun', 'bin', 'bun.exe')];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runtime = process.argv[2];
  if (runtime !== 'deno' && runtime !== 'bun') {
    console.error('usage: tsx infra/local/runtimes.ts deno|bun');
    process.exit(2);
  }
  const { command, args } = entryCommand(runtime);
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
