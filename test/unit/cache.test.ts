/**
 * The edge cache's logic over an in-memory store (lib/cache): ranges served
 * from slices byte-exact, what each request costs the store, a replaced
 * object, a slice of the wrong length, a client that aborts. The same
 * points run against real stores in test/node/cache.test.ts and inside
 * workerd in test/workers/cache.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { BodyLengthError } from '../../lib/body.ts';
import { memorySlices } from '../../lib/cache/memory.ts';
import { MetadataCache } from '../../lib/cache/metadata.ts';
import { SliceFiller, SliceGrid } from '../../lib/cache/slices.ts';
import type { ObjectCache } from '../../lib/cache/store.ts';
import type { SliceCache } from '../../lib/cache/types.ts';
import { httpStore } from '../../lib/store/http.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { MemoryStore, ReadingStore } from '../support/memory-store.ts';
import { ModelOrigin } from '../support/model-origin.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';

const S = 100; // slice size
const N = 10 * S + 37; // ten whole slices and a partial one
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed + (i >> 7)) & 0xff);

interface Harness {
  store: MemoryStore;
  cache: ObjectCache;
  slices: ReturnType<typeof memorySlices>;
  clock: { ms: number };
  /** Sends a request; resolves after the response and its background work (slices stored) are done. */
  fetch(path: string, headers?: Record<string, string>): Promise<{ res: Response; body: Uint8Array; calls: number; gets: number }>;
}

function harness({
  ttl = 10,
  sliceCache,
  maxUpstreamGets,
  callsPerRequest,
  store = new MemoryStore(),
}: {
  ttl?: number;
  sliceCache?: (inner: SliceCache) => SliceCache;
  maxUpstreamGets?: number;
  /** The slice cache calls one request may make (Workers: capped); default none. */
  callsPerRequest?: number;
  /** The store under the cache (a ReadingStore for the one-call read); default a MemoryStore. */
  store?: MemoryStore;
} = {}): Harness {
  store.chunkSize = 37; // chunks cross slice edges
  store.objects.set('o', { bytes: bytesOf(N, 0), etag: '"v1"' });
  store.objects.set('empty', { bytes: new Uint8Array(0), etag: '"e"' });
  const clock = { ms: 1_000_000 }; // lru-cache reads a start time of 0 as "no TTL"
  const slices = memorySlices(1 << 20);
  const cache: ObjectCache = {
    slices: sliceCache ? sliceCache(slices) : slices,
    metadata: new MetadataCache(ttl, { now: () => clock.ms }),
    sliceSize: S,
    ...(callsPerRequest !== undefined && { callsPerRequest }),
  };
  const app = createApp({ store, cache, log: false, ...(maxUpstreamGets !== undefined && { limits: { maxUpstreamGets } }) });
  return {
    store,
    cache,
    slices,
    clock,
    async fetch(path, headers = {}) {
      const before = store.calls.length;
      const pending: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} };
      const res = await app.request(path, { headers }, undefined, ctx);
      const body = new Uint8Array(await res.arrayBuffer());
      await Promise.all(pending);
      const calls = store.calls.slice(before);
      return { res, body, calls: calls.length, gets: calls.filter((c) => c.op === 'get').length };
    },
  };
}

/** The body of a 206, single or multipart, as [start, end, bytes] per part. */
function partsOf(res: Response, body: Uint8Array): Array<[number, number, Uint8Array]> {
  const type = res.headers.get('content-type') ?? '';
  const parts = type.startsWith('multipart/')
    ? parseMultipart(body, boundaryOf(type)).map((p) => ({ range: p.headers['content-range']!, body: p.body }))
    : [{ range: res.headers.get('content-range')!, body }];
  return parts.map((p) => {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(p.range)!;
    return [Number(m[1]), Number(m[2]), p.body];
  });
}

