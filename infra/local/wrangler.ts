/** Running the project's own wrangler, offline, against local R2 state. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRANGLER = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));
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
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

export interface PutOptions {
  readonly contentType?: string;
  readonly cacheControl?: string;
}

type LocalHttpMetadata = { contentType?: string; cacheControl?: string };

/** The part of the local R2 binding a put needs (workers-types has the full one). */
interface LocalBucket {
  put(key: string, value: Blob, options: { httpMetadata: LocalHttpMetadata }): Promise<unknown>;
  createMultipartUpload(key: string, options: { httpMetadata: LocalHttpMetadata }): Promise<LocalMultipartUpload>;
}

interface LocalMultipartUpload {
  uploadPart(partNumber: number, value: Blob): Promise<{ partNumber: number; etag: string }>;
  complete(parts: { partNumber: number; etag: string }[]): Promise<unknown>;
}

/**
 * The largest file put in one call, in bytes. getPlatformProxy carries a
 * Blob to the local runtime whole and refuses one over 128 MiB (miniflare's
 * devalue: "Blob size … exceeds limit 134217728"), and R2's put wants a
 * stream of known length, which a Node stream through the proxy is not:
 * a larger file goes as an R2 multipart upload of parts this size (R2: every
 * part but the last the same size, at least 5 MiB).
 */
const PART_BYTES = 64 * 1024 * 1024;

/** One file to put, under its key. */
export interface LocalObject {
  readonly file: string;
  readonly key: string;
  readonly options?: PutOptions;
}

/**
 * Puts local files into the local R2 bucket, each under its key exactly as
 * written: through the R2 binding (wrangler's getPlatformProxy, the
 * Miniflare that `wrangler dev` runs), so any key a bucket accepts
 * round-trips — spaces, `#`, `%`, `+`, `?`, non-ASCII. (`wrangler r2 object
 * put` reads its key argument as a URL path: `my clip.txt` was stored as
 * `my%20clip.txt`, `v#2.txt` as `v`, and `50%off.txt` failed.) Each file is
 * sent as a file-backed Blob, one PART_BYTES part at a time when larger (an
 * R2 multipart upload: its ETag then ends in `-N`). One local runtime serves
 * the whole list.
 */
export async function putLocalObjects(objects: readonly LocalObject[], persistTo: string): Promise<void> {
  Object.assign(process.env, OFFLINE);
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ BUCKET: LocalBucket }>({
    configPath: join(ROOT, 'wrangler.toml'),
    // wrangler dev --persist-to X keeps its state under X/v3.
    persist: { path: join(resolve(ROOT, persistTo), 'v3') },
    remoteBindings: false,
  });
  try {
    for (const { file, key, options = {} } of objects) {
      const httpMetadata = {
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(options.cacheControl ? { cacheControl: options.cacheControl } : {}),
      };
      const blob = await openAsBlob(file);
      if (blob.size <= PART_BYTES) {
        await proxy.env.BUCKET.put(key, blob, { httpMetadata });
        continue;
      }
      const upload = await proxy.env.BUCKET.createMultipartUpload(key, { httpMetadata });
      const parts = [];
      for (let offset = 0; offset < blob.size; offset += PART_BYTES) {
        parts.push(await upload.uploadPart(parts.length + 1, blob.slice(offset, offset + PART_BYTES)));
      }
      await upload.complete(parts);
    }
  } finally {
    await proxy.dispose();
  }
}

/** Puts one local file into the local R2 bucket under `key` (see putLocalObjects). */
export function putLocalObject(file: string, key: string, persistTo: string, options: PutOptions = {}): Promise<void> {
  return putLocalObjects([{ file, key, options }], persistTo);
}
