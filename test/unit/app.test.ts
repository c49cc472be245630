/** The handler's logic, with an in-memory store: retries, failures, mounting. */
import { Hono } from 'hono';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, edgeRanges } from '../../lib/app.ts';
import { StoreError } from '../../lib/store/types.ts';
import { MemoryStore } from '../support/memory-store.ts';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
  store.objects.set('a.bin', { bytes: bytes(1000), etag: '"v1"' });
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

describe('reading the store', () => {
  it('asks for exactly the range, guarded by the ETag it announces', async () => {
    const res = await createApp({ store }).request('/a.bin', { headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes(1000).slice(10, 20));
    expect(store.calls).toEqual([
      { op: 'head', key: 'a.bin' },
      { op: 'get', key: 'a.bin', etag: '"v1"', span: { offset: 10, length: 10 } },
    ]);
  });

  it('answers HEAD from metadata alone', async () => {
    const res = await createApp({ store }).request('/a.bin', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('1000');
    expect(store.calls.map((c) => c.op)).toEqual(['head']);
  });

  it('does not read the body for 304, 412 or 416', async () => {
    const app = createApp({ store });
    expect((await app.request('/a.bin', { headers: { 'if-none-match': '"v1"' } })).status).toBe(304);
    expect((await app.request('/a.bin', { headers: { 'if-match': '"v0"' } })).status).toBe(412);
    expect((await app.request('/a.bin', { headers: { range: 'bytes=5000-' } })).status).toBe(416);
    expect(store.calls.every((c) => c.op === 'head')).toBe(true);
  });

  it('starts over once when the object is replaced between metadata and read', async () => {
    store.before = (call) => {
      if (call.op === 'get' && call.etag === '"v1"') store.objects.set('a.bin', { bytes: bytes(500, 1), etag: '"v2"' });
    };
    const res = await createApp({ store }).request('/a.bin', { headers: { range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.headers.get('content-range')).toBe('bytes 0-9/500');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes(500, 1).slice(0, 10));
    expect(store.calls.map((c) => c.op)).toEqual(['head', 'get', 'head', 'get']);
  });

  it('gives up with 503 and Retry-After when the object keeps changing', async () => {
    let version = 1;
    store.before = (call) => {
      if (call.op === 'get') store.objects.set('a.bin', { bytes: bytes(10), etag: `"v${++version}"` });
    };
    const res = await createApp({ store }).request('/a.bin');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(store.calls.filter((c) => c.op === 'get')).toHaveLength(2);
  });

  it('answers 404 when the object disappears before the read', async () => {
    store.before = (call) => {
      if (call.op === 'get') store.objects.delete('a.bin');
    };
    expect((await createApp({ store }).request('/a.bin')).status).toBe(404);
  });

  it.for(['head', 'get'] as const)('maps a failing store (%s) to 502 without its text', async (op) => {
    store.before = (call) => {
      if (call.op === op) throw new StoreError('unavailable', 'S3: secret internal detail <Error>…</Error>');
    };
    const res = await createApp({ store }).request('/a.bin');
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).toBe('Bad Gateway: the object store failed\n');
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining('secret internal detail'));
  });

  it('maps a bug to a bare 500', async () => {
    store.before = () => {
      throw new TypeError('oops at line 42');
    };
    const res = await createApp({ store }).request('/a.bin');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Internal Server Error\n');
  });

  it('errors the body stream when the store sends fewer bytes than announced', async () => {
    store.truncate = 3;
    const res = await createApp({ store }).request('/a.bin', { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe('100');
    await expect(res.arrayBuffer()).rejects.toThrow('body ended after 97 of 100 bytes');
  });
});

describe('options', () => {
  it('confines keys under keyPrefix', async () => {
    store.objects.set('public/a.bin', { bytes: bytes(5), etag: '"p"' });
    const res = await createApp({ store, keyPrefix: 'public/' }).request('/a.bin');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"p"');
    expect(store.calls[0]).toEqual({ op: 'head', key: 'public/a.bin' });
  });

  it('mounts as middleware in another Hono app', async () => {
    const app = new Hono();
    app.get('/health', (c) => c.text('ok'));
    app.use('/media/*', edgeRanges({ store: () => store, rewriteRequestPath: (p) => p.replace(/^\/media/, '') }));
    expect(await (await app.request('/health')).text()).toBe('ok');
    const res = await app.request('/media/a.bin', { headers: { range: 'bytes=-2' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 998-999/1000');
    expect((await app.request('/other/a.bin')).status).toBe(404);
  });
});

describe('one GET for plain requests (stores with read)', () => {
  /** The in-memory store, able to answer metadata and bytes in one call, as S3 and R2 do. */
  function reading(s: MemoryStore, served?: (size: number) => { start: number; end: number }) {
    const reads: Array<string | undefined> = [];
    const store = {
      head: s.head.bind(s),
      get: s.get.bind(s),
      async read(key: string, range: { first: number; last: number } | { suffix: number } | undefined) {
        reads.push(range && JSON.stringify(range));
        const o = s.objects.get(key);
        if (!o) return null;
        const size = o.bytes.length;
        const start = range === undefined ? 0 : 'suffix' in range ? Math.max(0, size - range.suffix) : range.first;
        const end = range === undefined || 'suffix' in range ? size - 1 : Math.min(range.last, size - 1);
        if (start >= size) return 'unsatisfiable' as const;
        const r = served?.(size) ?? { start, end };
        const body = new Blob([o.bytes.slice(r.start, r.end + 1)]).stream();
        return { meta: { size, etag: o.etag, http: {} }, body, range: range === undefined ? undefined : r };
      },
    };
    return { store, reads };
  }

  it.for<[string, Record<string, string>, number, string[]]>([
    ['no Range: one read', {}, 200, ['read']],
    ['one range: one read', { range: 'bytes=10-19' }, 206, ['read']],
    ['a suffix: one read', { range: 'bytes=-5' }, 206, ['read']],
    ['a conditional request looks the metadata up first', { 'if-none-match': '"x"' }, 200, ['head', 'get']],
    ['several ranges look the metadata up first', { range: 'bytes=0-0,500-500' }, 206, ['head', 'get']],
    ['an unsatisfiable range goes the long way', { range: 'bytes=5000-' }, 416, ['read', 'head']],
  ])('%s', async ([, headers, status, ops]) => {
    const { store: one, reads } = reading(store);
    const res = await createApp({ store: one, log: false }).request('/a.bin', { headers });
    expect(res.status).toBe(status);
    await res.arrayBuffer();
    expect([...reads.map(() => 'read'), ...store.calls.map((c) => c.op)]).toEqual(ops);
  });

  it('an answer that is not exactly the planned range is dropped for the long way', async () => {
    const { store: one } = reading(store, () => ({ start: 0, end: 99 }));
    const res = await createApp({ store: one, log: false }).request('/a.bin', { headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes(1000).slice(10, 20));
    expect(store.calls.map((c) => c.op)).toEqual(['head', 'get']);
  });
});
