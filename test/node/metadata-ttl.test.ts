/**
 * METADATA_TTL on the Workers entry as `npm start` runs it (wrangler dev,
 * workerd, local R2, the edge cache on): an object overwritten while its
 * metadata and slices are cached is served new once the TTL has passed.
 * In workerd a request's timers die with it, and the metadata cache's clock
 * once stood still on one: the old version was served for the isolate's
 * life (README, "Staleness contract").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { putLocalObjects } from '../../infra/local/wrangler.ts';
import { startNpmStart, type Server } from '../support/processes.ts';

const KEY = 'ttl/object.txt';

describe('Workers entry (npm start, METADATA_TTL=1): an overwritten object', () => {
  let work: string;
  let persistTo: string;
  let server: Server;
  const put = async (text: string) => {
    const file = join(work, 'object.txt');
    writeFileSync(file, text);
    await putLocalObjects([{ file, key: KEY, options: { contentType: 'text/plain' } }], persistTo);
  };
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-ranges-ttl-'));
    persistTo = join(work, 'wrangler-state');
    await put('version one');
    server = await startNpmStart(persistTo, { METADATA_TTL: '1' });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is served new after the TTL, never mixed', async () => {
    const get = async () => {
      const res = await fetch(`${server.url}/${KEY}`);
      return { body: await res.text(), timing: res.headers.get('server-timing') ?? '' };
    };
    expect((await get()).body).toBe('version one');
    const cached = await get();
    expect(cached.body).toBe('version one');
    expect(cached.timing).toMatch(/store;[^,]*desc="0 calls/); // metadata and slice from the cache
    await put('version two, longer');
    // Once the TTL (1 s) has passed, the next request asks the store.
    const seen: string[] = [];
    await vi.waitFor(
      async () => {
        seen.push((await get()).body);
        expect(seen.at(-1)).toBe('version two, longer');
      },
      { timeout: 10_000, interval: 500 },
    );
    // Before it: the old version whole, never a mix.
    for (const body of seen) expect(['version one', 'version two, longer']).toContain(body);
  });
});
