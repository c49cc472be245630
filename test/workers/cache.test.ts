/**
 * The edge cache inside workerd, slices in the Cache API (miniflare's):
 * repeated ranges cost no store call, ranges are byte-exact from slices,
 * a replaced object is never mixed, a cached slice of the wrong length is
 * never served, and a client that aborts leaves no partial slice.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';
import { SLICE_CACHE_NAME, sliceUrl } from '../../lib/cache/workers.ts';
import { answerOf, expectExact, type Answer } from '../support/cache-answers.ts';
import { firstDifference } from '../support/http-cases.ts';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';

const BASE = 'http://edge-ranges.test';
const SLICE = 1024;
const N = 40 * SLICE + 77;

/** The Workers entry with these settings: one env object, one app and cache (as in one isolate). */
function entry(settings: Record<string, string>) {
  const bindings = { ...env, CACHE: 'on', SLICE_SIZE: String(SLICE), ...settings } as Parameters<typeof worker.fetch>[1];
  return async (key: string, range?: string): Promise<Answer> => {
    const ctx = createExecutionContext();
    const request = new Request(`${BASE}/${key}`, { headers: range ? { range } : {} });
    const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], bindings, ctx);
    const answer = await answerOf(res);
    // Slices are stored with ctx.waitUntil: wait, so the next request sees them.
    await waitOnExecutionContext(ctx);
    return answer;
  };
}

const RANGES: ReadonlyArray<{ name: string; range: string; parts: Array<[number, number]> }> = [
  { name: 'inside one slice', range: 'bytes=1100-1200', parts: [[1100, 1200]] },
  { name: 'across slice boundaries', range: 'bytes=1500-9000', parts: [[1500, 9000]] },
  { name: 'suffix', range: 'bytes=-3000', parts: [[N - 3000, N - 1]] },
  { name: 'open range from a slice edge', range: `bytes=${29 * SLICE}-`, parts: [[29 * SLICE, N - 1]] },
  { name: 'the last, partial slice', range: `bytes=${40 * SLICE}-`, parts: [[40 * SLICE, N - 1]] },
  // One span (the parts are within UPSTREAM_GAP) of 15 slices: within the 20 lookups of a request.
  { name: 'multipart', range: 'bytes=0-9,5000-5100,15000-15010', parts: [[0, 9], [5000, 5100], [15000, 15010]] },
];

