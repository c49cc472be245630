/**
 * Fuzz properties (fast-check) of the pure parts and of the whole handler
 * against a model of the object. `npm test` runs them at 10,000 cases each;
 * `npm run fuzz` at 1,000,000.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { evaluatePreconditions, ifRangeHolds, parseETagList, parseHttpDate } from '../../lib/conditional.ts';
import { parseRange } from '../../lib/range/parse.ts';
import { totalLength } from '../../lib/range/byte-range.ts';
import { SIZE_SLACK, planRanges, type RangeLimits } from '../../lib/range/plan.ts';
import { MemoryStore, ReadingStore } from '../support/memory-store.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';

/** Header-safe text: visible ASCII, space, tab and a little Latin-1, biased towards Range grammar. */
const fieldText = fc.string({
  unit: fc.constantFrom(...'bytes=-0123456789,  \t"W/*abcxyzBYTES;:.+é'.split('')),
  maxLength: 60,
});

const number = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.constantFrom('0', '00', '9007199254740991', '9007199254740992', '18446744073709551615', '18446744073709551616'),
);
const spec = fc.oneof(
  fc.tuple(number, number).map(([a, b]) => `${a}-${b}`),
  number.map((a) => `${a}-`),
  number.map((n) => `-${n}`),
);
const ows = fc.constantFrom('', ' ', '\t', '  ');
/** Range headers that are valid (or nearly: random whitespace and case). */
const rangeHeader = fc
  .tuple(fc.constantFrom('bytes', 'BYTES', 'Bytes'), fc.array(fc.tuple(ows, spec, ows), { minLength: 1, maxLength: 12 }))
  .map(([unit, specs]) => `${unit}=${specs.map(([a, s, b]) => a + s + b).join(',')}`);

export function parseProperty(numRuns: number): void {
  fc.assert(
    fc.property(fc.oneof(fieldText, rangeHeader), (value) => {
      const specs = parseRange(value);
      if (specs === null) return;
      expect(specs.length).toBeGreaterThan(0);
      for (const s of specs) {
        if ('suffix' in s) expect(s.suffix).toBeGreaterThanOrEqual(0);
        else expect(s.first).toBeLessThanOrEqual(s.last);
      }
    }),
    { numRuns },
  );
}

export function planProperty(numRuns: number): void {
  fc.assert(
    fc.property(
      rangeHeader,
      fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.constant(2 ** 50)),
      fc.record({ maxRanges: fc.integer({ min: 1, max: 20 }), upstreamGap: fc.integer({ min: 0, max: 5000 }), maxUpstreamGets: fc.integer({ min: 1, max: 8 }) }),
      fc.integer({ min: 0, max: 200 }),
      (value, length, limits: RangeLimits, overhead) => {
        const plan = planRanges(parseRange(value), length, limits, overhead);
        const inside = (r: { start: number; end: number }) => 0 <= r.start && r.start <= r.end && r.end < length;
        if (plan.kind === 'single') expect(inside(plan.range)).toBe(true);
        if (plan.kind !== 'multi') return;
        expect(plan.parts.length).toBeGreaterThan(1);
        expect(plan.parts.length).toBeLessThanOrEqual(limits.maxRanges);
        expect(plan.parts.every(inside)).toBe(true);
        expect(plan.parts.reduce((n, p) => n + p.end - p.start + 1 + overhead, 0)).toBeLessThanOrEqual(length + SIZE_SLACK);
        expect(totalLength(plan.gets)).toBeLessThanOrEqual(length + SIZE_SLACK);
        expect(plan.gets.length).toBeLessThanOrEqual(limits.maxUpstreamGets);
        expect(plan.gets.flatMap((s) => s.parts)).toEqual(plan.parts);
        for (const s of plan.gets) for (const p of s.parts) expect(s.start <= p.start && p.end <= s.end).toBe(true);
      },
    ),
    { numRuns },
  );
}