const RANGES: ReadonlyArray<{ name: string; range: string; parts: Array<[number, number]> }> = [
  { name: 'inside one slice', range: 'bytes=110-150', parts: [[110, 150]] },
  { name: 'starting and ending inside slices, across boundaries', range: 'bytes=150-449', parts: [[150, 449]] },
  { name: 'exactly one slice', range: 'bytes=200-299', parts: [[200, 299]] },
  { name: 'one byte at a slice edge', range: 'bytes=300-300', parts: [[300, 300]] },
  { name: 'suffix', range: 'bytes=-250', parts: [[N - 250, N - 1]] },
  { name: 'open range', range: 'bytes=777-', parts: [[777, N - 1]] },
  { name: 'the last, partial slice', range: `bytes=${10 * S}-${N - 1}`, parts: [[10 * S, N - 1]] },
  { name: 'past the end, clamped', range: 'bytes=990-99999', parts: [[990, N - 1]] },
  { name: 'multipart over slices', range: 'bytes=0-9,250-260,1030-', parts: [[0, 9], [250, 260], [1030, N - 1]] },
];

describe('a range from slices', () => {
  it.for(RANGES)('$name: byte-exact, and the second time no store call', async (c) => {
    const h = harness();
    const object = h.store.objects.get('o')!.bytes;
    for (const round of [1, 2]) {
      const { res, body, calls } = await h.fetch('/o', { range: c.range });
      expect(res.status, `round ${round}`).toBe(206);
      expect(res.headers.get('content-length')).toBe(String(body.length));
      const parts = partsOf(res, body);
      expect(parts.map(([s, e]) => [s, e])).toEqual(c.parts);
      for (const [s, e, bytes] of parts) expect(bytes).toEqual(object.subarray(s, e + 1));
      if (round === 1) expect(calls).toBeGreaterThanOrEqual(2);
      else expect(calls, 'store calls the second time').toBe(0);
    }
    expect(h.store.open).toBe(0);
  });

  it('the whole object, twice: one HEAD and one GET, then nothing', async () => {
    const h = harness();
    const first = await h.fetch('/o');
    expect(first.body).toEqual(h.store.objects.get('o')!.bytes);
    expect([first.calls, first.gets]).toEqual([2, 1]);
    const second = await h.fetch('/o');
    expect(second.body).toEqual(h.store.objects.get('o')!.bytes);
    expect(second.calls).toBe(0);
  });

  it('with METADATA_TTL=0 the second time costs one HEAD and no GET', async () => {
    const h = harness({ ttl: 0 });
    await h.fetch('/o', { range: 'bytes=150-449' });
    const { res, body, calls, gets } = await h.fetch('/o', { range: 'bytes=150-449' });
    expect(res.status).toBe(206);
    expect(body).toEqual(h.store.objects.get('o')!.bytes.subarray(150, 450));
    expect([calls, gets]).toEqual([1, 0]);
  });

  it('each run of missing slices is one GET of whole slices; hits between runs cost nothing', async () => {
    const h = harness();
    await h.fetch('/o', { range: 'bytes=300-399' }); // slice 3
    await h.fetch('/o', { range: 'bytes=600-699' }); // slice 6
    const before = h.store.calls.length;
    const { body } = await h.fetch('/o', { range: 'bytes=150-850' }); // slices 1–8: runs 1–2, 4–5, 7–8
    expect(body).toEqual(h.store.objects.get('o')!.bytes.subarray(150, 851));
    const spans = h.store.calls.slice(before).flatMap((c) => (c.op === 'get' ? [c.span] : []));
    expect(spans).toEqual([
      { offset: 100, length: 200 },
      { offset: 400, length: 200 },
      { offset: 700, length: 200 },
    ]);
    expect(h.store.calls.slice(before).every((c) => c.op !== 'get' || c.etag === '"v1"')).toBe(true);
  });

  it('a zero-length object: 200 empty, 416 for a-, and no GET', async () => {
    const h = harness();
    for (const round of [1, 2]) {
      const plain = await h.fetch('/empty');
      expect([plain.res.status, plain.body.length, plain.gets]).toEqual([200, 0, 0]);
      const suffix = await h.fetch('/empty', { range: 'bytes=-5' });
      expect([suffix.res.status, suffix.body.length]).toEqual([200, 0]);
      const open = await h.fetch('/empty', { range: 'bytes=0-' });
      expect([open.res.status, open.res.headers.get('content-range')]).toEqual([416, 'bytes */0']);
      if (round === 2) expect(plain.calls + suffix.calls + open.calls).toBe(0);
    }
  });

  it('says hits, misses, store calls and bytes read in the log line and Server-Timing', async () => {
    const h = harness();
    const lines: string[] = [];
    const app = createApp({ store: h.store, cache: h.cache, log: (l) => lines.push(l) });
    const first = await app.request('/o', { headers: { range: 'bytes=150-449' } });
    await first.arrayBuffer();
    const second = await app.request('/o', { headers: { range: 'bytes=150-449' } });
    await second.arrayBuffer();
    expect(JSON.parse(lines[0]!)).toMatchObject({ heads: 1, gets: 1, sliceHits: 0, sliceMisses: 4, metadataHits: 0, bytesRead: 400 });
    expect(JSON.parse(lines[1]!)).toMatchObject({ heads: 0, gets: 0, sliceHits: 4, sliceMisses: 0, metadataHits: 1, bytesRead: 0 });
    expect(first.headers.get('server-timing')).toMatch(
      /^store;dur=\d+;desc="2 calls, 0 retries", cache;desc="0 hits, 4 misses, 0 metadata hits, 400 bytes read", total;dur=\d+$/,
    );
    expect(second.headers.get('server-timing')).toMatch(/desc="0 calls, 0 retries", cache;desc="4 hits, 0 misses, 1 metadata hits, 0 bytes read"/);
  });
});

