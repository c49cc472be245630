/**
 * Random Range sets against a model of the object (fast-check): whatever the
 * set and the limits, the answer is the right status, byte-exact, in request
 * order, never larger than the object + SIZE_SLACK, reading no more than that from
 * the store, and within the GET cap.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { memoryCache } from '../../lib/cache/memory.ts';
import { SIZE_SLACK } from '../../lib/range/plan.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { MemoryStore } from '../support/memory-store.ts';

type Spec = { first: number; last: number | null } | { suffix: number };

/** RFC 9110 §14.1.1 read literally: the satisfiable ranges, in request order. */
function model(specs: Spec[], length: number): Array<[number, number]> {
  return specs.flatMap((s): Array<[number, number]> => {
    if ('suffix' in s) return s.suffix > 0 && length > 0 ? [[Math.max(0, length - s.suffix), length - 1]] : [];
    if (s.first >= length) return [];
    return [[s.first, s.last === null ? length - 1 : Math.min(s.last, length - 1)]];
  });
}

const text = (s: Spec) => ('suffix' in s ? `-${s.suffix}` : `${s.first}-${s.last ?? ''}`);

const arbitraries = {
  length: fc.integer({ min: 0, max: 3000 }),
  specs: fc.array(
    fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 3200 }), fc.integer({ min: 0, max: 400 }))
        .map(([first, n]): Spec => ({ first, last: first + n })),
      fc.integer({ min: 0, max: 3200 }).map((first): Spec => ({ first, last: null })),
      fc.integer({ min: 0, max: 3200 }).map((suffix): Spec => ({ suffix })),
    ),
    { minLength: 1, maxLength: 10 },
  ),
  upstreamGap: fc.integer({ min: 0, max: 600 }),
  maxUpstreamGets: fc.integer({ min: 1, max: 5 }),
  maxRanges: fc.integer({ min: 1, max: 12 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  chunkSize: fc.integer({ min: 1, max: 700 }),
  // At least 50: an object of up to 3000 bytes is then one lookup window (64 slices), one GET per span.
  sliceSize: fc.integer({ min: 50, max: 900 }),
};

describe.for([
  { cache: false, runs: 10_000 },
  { cache: true, runs: 2_000 },
])('any Range set, edge cache $cache', ({ cache, runs }) => {
  it(`is answered correctly (${runs.toLocaleString('en')} cases${cache ? ', each asked twice' : ''})`, async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await fc.assert(
      fc.asyncProperty(fc.record(arbitraries), async (a) => {
        const bytes = Uint8Array.from({ length: a.length }, (_, i) => (i * 131 + (i >> 7)) & 0xff);
        const store = new MemoryStore();
        store.chunkSize = a.chunkSize;
        store.objects.set('o', { bytes, etag: '"e"' });
        const app = createApp({
          store,
          concurrency: a.concurrency,
          limits: { upstreamGap: a.upstreamGap, maxUpstreamGets: a.maxUpstreamGets, maxRanges: a.maxRanges },
          ...(cache && { cache: memoryCache({ sliceSize: a.sliceSize, metadataTtl: 10, maxBytes: 1 << 20 }) }),
          log: false,
        });
        const ask = async () => {
          const pending: Promise<unknown>[] = [];
          const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} };
          const range = `bytes=${a.specs.map(text).join(',')}`;
          const res = await app.request('/o', { headers: { range } }, undefined, ctx);
          const body = new Uint8Array(await res.arrayBuffer());
          await Promise.all(pending);
          return { res, body };
        };
        const wanted = model(a.specs, a.length);
        /** `gets`: the store GETs the answer took (undefined: asked again, checked to be none). */
        const check = ({ res, body }: { res: Response; body: Uint8Array }, gets: number | undefined) => {
          if (wanted.length === 0 && !(a.length === 0 && a.specs.some((s) => 'suffix' in s && s.suffix > 0))) {
            expect(res.status).toBe(416);
            expect(res.headers.get('content-range')).toBe(`bytes */${a.length}`);
            if (gets !== undefined) expect(gets).toBe(0);
            return;
          }
          expect([200, 206]).toContain(res.status);
          expect(res.headers.get('content-length')).toBe(String(body.length));
          if (res.status === 200) {
            expect(body).toEqual(bytes);
            // The cache needs no GET for an empty object.
            if (gets !== undefined) expect(gets).toBe(cache && a.length === 0 ? 0 : 1);
            return;
          }
          // 206: each part is exact; every wanted range lies in a part, in request order.
          const type = res.headers.get('content-type');
          const parts = type?.startsWith('multipart/')
            ? parseMultipart(body, boundaryOf(type))
            : [{ headers: { 'content-range': res.headers.get('content-range')! }, body }];
          const ranges = parts.map((p) => {
            const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(p.headers['content-range'] ?? '')!;
            expect(Number(m[3])).toBe(a.length);
            const [start, end] = [Number(m[1]), Number(m[2])];
            expect(p.body).toEqual(bytes.subarray(start, end + 1));
            return [start, end] as const;
          });
          let previous = 0;
          for (const [s, e] of wanted) {
            const home = ranges.findIndex(([ps, pe], i) => i >= previous && ps <= s && e <= pe);
            const anywhere = ranges.findIndex(([ps, pe]) => ps <= s && e <= pe);
            expect(anywhere).toBeGreaterThanOrEqual(0);
            if (parts.length > 1) {
              expect(home).toBeGreaterThanOrEqual(0);
              previous = home;
            }
          }
          expect(ranges.length).toBeLessThanOrEqual(a.maxRanges);
          // Parts and their headers within the object + SIZE_SLACK; 64 more for the closing delimiter.
          expect(body.length).toBeLessThanOrEqual(a.length + SIZE_SLACK + 64);
          if (gets !== undefined) expect(gets).toBeLessThanOrEqual(parts.length > 1 ? a.maxUpstreamGets : 1);
          // Without a cache the planned GETs send at most the object + SIZE_SLACK, gaps included (issue 18).
          if (gets !== undefined && !cache) {
            const read = store.calls.reduce((sum, c) => sum + (c.op === 'get' ? (c.span?.length ?? a.length) : 0), 0);
            expect(read).toBeLessThanOrEqual(a.length + SIZE_SLACK);
          }
          expect(store.open).toBe(0);
        };
        const first = await ask();
        check(first, store.calls.filter((c) => c.op === 'get').length);
        if (cache) {
          // Asked again: as good an answer, from the cache alone.
          const calls = store.calls.length;
          const again = await ask();
          expect(again.res.status).toBe(first.res.status);
          expect(store.calls.length).toBe(calls);
          check(again, undefined);
        }
      }),
      { numRuns: runs },
    );
    // A guard against a hang, not a speed bound: with the 4 KiB allowance most sets are now
    // multipart (bodies up to the object + 4 KiB, in chunks as small as one byte); on two shared
    // cores under a full test run the 10,000 uncached cases alone took 106–153 s.
  }, 300_000);
});
