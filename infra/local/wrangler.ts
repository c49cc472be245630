/** Running the project's own wrangler, offline, against local R2 state. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRANGLER = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));
/** The bucket_name of the BUCKET binding in wrangler.toml. */
export const LOCAL_BUCKET = 'edge-ranges';
/** Where local R2 lives unless PERSIST_TO says otherwise (wrangler's own default). */
export const DEFAULT_PERSIST = '.wrangler/state';

/** No telemetry, no fetching of Cloudflare's `cf` object: this machine is offline. */
const OFFLINE = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

export function startWrangler(args: string[], stdio: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  return spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE },
    stdio: ['ignore', stdio, stdio],
  });
}

/** Runs wrangler to completion; rejects with its output when it fails. */
export function runWrangler(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = startWrangler(args, 'pipe');
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

export interface PutOptions {
  readonly contentType?: string;
  readonly cacheControl?: string;
}

/** Puts a local file into the local R2 bucket under `key`. */
export function putLocalObject(file: string, key: string, persistTo: string, options: PutOptions = {}): Promise<void> {
  const args = ['r2', 'object', 'put', `${LOCAL_BUCKET}/${key}`, '--file', file, '--local', '--persist-to', persistTo];
  if (options.contentType) args.push('--content-type', options.contentType);
  if (options.cacheControl) args.push('--cache-control', options.cacheControl);
  return runWrangler(args);
}