describe('an object replaced', () => {
  it('within METADATA_TTL: the previous version, whole; a missing slice meets If-Match and the request starts over on the new one', async () => {
    const h = harness();
    const v1 = h.store.objects.get('o')!.bytes;
    const v2 = bytesOf(N + 50, 99);
    await h.fetch('/o', { range: 'bytes=0-299' }); // slices 0–2 of v1 cached
    h.store.objects.set('o', { bytes: v2, etag: '"v2"' });

    // All slices cached: v1, whole and consistent (the documented staleness).
    const cached = await h.fetch('/o', { range: 'bytes=50-250' });
    expect(cached.res.headers.get('etag')).toBe('"v1"');
    expect(cached.body).toEqual(v1.subarray(50, 251));
    expect(cached.calls).toBe(0);

    // A missing slice: its GET carries If-Match "v1", fails, and the answer is all v2.
    const mixed = await h.fetch('/o', { range: 'bytes=50-450' });
    expect(mixed.res.status).toBe(206);
    expect(mixed.res.headers.get('etag')).toBe('"v2"');
    expect(mixed.res.headers.get('content-range')).toBe(`bytes 50-450/${N + 50}`);
    expect(mixed.body).toEqual(v2.subarray(50, 451));

    // The stale metadata was dropped: from now on v2.
    const after = await h.fetch('/o', { range: 'bytes=50-250' });
    expect(after.res.headers.get('etag')).toBe('"v2"');
    expect(after.body).toEqual(v2.subarray(50, 251));
  });

  it('after METADATA_TTL: the new version, never a mix', async () => {
    const h = harness();
    await h.fetch('/o', { range: 'bytes=0-299' });
    const v2 = bytesOf(N, 55);
    h.store.objects.set('o', { bytes: v2, etag: '"v2"' });
    h.clock.ms += 10_001;
    const { res, body } = await h.fetch('/o', { range: 'bytes=0-299' });
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(body).toEqual(v2.subarray(0, 300));
  });
});