export function conditionalProperty(numRuns: number): void {
  const current = { etag: '"abc"', lastModified: new Date('2024-03-05T10:20:30Z') };
  fc.assert(
    fc.property(
      fieldText,
      fc.constantFrom('GET', 'HEAD', 'POST'),
      fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
      (value, method, date) => {
        parseETagList(value);
        parseHttpDate(value);
        ifRangeHolds(value, current);
        for (const name of ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since']) {
          expect([null, 304, 412]).toContain(evaluatePreconditions(method, new Headers({ [name]: value }), current));
        }
        // Every date we write, we read back (to the second).
        expect(parseHttpDate(date.toUTCString())?.getTime()).toBe(Math.floor(date.getTime() / 1000) * 1000);
      },
    ),
    { numRuns },
  );
}

/**
 * The whole handler, any request headers: never a 5xx, every body true to
 * the object, and a store that answers in one read (shaped like R2 or S3)
 * gets the same answer as the long way (metadata, then a guarded read).
 */
export async function handlerProperty(numRuns: number): Promise<void> {
  const headerValue = (etag: string) => fc.oneof(fieldText, fc.constantFrom(etag, `W/${etag}`, '*', 'Tue, 02 Jan 2024 03:04:05 GMT'));
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 4000 }),
      fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
      fc.option(fc.oneof(rangeHeader, fieldText), { nil: undefined }),
      fc.option(headerValue('"e"'), { nil: undefined }),
      fc.option(headerValue('"e"'), { nil: undefined }),
      fc.option(headerValue('"e"'), { nil: undefined }),
      fc.integer({ min: 1, max: 600 }),
      fc.constantFrom('r2', 's3'),
      fc.option(headerValue('"e"'), { nil: undefined }),
      fc.option(headerValue('"e"'), { nil: undefined }),
      async (length, method, range, ifRange, ifMatch, ifNoneMatch, chunkSize, like, ifModifiedSince, ifUnmodifiedSince) => {
        const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
        const store = new MemoryStore();
        store.chunkSize = chunkSize;
        store.objects.set('o', { bytes, etag: '"e"' });
        const headers: Record<string, string> = {};
        if (range !== undefined) headers.range = range;
        if (ifRange !== undefined) headers['if-range'] = ifRange;
        if (ifMatch !== undefined) headers['if-match'] = ifMatch;
        if (ifNoneMatch !== undefined) headers['if-none-match'] = ifNoneMatch;
        if (ifModifiedSince !== undefined) headers['if-modified-since'] = ifModifiedSince;
        if (ifUnmodifiedSince !== undefined) headers['if-unmodified-since'] = ifUnmodifiedSince;
        const res = await createApp({ store, log: false }).request('/o', { method, headers });
        const body = new Uint8Array(await res.arrayBuffer());
        expect([200, 206, 304, 412, 416]).toContain(res.status);

        const reading = new ReadingStore(like);
        reading.chunkSize = chunkSize;
        reading.objects.set('o', { bytes, etag: '"e"' });
        const once = await createApp({ store: reading, log: false }).request('/o', { method, headers });
        const onceBody = new Uint8Array(await once.arrayBuffer());
        expect(once.status).toBe(res.status);
        expect(reading.open).toBe(0);
        for (const name of ['content-range', 'content-length', 'etag', 'last-modified']) {
          expect(once.headers.get(name), name).toBe(res.headers.get(name));
        }
        if (!(res.headers.get('content-type') ?? '').startsWith('multipart/')) expect(onceBody).toEqual(body);

        if (method === 'HEAD' || res.status >= 300) return;
        expect(res.headers.get('content-length')).toBe(String(body.length));
        if (res.status === 200) {
          expect(body).toEqual(bytes);
          return;
        }
        const type = res.headers.get('content-type') ?? '';
        const parts = type.startsWith('multipart/')
          ? parseMultipart(body, boundaryOf(type))
          : [{ headers: { 'content-range': res.headers.get('content-range') ?? '' }, body }];
        for (const p of parts) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(p.headers['content-range'] ?? '');
          expect(m).not.toBeNull();
          expect(p.body).toEqual(bytes.subarray(Number(m![1]), Number(m![2]) + 1));
        }
      },
    ),
    { numRuns },
  );
}
