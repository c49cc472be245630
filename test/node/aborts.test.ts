/**
 * Client aborts on the Workers entry (issue 14.6), as `npm start` runs it
 * (wrangler dev, workerd, local R2): a client that goes away mid-body is
 * normal and must not be logged as `Uncaught Error: Network connection
 * lost.` (it was, for about one abort in five). 20 downloads of the whole
 * object and 20 of one range are cut after ~100 KB; then a sentinel
 * request, whose log line comes after anything the aborts printed.
 *
 * With CACHE=off: then R2's own body is the response body. With the edge
 * cache on, the bytes pass through a JavaScript stream (slices are stored
 * as they go by), and workerd still logs the abort, as it does for
 * multipart bodies (README, "Errors people hit first").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { putLocalObjects } from '../../infra/local/wrangler.ts';
import { startNpmStart, type Server } from '../support/processes.ts';

const KEY = 'aborts/big.bin';
const SIZE = 16 * 1024 * 1024;
const ABORTS = 20;

/** GETs `url`, reads at least `bytes` of the body, then cuts the connection. Resolves with what it read. */
function readThenAbort(url: string, headers: Record<string, string>, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res) => {
      let got = 0;
      res.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got >= bytes) {
          req.destroy();
          resolve(got);
        }
      });
      res.on('end', () => reject(new Error(`the body ended after ${got} bytes, before the abort`)));
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

describe('Workers entry (CACHE=off npm start) over local R2: client aborts', () => {
  let work: string;
  let server: Server;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-ranges-aborts-'));
    const persistTo = join(work, 'wrangler-state');
    const file = join(work, 'big.bin');
    writeFileSync(file, pseudoRandomBytes(SIZE, 14));
    await putLocalObjects([{ file, key: KEY }], persistTo);
    server = await startNpmStart(persistTo, { CACHE: 'off' });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.for([
    ['the whole object', {}],
    ['one range', { range: `bytes=1000-${SIZE - 1000}` }],
  ] as const)('%s: 20 aborted downloads log no uncaught error', async ([, headers]) => {
    const from = server.output().length;
    for (let i = 0; i < ABORTS; i++) expect(await readThenAbort(`${server.url}/${KEY}`, headers, 100_000)).toBeGreaterThanOrEqual(100_000);
    // The sentinel: complete, and logged after whatever the aborts caused.
    const sentinel = await fetch(`${server.url}/${KEY}`, { headers: { range: 'bytes=0-9', 'x-sentinel': '1' } });
    expect(sentinel.status).toBe(206);
    expect((await sentinel.arrayBuffer()).byteLength).toBe(10);
    await vi.waitFor(() => expect(server.output().slice(from).match(/GET \/aborts\/big\.bin 20[06]/g)?.length).toBe(ABORTS + 1), {
      timeout: 30_000,
      interval: 100,
    });
    expect(server.output().slice(from)).not.toMatch(/Uncaught|Network connection lost/);
  });
});