describe("an HTTP origin's weak validators (the HTTP store under the cache)", () => {
  // Replaced with bytes of the same length and the same weak ETag (or none),
  // one second later: only Last-Modified tells the versions apart, as it
  // does for the HTTP store's guard (If-Unmodified-Since).
  it.for([
    { name: 'a weak ETag that stays the same', etag: 'W/"same"' },
    { name: 'only Last-Modified (a made-up weak tag)', etag: undefined },
  ])('$name: the new version after METADATA_TTL, never the old slices; GETs guarded by the date, never If-Match', async ({ etag }) => {
    const origin = new ModelOrigin();
    origin.chunkSize = 37;
    const v1 = bytesOf(N, 0);
    const v2 = bytesOf(N, 77);
    origin.objects.set('o', { bytes: v1, etag, lastModified: new Date('2024-01-02T03:04:05Z') });
    const guards: string[] = [];
    const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (request.method === 'GET') guards.push(...['if-match', 'if-unmodified-since'].filter((f) => request.headers.has(f)));
      return origin.fetch(request);
    };
    const clock = { ms: 1_000_000 };
    const cache: ObjectCache = { slices: memorySlices(1 << 20), metadata: new MetadataCache(10, { now: () => clock.ms }), sliceSize: S };
    const app = createApp({ store: httpStore({ url: new URL('http://origin.test/'), fetch }), cache, log: false });
    const ask = async (range: string) => {
      const pending: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} };
      const res = await app.request('/o', { headers: { range } }, undefined, ctx);
      const body = new Uint8Array(await res.arrayBuffer());
      await Promise.all(pending);
      return partsOf(res, body);
    };
    // Several ranges: the long way (HEAD, then a guarded GET per run of missing slices).
    const range = 'bytes=0-99,450-650,1000-';
    for (const [s, e, bytes] of await ask(range)) expect(bytes).toEqual(v1.subarray(s, e + 1));
    expect(guards.length).toBeGreaterThan(0);

    origin.objects.set('o', { bytes: v2, etag, lastModified: new Date('2024-01-02T03:04:06Z') });
    clock.ms += 10_001;
    for (const [s, e, bytes] of await ask(range)) expect(bytes).toEqual(v2.subarray(s, e + 1));
    expect(origin.guardedGets).toBe(guards.filter((g) => g === 'if-unmodified-since').length);
    expect(guards).not.toContain('if-match');
  });
});

describe('slices that are not what they claim', () => {
  it('a cached slice of the wrong length is a miss, never served', async () => {
    // The cache hands back a slice one byte short while stating the right length.
    let corrupt = true;
    const h = harness({
      sliceCache: (inner) => ({
        ...inner,
        async match(id) {
          const found = await inner.match(id);
          if (!found || !corrupt) return found;
          return { length: found.length, read: async () => (await found.read()).subarray(1) };
        },
      }),
    });
    const object = h.store.objects.get('o')!.bytes;
    corrupt = false;
    await h.fetch('/o', { range: 'bytes=0-299' });
    corrupt = true;
    const { body, gets } = await h.fetch('/o', { range: 'bytes=0-299' });
    expect(body).toEqual(object.subarray(0, 300));
    expect(gets).toBe(3); // each short slice read again from the store
  });

  it('a cached slice stating the wrong length is a miss too', async () => {
    const h = harness({
      sliceCache: (inner) => ({
        ...inner,
        async match(id) {
          const found = await inner.match(id);
          return found && { ...found, length: found.length + 1 };
        },
      }),
    });
    await h.fetch('/o', { range: 'bytes=0-99' });
    const { body, gets } = await h.fetch('/o', { range: 'bytes=0-99' });
    expect(body).toEqual(h.store.objects.get('o')!.bytes.subarray(0, 100));
    expect(gets).toBe(1);
  });
});

