/** Retries, timeouts and the mapping of store trouble to 502/503/504; the log line and Server-Timing. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, type AppOptions } from '../../lib/app.ts';
import { StoreError, type StoreErrorKind } from '../../lib/store/types.ts';
import { MemoryStore } from '../support/memory-store.ts';

const FAST = { attempts: 3, baseMs: 2, maxMs: 5, timeoutMs: 200, budgetMs: 2000 };

let store: MemoryStore;
let lines: string[];
beforeEach(() => {
  store = new MemoryStore();
  store.objects.set('a.bin', { bytes: new Uint8Array(1000).fill(7), etag: '"v1"' });
  lines = [];
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
const app = (options: Partial<AppOptions> = {}) => createApp({ store, retry: FAST, log: (l) => lines.push(l), ...options });

/** Makes the first `n` calls of `op` fail with `kind`. */
function failFirst(n: number, op: 'head' | 'get', kind: StoreErrorKind) {
  let failures = 0;
  store.before = (call) => {
    if (call.op === op && failures < n) {
      failures++;
      throw new StoreError(kind, `injected ${kind}`);
    }
  };
}

describe('retries', () => {
  it.for<['head' | 'get', StoreErrorKind]>([
    ['head', 'unavailable'],
    ['get', 'unavailable'],
    ['head', 'overloaded'],
    ['get', 'timeout'],
  ])('a %s failing twice with %s is retried to success', async ([op, kind]) => {
    failFirst(2, op, kind);
    const res = await app().request('/a.bin', { headers: { range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(10);
    expect(store.calls.filter((c) => c.op === op)).toHaveLength(3);
    expect(JSON.parse(lines[0]!).retries).toBe(2);
  });

  it.for<[StoreErrorKind, number, string | null]>([
    ['unavailable', 502, null],
    ['overloaded', 503, '1'],
    ['timeout', 504, null],
  ])('%s that persists: %i after 3 attempts', async ([kind, status, retryAfter]) => {
    failFirst(99, 'get', kind);
    const res = await app().request('/a.bin');
    expect(res.status).toBe(status);
    expect(res.headers.get('retry-after')).toBe(retryAfter);
    expect(await res.text()).not.toContain('injected');
    expect(store.calls.filter((c) => c.op === 'get')).toHaveLength(3);
  });

  it('never retries a changed or missing object beyond the one start-over', async () => {
    store.before = (call) => {
      if (call.op === 'get') throw new StoreError('changed', 'v2 now');
    };
    expect((await app().request('/a.bin')).status).toBe(503);
    expect(store.calls.filter((c) => c.op === 'get')).toHaveLength(2);
  });

  it.for<[number, number, number]>([
    // Retry-After (ms), the retry budget (ms), GETs made
    [150, 2000, 2],
    [5000, 2000, 1],
  ])("a store's Retry-After of %i ms with a budget of %i ms: %i GETs", async ([after, budgetMs, gets]) => {
    let failed = false;
    store.before = (call) => {
      if (call.op === 'get' && !failed) {
        failed = true;
        throw new StoreError('overloaded', 'slow down', { retryAfterMs: after });
      }
    };
    const started = Date.now();
    const res = await app({ retry: { ...FAST, budgetMs } }).request('/a.bin');
    expect(store.calls.filter((c) => c.op === 'get')).toHaveLength(gets);
    if (gets === 2) {
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(after); // never sooner than asked
    } else {
      expect(res.status).toBe(503); // not worth waiting past the budget
    }
  });

  it('stops retrying when the time budget is spent', async () => {
    failFirst(99, 'head', 'unavailable');
    const res = await app({ retry: { ...FAST, attempts: 100, baseMs: 20, maxMs: 20, budgetMs: 100 } }).request('/a.bin');
    expect(res.status).toBe(502);
    expect(store.calls.length).toBeLessThan(20);
  });
});

describe('timeouts', () => {
  it('abandons a call that does not answer, cancels its late body, and answers 504', async () => {
    const late: ReadableStream<Uint8Array>[] = [];
    const get = store.get.bind(store);
    store.get = async (...args) => {
      const body = await get(...args);
      await new Promise((r) => setTimeout(r, 300));
      late.push(body);
      return body;
    };
    const res = await app({ retry: { ...FAST, attempts: 2, timeoutMs: 50 } }).request('/a.bin');
    expect(res.status).toBe(504);
    await vi.waitFor(() => expect(late).toHaveLength(2));
    await vi.waitFor(() => expect(store.open).toBe(0));
  });
});

describe('observability', () => {
  it('writes one JSON line per request, and Server-Timing', async () => {
    const res = await app().request('/a.bin', { headers: { range: 'bytes=0-9,500-509' } });
    await res.arrayBuffer();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: expect.any(String),
      method: 'GET',
      path: '/a.bin',
      status: 206,
      range: 'bytes=0-9,500-509',
      rangesAsked: 2,
      served: '2 parts',
      bytes: Number(res.headers.get('content-length')),
      heads: 1,
      gets: 1,
      retries: 0,
      storeMs: expect.any(Number),
      ms: expect.any(Number),
    });
    expect(res.headers.get('server-timing')).toMatch(/^store;dur=\d+;desc="2 calls, 0 retries", total;dur=\d+$/);
  });

  it.for<[string, Record<string, string>, number, string | null]>([
    ['full', {}, 200, 'full'],
    ['one range', { range: 'bytes=-10' }, 206, '990-999'],
    ['HEAD', {}, 200, 'headers'],
    ['416', { range: 'bytes=5000-' }, 416, 'none'],
    ['304', { 'if-none-match': '"v1"' }, 304, null],
  ])('logs what was served: %s', async ([name, headers, status, served]) => {
    const res = await app().request('/a.bin', { method: name === 'HEAD' ? 'HEAD' : 'GET', headers });
    expect(res.status).toBe(status);
    expect(JSON.parse(lines[0]!).served).toBe(served);
  });

  it('keeps a huge Range header out of the line', async () => {
    const range = 'bytes=' + Array.from({ length: 5000 }, (_, i) => `${i}-${i}`).join(',');
    await app().request('/a.bin', { headers: { range } });
    expect(JSON.parse(lines[0]!).range).toHaveLength(200);
  });
});