describe('Workers entry, slices in the Cache API, METADATA_TTL=30', () => {
  const fetch = entry({ METADATA_TTL: '30' });
  const object = pseudoRandomBytes(N, 31);
  beforeAll(async () => {
    for (const { name } of RANGES) await env.BUCKET.put(`cache-w/${name}`, object);
    await env.BUCKET.put('cache-w/mixed', object);
    await env.BUCKET.put('cache-w/empty', new Uint8Array(0));
  });

  it.for(RANGES)('$name: byte-exact, and asked again, no store call', async (c) => {
    const cold = await fetch(`cache-w/${c.name}`, c.range);
    expectExact(cold, object, c.parts);
    expect(cold.calls).toBeGreaterThanOrEqual(1);
    const warm = await fetch(`cache-w/${c.name}`, c.range);
    expectExact(warm, object, c.parts);
    expect(warm.calls).toBe(0);
    expect(warm.cache.misses).toBe(0);
  });

  it('an open range from inside a slice, no metadata cached: asked as it is, so that slice is read once more', async () => {
    // A Worker cannot know whether the range is beyond the cache's reach before R2 answers, and
    // beyond it R2's body goes on untouched; so the slice edge before 30,000 is not asked for.
    await env.BUCKET.put('cache-w/seek', object);
    const cold = await fetch('cache-w/seek', 'bytes=30000-');
    expectExact(cold, object, [[30000, N - 1]]);
    expect(cold).toMatchObject({ calls: 1, cache: { hits: 0, misses: 12 } });
    const warm = await fetch('cache-w/seek', 'bytes=30000-');
    expectExact(warm, object, [[30000, N - 1]]);
    expect(warm).toMatchObject({ calls: 1, cache: { hits: 11, misses: 1 } }); // slices 30–40 stored; 29 read
    const third = await fetch('cache-w/seek', 'bytes=30000-');
    expectExact(third, object, [[30000, N - 1]]);
    expect(third).toMatchObject({ calls: 0, cache: { hits: 12, misses: 0 } });
  });

  it('a multipart answer mixing cached and missing slices', async () => {
    await fetch('cache-w/mixed', 'bytes=0-99');
    // Within UPSTREAM_GAP, both parts share one span (slices 0–14, within the 20 a request
    // looks up): slice 0 comes from the cache, the run of slices 1–14 is one store GET.
    const mixed = await fetch('cache-w/mixed', 'bytes=10-20,15000-15010');
    expectExact(mixed, object, [[10, 20], [15000, 15010]]);
    expect(mixed.cache).toEqual({ hits: 1, misses: 14 });
    expect(mixed.calls).toBe(1);
  });

  it('a span longer than the 20 slices a request looks up: one store GET, its body untouched', async () => {
    // Both parts share one span of slices 0–39: R2's own body, cut by the multipart writer.
    const wide = await fetch('cache-w/mixed', 'bytes=10-20,40000-40010');
    expectExact(wide, object, [[10, 20], [40000, 40010]]);
    expect(wide.cache).toEqual({ hits: 0, misses: 0 });
    expect(wide.calls).toBe(1);
  });

  it('a zero-length object: 200 empty, then no store call', async () => {
    for (const round of [1, 2]) {
      const a = await fetch('cache-w/empty');
      expect([a.res.status, a.body.length]).toEqual([200, 0]);
      if (round === 2) expect(a.calls).toBe(0);
    }
  });

  it('an object replaced: the previous version whole, or the new one whole, never a mix', async () => {
    const key = 'cache-w/replaced';
    const v1 = pseudoRandomBytes(N, 1);
    const v2 = pseudoRandomBytes(N + 999, 2);
    const put1 = await env.BUCKET.put(key, v1);
    await fetch(key, 'bytes=0-4095'); // slices 0–3 of v1
    const put2 = await env.BUCKET.put(key, v2);

    const cached = await fetch(key, 'bytes=100-3000');
    expect(cached.res.headers.get('etag')).toBe(put1!.httpEtag);
    expectExact(cached, v1, [[100, 3000]]);
    expect(cached.calls).toBe(0);

    const missing = await fetch(key, 'bytes=100-9000');
    expect(missing.res.headers.get('etag')).toBe(put2!.httpEtag);
    expectExact(missing, v2, [[100, 9000]]);
  });

  it('a cached slice of the wrong length is a miss, never served', async () => {
    const key = 'cache-w/short';
    const put = await env.BUCKET.put(key, object);
    const cache = await caches.open(SLICE_CACHE_NAME);
    const id = { key, etag: put!.httpEtag, size: N, sliceSize: SLICE, index: 2 };
    await cache.put(sliceUrl(id), new Response(new Uint8Array(SLICE - 1).fill(0xee), { headers: { 'cache-control': 'max-age=600' } }));
    const a = await fetch(key, 'bytes=2048-3071');
    expectExact(a, object, [[2048, 3071]]);
    expect(a.cache).toEqual({ hits: 0, misses: 1 });
    const again = await fetch(key, 'bytes=2048-3071');
    expectExact(again, object, [[2048, 3071]]);
    expect(again.calls).toBe(0);
  });

  it('a client that aborts while slices are stored leaves no partial slice', async () => {
    const key = 'cache-w/abort';
    const big = pseudoRandomBytes(64 * SLICE + 5, 9);
    const put = await env.BUCKET.put(key, big);
    const bindings = { ...env, CACHE: 'on', SLICE_SIZE: String(SLICE), METADATA_TTL: '30' } as Parameters<typeof worker.fetch>[1];
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${BASE}/${key}`, { headers: { range: 'bytes=100-' } }) as Parameters<typeof worker.fetch>[0], bindings, ctx);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel(new Error('client went away'));
    await waitOnExecutionContext(ctx);
    // Every slice in the cache is whole and exact.
    const cache = await caches.open(SLICE_CACHE_NAME);
    for (let index = 0; index <= 64; index++) {
      const found = await cache.match(sliceUrl({ key, etag: put!.httpEtag, size: big.length, sliceSize: SLICE, index }));
      if (!found) continue;
      const bytes = new Uint8Array(await found.arrayBuffer());
      expect(firstDifference(bytes, big.subarray(index * SLICE, Math.min(big.length, (index + 1) * SLICE))), `slice ${index}`).toBe(-1);
    }
    const again = await fetch(key, 'bytes=100-');
    expectExact(again, big, [[100, big.length - 1]]);
  });
});

describe('Workers entry, METADATA_TTL=0', () => {
  const fetch = entry({ METADATA_TTL: '0' });
  it('the same range twice: the second costs one HEAD and no GET', async () => {
    const object = pseudoRandomBytes(N, 44);
    await env.BUCKET.put('cache-w/ttl0', object);
    expectExact(await fetch('cache-w/ttl0', 'bytes=1500-9000'), object, [[1500, 9000]]);
    const warm = await fetch('cache-w/ttl0', 'bytes=1500-9000');
    expectExact(warm, object, [[1500, 9000]]);
    expect(warm.calls).toBe(1);
    expect(warm.cache).toEqual({ hits: 8, misses: 0 });
  });
});