describe('a client that aborts', () => {
  it('leaves no partial slice behind, and nothing open', async () => {
    const h = harness();
    h.store.chunkSize = 30;
    const app = createApp({ store: h.store, cache: h.cache, log: false });
    const res = await app.request('/o', { headers: { range: 'bytes=0-999' } });
    const reader = res.body!.getReader();
    await reader.read(); // 30 bytes: slice 0 partly filled
    await reader.read();
    await reader.cancel(new Error('client went away'));
    await vi.waitFor(() => expect(h.store.open).toBe(0));
    // Nothing stored from the aborted GET but whole slices; here not even one.
    expect(h.slices.bytes()).toBe(0);
    const again = await h.fetch('/o', { range: 'bytes=0-999' });
    expect(again.body).toEqual(h.store.objects.get('o')!.bytes.subarray(0, 1000));
  });

  it('mid-run: the slices completed are whole, the one in progress is dropped', async () => {
    const h = harness();
    h.store.chunkSize = 30;
    const app = createApp({ store: h.store, cache: h.cache, log: false });
    const res = await app.request('/o', { headers: { range: 'bytes=0-999' } });
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 250) got += (await reader.read()).value!.length; // slices 0 and 1 complete, 2 partial
    await reader.cancel();
    await vi.waitFor(() => expect(h.store.open).toBe(0));
    expect(h.slices.bytes()).toBe(200);
    const again = await h.fetch('/o', { range: 'bytes=0-999' });
    expect(again.body).toEqual(h.store.objects.get('o')!.bytes.subarray(0, 1000));
    expect(again.gets).toBe(1); // slices 2–9, one run
  });
});

describe('SliceFiller', () => {
  it('stores only whole slices, whatever the chunking', () => {
    const grid = new SliceGrid(N, S);
    const data = bytesOf(N, 3);
    for (const from of [0, 50, 100]) {
      for (const chunk of [1, 7, 100, 333, N]) {
        const stored: Array<[number, Uint8Array]> = [];
        const filler = new SliceFiller(grid, from, (i, b) => stored.push([i, b]));
        for (let at = from; at < N; at += chunk) filler.write(data.subarray(at, Math.min(N, at + chunk)));
        const first = Math.ceil(from / S);
        expect(stored.map(([i]) => i)).toEqual(Array.from({ length: 11 - first }, (_, k) => first + k));
        for (const [i, b] of stored) expect(b).toEqual(data.subarray(i * S, Math.min(N, (i + 1) * S)));
      }
    }
  });

  it('refuses bytes past the object', () => {
    const filler = new SliceFiller(new SliceGrid(10, 4), 8, () => {});
    expect(() => filler.write(new Uint8Array(3))).toThrow(BodyLengthError);
  });
});

describe('the in-memory slice cache', () => {
  it('keeps within its byte budget', async () => {
    const slices = memorySlices(1000);
    for (let i = 0; i < 50; i++) {
      await slices.put({ key: 'k', etag: '"e"', size: 1e6, sliceSize: 100, index: i }, new Uint8Array(100));
      expect(slices.bytes()).toBeLessThanOrEqual(1000);
    }
    expect(await slices.match({ key: 'k', etag: '"e"', size: 1e6, sliceSize: 100, index: 49 })).toBeDefined();
    expect(await slices.match({ key: 'k', etag: '"e"', size: 1e6, sliceSize: 100, index: 0 })).toBeUndefined();
  });
});

/** Type check: the cache decorates any ObjectStore. */
export type _Decorates = ObjectStore;

