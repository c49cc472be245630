/** The fuzz properties at 10,000 cases each (`npm run fuzz` runs 1,000,000). */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { conditionalProperty, handlerProperty, parseProperty, planProperty } from '../fuzz/properties.ts';
import { MemoryStore } from '../support/memory-store.ts';

const RUNS = 10_000;

describe('fuzz', () => {
  it('parseRange: any text', () => parseProperty(RUNS), 120_000);
  it('planRanges: any set, any limits', () => planProperty(RUNS), 120_000);
  it('conditionals: any text, any date', () => conditionalProperty(RUNS), 120_000);
  it('the handler: any headers', () => handlerProperty(RUNS), 300_000);

  it('a 64 KiB Range header is answered promptly', async () => {
    const store = new MemoryStore();
    store.objects.set('o', { bytes: new Uint8Array(1_000_000), etag: '"e"' });
    const app = createApp({ store, log: false });
    const specs = Array.from({ length: 8000 }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',');
    const range = `bytes=${specs}`.slice(0, 64 * 1024).replace(/,[^,]*$/, '');
    expect(range.length).toBeGreaterThan(60_000);
    const started = performance.now();
    const res = await app.request('/o', { headers: { range } });
    await res.arrayBuffer();
    expect(res.status).toBe(200); // over MAX_RANGES: the whole object
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
