/**
 * nginx as a real HTTP origin for the HTTP store's suites (Node side, and
 * the workers project's global setup): the fixtures on disk, with the
 * stored metadata as response fields, and two compressing locations.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIXTURES } from './fixtures.ts';
import { startNginx, type Nginx } from './nginx.ts';

/** Where nginx compresses: `gz/` with its gzip filter, `gunzip/` a stored .gz decoded on the way (weak ETag, no length). */
export const GZIP_KEY = 'gz/data.bin';
export const GUNZIP_KEY = 'gunzip/data.bin';

const meta = FIXTURES.meta.http;

/**
 * The server block: .txt is text/plain, meta.txt carries the fixture's
 * stored fields as nginx would send a file's (add_header), `gz/`
 * compresses whenever a client accepts gzip, `gunzip/` serves data.bin.gz
 * to everyone (gzip_static always) and decodes it for clients that do
 * not accept gzip (gunzip): the ETag turns weak and the length unknown.
 */
const SERVER = `
    types { text/plain txt; application/octet-stream bin; }
    location = /cases/meta.txt {
      charset utf-8;
      add_header Cache-Control "${meta.cacheControl}";
      add_header Content-Disposition '${meta.contentDisposition}';
      add_header Content-Language ${meta.contentLanguage};
      add_header Expires "${meta.expires.toUTCString()}";
    }
    location /gz/ { gzip on; gzip_types *; gzip_min_length 0; gzip_vary on; }
    location /gunzip/ { gzip_static always; gunzip on; }
`;

export interface NginxOrigin {
  readonly nginx: Nginx;
  readonly root: string;
  stop(): Promise<void>;
}

/** Writes every fixture under a fresh root and serves it with nginx. */
export async function startNginxOrigin(): Promise<NginxOrigin> {
  const root = mkdtempSync(join(tmpdir(), 'edge-ranges-origin-'));
  for (const f of Object.values(FIXTURES)) writeObject(root, f.key, f.bytes);
  writeObject(root, GZIP_KEY, FIXTURES.data.bytes);
  writeObject(root, `${GUNZIP_KEY}.gz`, gzipSync(FIXTURES.data.bytes));
  const nginx = await startNginx(root, { server: SERVER });
  return {
    nginx,
    root,
    stop: async () => {
      await nginx.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function writeObject(root: string, key: string, bytes: Uint8Array): void {
  const file = join(root, key);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}