describe('a budget of slice cache calls per request (Workers): a body longer than it reaches is the store\'s', () => {
  // 8 calls: 4 lookups and 4 stores, so the cache reaches a body that touches at most 4 slices.
  const FOUR = 4 * S;
  /** cached: bytes of slices stored after both passes, over head + get and over a one-call read alike. */
  const CASES: ReadonlyArray<{ name: string; range?: string; start: number; end: number; cached: number }> = [
    { name: 'a closed range of 4 slices', range: 'bytes=0-399', start: 0, end: 399, cached: FOUR },
    { name: 'a closed range touching 5 slices', range: 'bytes=0-400', start: 0, end: 400, cached: 0 },
    { name: 'a closed range of 4 slices\' length touching 5', range: 'bytes=150-549', start: 150, end: 549, cached: 0 },
    { name: 'a suffix longer than 4 slices', range: 'bytes=-450', start: N - 450, end: N - 1, cached: 0 },
    { name: 'the whole object (11 slices)', start: 0, end: N - 1, cached: 0 },
    { name: 'an open range from a slice edge, 9 slices', range: 'bytes=200-', start: 200, end: N - 1, cached: 0 },
    { name: 'an open range from a slice edge, 4 slices', range: 'bytes=700-', start: 700, end: N - 1, cached: N - 700 },
    { name: 'an open range inside a slice, 10 slices', range: 'bytes=150-', start: 150, end: N - 1, cached: 0 },
    // Within reach: cut from slices. A one-call read that knows no length yet asks for it as it is
    // (not widened to the slice edge) and stores slices 8–10 first; the warm pass reads slice 7.
    { name: 'an open range inside a slice, 4 slices', range: 'bytes=750-', start: 750, end: N - 1, cached: N - 700 },
    { name: 'a suffix of 250 bytes (4 slices)', range: 'bytes=-250', start: N - 250, end: N - 1, cached: N - 700 },
  ];

  it.for(CASES)('$name: byte-exact twice, $cached bytes of slices stored', async (c) => {
    for (const store of [new MemoryStore(), new ReadingStore('r2')]) {
      const h = harness({ store, callsPerRequest: 8 });
      const object = store.objects.get('o')!.bytes;
      for (const pass of ['cold', 'warm']) {
        const { body } = await h.fetch('/o', c.range ? { range: c.range } : {});
        expect(body, `${store.constructor.name}, ${pass}`).toEqual(object.subarray(c.start, c.end + 1));
      }
      expect(h.slices.bytes(), store.constructor.name).toBe(c.cached);
    }
  });
});

describe('store GETs stay within MAX_UPSTREAM_GETS (one request, cache on)', () => {
  /** A fresh app over an object of `length` bytes with these limits; `ask` resolves after background work. */
  function setup(length: number, sliceSize: number, limits: { maxUpstreamGets: number; upstreamGap: number; maxRanges: number }) {
    const store = new MemoryStore();
    store.chunkSize = 5;
    const bytes = bytesOf(length, 0);
    store.objects.set('o', { bytes, etag: '"e"' });
    const cache: ObjectCache = { slices: memorySlices(1 << 20), metadata: new MetadataCache(10), sliceSize };
    const app = createApp({ store, cache, concurrency: 1, limits, log: false });
    const ask = async (range: string) => {
      const before = store.calls.length;
      const pending: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} };
      const res = await app.request('/o', { headers: { range } }, undefined, ctx);
      const body = new Uint8Array(await res.arrayBuffer());
      await Promise.all(pending);
      const gets = store.calls.slice(before).flatMap((c) => (c.op === 'get' ? [c.span] : []));
      return { res, body, gets };
    };
    return { store, bytes, ask };
  }

  it('a planned GET whose slices are split by one cached earlier in the same response (fast-check seed 2023436475)', async () => {
    // Slices of 192: 0 [0,191], 1, 2 [384,575], 3 [576,767], 4 [768]. The plan has 5 GETs; the
    // first stores slice 3, so the fifth (574-768) finds misses 2 and 4 around a hit: two runs
    // would make a sixth store GET. Within the cap they are one GET across slice 3.
    const { bytes, ask } = setup(769, 192, { maxUpstreamGets: 5, upstreamGap: 0, maxRanges: 5 });
    const { res, body, gets } = await ask('bytes=576-576,0-0,0-0,0-0,574-');
    expect(res.status).toBe(206);
    const parts = partsOf(res, body);
    expect(parts.map(([s, e]) => [s, e])).toEqual([
      [576, 576],
      [0, 0],
      [0, 0],
      [0, 0],
      [574, 768],
    ]);
    for (const [s, e, b] of parts) expect(b).toEqual(bytes.subarray(s, e + 1));
    expect(gets.length).toBeLessThanOrEqual(5);
    expect(gets.at(-1)).toEqual({ offset: 384, length: 769 - 384 }); // slices 2–4 in one GET
  });
});

describe('runs of missing slices within the GET cap (MAX_UPSTREAM_GETS)', () => {
  const spansOf = (h: Harness, before: number) => h.store.calls.slice(before).flatMap((c) => (c.op === 'get' ? [c.span] : []));

  // Slices 3 and 6 cached; 150-850 touches 1–8: misses 1–2, 4–5, 7–8.
  it.for([
    { cap: 1, spans: [{ offset: 100, length: 800 }] },
    { cap: 2, spans: [{ offset: 100, length: 200 }, { offset: 400, length: 500 }] },
    { cap: 3, spans: [{ offset: 100, length: 200 }, { offset: 400, length: 200 }, { offset: 700, length: 200 }] },
  ])('cap $cap: runs beyond it are joined across the cached slices between', async ({ cap, spans }) => {
    const h = harness({ maxUpstreamGets: cap });
    await h.fetch('/o', { range: 'bytes=300-399' });
    await h.fetch('/o', { range: 'bytes=600-699' });
    const before = h.store.calls.length;
    const put = vi.spyOn(h.slices, 'put');
    const { res, body } = await h.fetch('/o', { range: 'bytes=150-850' });
    expect(res.status).toBe(206);
    expect(body).toEqual(h.store.objects.get('o')!.bytes.subarray(150, 851));
    expect(spansOf(h, before)).toEqual(spans);
    // Slices read again only to keep to the cap are not stored again.
    expect(put.mock.calls.map(([id]) => id.index)).toEqual([1, 2, 4, 5, 7, 8]);
  });

  // 2000 bytes in slices of 10: 200 slices, looked up 64 at a time, all missing.
  it.for([
    { cap: 1, spans: [{ offset: 0, length: 2000 }] },
    { cap: 2, spans: [{ offset: 0, length: 640 }, { offset: 640, length: 1360 }] },
    {
      cap: 100,
      spans: [
        { offset: 0, length: 640 },
        { offset: 640, length: 640 },
        { offset: 1280, length: 640 },
        { offset: 1920, length: 80 },
      ],
    },
  ])('cap $cap: a span longer than one lookup window', async ({ cap, spans }) => {
    const store = new MemoryStore();
    store.chunkSize = 37;
    const bytes = bytesOf(2000, 3);
    store.objects.set('o', { bytes, etag: '"e"' });
    const cache: ObjectCache = { slices: memorySlices(1 << 20), metadata: new MetadataCache(10), sliceSize: 10 };
    const app = createApp({ store, cache, limits: { maxUpstreamGets: cap }, log: false });
    await app.request('/o', { method: 'HEAD' }); // metadata cached: the long way, slice by slice
    const before = store.calls.length;
    const res = await app.request('/o', { headers: { range: 'bytes=0-' } });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(store.calls.slice(before).flatMap((c) => (c.op === 'get' ? [c.span] : []))).toEqual(spans);
  });

  // Slices 0–2 cached, slice 0 damaged when read; 0-399 also misses slice 3 (its GET opens first).
  it.for([
    { cap: 1, whole: false, gets: 1 },
    { cap: 2, whole: true, gets: 2 },
  ])('cap $cap: a damaged slice needing one more GET than the cap fails the body (whole: $whole)', async ({ cap, whole, gets }) => {
    let damage = false;
    const h = harness({
      maxUpstreamGets: cap,
      sliceCache: (inner) => ({
        ...inner,
        async match(id) {
          const found = await inner.match(id);
          if (!found || !damage || id.index !== 0) return found;
          return { length: found.length, read: async () => (await found.read()).subarray(1) };
        },
      }),
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await h.fetch('/o', { range: 'bytes=0-299' });
    damage = true;
    const before = h.store.calls.length;
    const object = h.store.objects.get('o')!.bytes;
    if (whole) expect((await h.fetch('/o', { range: 'bytes=0-399' })).body).toEqual(object.subarray(0, 400));
    else await expect(h.fetch('/o', { range: 'bytes=0-399' })).rejects.toThrow();
    await vi.waitFor(() => expect(h.store.open).toBe(0));
    expect(spansOf(h, before).length).toBe(gets);
    damage = false;
    // Never served damaged again: dropped, or (read from the store) stored again whole.
    const slice0 = await h.slices.match({ key: 'o', etag: '"v1"', size: N, sliceSize: S, index: 0 });
    expect(slice0 && (await slice0.read())).toEqual(whole ? object.subarray(0, 100) : undefined);
  });
});
