/** The handler's logic, with an in-memory store: retries, failures, mounting. */
import { Hono } from 'hono';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, edgeRanges } from '../../lib/app.ts';
import { StoreError } from '../../lib/store/types.ts';
import { LAST_MODIFIED, MemoryStore, ReadingStore } from '../support/memory-store.ts';

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

  describe('shares a route with other handlers (fallthrough, as serveStatic)', () => {
    /** /files/* served from the store, then the app's own handlers on the same path. */
    function shared(fallthrough: boolean | undefined): Hono {
      const app = new Hono();
      app.use('/files/*', edgeRanges({ store, rewriteRequestPath: (p) => p.replace(/^\/files/, ''), log: false, ...(fallthrough === undefined ? {} : { fallthrough }) }));
      app.get('/files/*', (c) => c.text('from the next handler', 404));
      app.post('/files/*', (c) => c.text('posted', 201));
      return app;
    }
    const cases: { fallthrough: boolean | undefined; method: string; path: string; status: number; body?: string }[] = [
      { fallthrough: true, method: 'GET', path: '/files/a.bin', status: 200 },
      { fallthrough: true, method: 'HEAD', path: '/files/a.bin', status: 200 },
      { fallthrough: true, method: 'GET', path: '/files/missing.bin', status: 404, body: 'from the next handler' },
      { fallthrough: true, method: 'POST', path: '/files/a.bin', status: 201, body: 'posted' },
      { fallthrough: true, method: 'GET', path: '/files/a%ZZ', status: 400 },
      { fallthrough: false, method: 'GET', path: '/files/missing.bin', status: 404, body: 'Not Found\n' },
      { fallthrough: false, method: 'POST', path: '/files/a.bin', status: 405 },
      { fallthrough: undefined, method: 'POST', path: '/files/a.bin', status: 405 },
    ];
    it.each(cases)('fallthrough $fallthrough: $method $path -> $status', async ({ fallthrough, method, path, status, body }) => {
      const res = await shared(fallthrough).request(path, { method });
      expect(res.status).toBe(status);
      if (body !== undefined) expect(await res.text()).toBe(body);
    });
  });

  it('names its handler, for stack traces and Hono\'s route inspection', () => {
    expect(edgeRanges({ store }).name).toBe('edgeRangesHandler');
  });
});

describe('one store call for the whole object or one range (stores with read)', () => {
  const lastModified = LAST_MODIFIED.toUTCString();
  const earlier = new Date(LAST_MODIFIED.getTime() - 86_400_000).toUTCString();
  type Case = [name: string, headers: Record<string, string>, status: number, r2: string[], s3: string[]];
  // What each store is asked, in order; the S3 shape takes no If-None-Match /
  // If-Modified-Since in a read (its 304 carries no metadata), so those look
  // the metadata up first.
  it.for<Case>([
    ['no Range', {}, 200, ['read'], ['read']],
    ['one range', { range: 'bytes=10-19' }, 206, ['read'], ['read']],
    ['a suffix', { range: 'bytes=-5' }, 206, ['read'], ['read']],
    ['an open range', { range: 'bytes=990-' }, 206, ['read'], ['read']],
    ['an invalid Range is ignored: the whole object', { range: 'bytes=5-2' }, 200, ['read'], ['read']],
    ['several ranges look the metadata up first', { range: 'bytes=0-0,500-500' }, 206, ['head', 'get'], ['head', 'get']],
    ['an unsatisfiable range goes the long way', { range: 'bytes=5000-' }, 416, ['read', 'head'], ['read', 'head']],
    ['If-Match holds', { 'if-match': '"v1"', range: 'bytes=0-9' }, 206, ['read'], ['read']],
    ['If-Match fails: 412', { 'if-match': '"v0"' }, 412, ['read'], ['read']],
    ['If-Match: * holds for any object', { 'if-match': '*' }, 200, ['read'], ['read']],
    ['If-Match with a list: metadata first', { 'if-match': '"v0", "v1"' }, 200, ['head', 'get'], ['head', 'get']],
    ['If-Match with a weak tag never matches: 412', { 'if-match': 'W/"v1"' }, 412, ['head'], ['head']],
    ['If-Unmodified-Since fails: 412', { 'if-unmodified-since': earlier }, 412, ['read'], ['read']],
    ['If-Unmodified-Since holds', { 'if-unmodified-since': lastModified }, 200, ['read'], ['read']],
    ['If-None-Match hit: 304', { 'if-none-match': '"v1"' }, 304, ['read'], ['head']],
    ['If-None-Match weak hit: 304', { 'if-none-match': 'W/"v1"' }, 304, ['read'], ['head']],
    ['If-None-Match miss', { 'if-none-match': '"v0"' }, 200, ['read'], ['head', 'get']],
    ['If-Modified-Since not modified: 304', { 'if-modified-since': lastModified }, 304, ['read'], ['head']],
    ['If-Modified-Since modified', { 'if-modified-since': earlier }, 200, ['read'], ['head', 'get']],
    ['§13.2.2: If-Match fails before If-None-Match hits: 412', { 'if-match': '"v0"', 'if-none-match': '"v1"' }, 412,
      ['read'], ['head']],
    ['§13.2.2: If-None-Match hits before If-Range: 304', { 'if-none-match': '"v1"', 'if-range': '"v0"', range: 'bytes=0-9' },
      304, ['read'], ['head']],
    ['If-Range holds: the range', { 'if-range': '"v1"', range: 'bytes=0-9' }, 206, ['read'], ['read']],
    ['If-Range fails: the whole object', { 'if-range': '"v0"', range: 'bytes=0-9' }, 200, ['read', 'get'], ['read', 'read']],
    ['If-Range with Last-Modified holds', { 'if-range': lastModified, range: 'bytes=0-9' }, 206, ['read'], ['read']],
    ['If-Range with another date fails', { 'if-range': earlier, range: 'bytes=0-9' }, 200, ['read', 'get'], ['read', 'get']],
    ['If-Range after If-Match: If-Match rides, If-Range decided after', { 'if-match': '"v1"', 'if-range': '"v0"', range: 'bytes=0-9' },
      200, ['read', 'get'], ['read', 'get']],
    ['HEAD looks the metadata up', {}, 200, ['head'], ['head']],
  ])('%s', async ([name, headers, status, r2, s3]) => {
    for (const [like, ops] of [['r2', r2], ['s3', s3]] as const) {
      const one = new ReadingStore(like);
      one.objects.set('a.bin', { bytes: bytes(1000), etag: '"v1"' });
      const method = name.startsWith('HEAD') ? 'HEAD' : 'GET';
      const res = await createApp({ store: one, log: false }).request('/a.bin', { method, headers });
      expect(res.status, like).toBe(status);
      await res.arrayBuffer();
      expect(one.calls.map((c) => c.op), like).toEqual(ops);
      expect(one.open, `${like}: bodies left open`).toBe(0);
    }
  });

  it.for(['r2', 's3'] as const)('If-Range rides as If-Match on the read (%s)', async (like) => {
    const one = new ReadingStore(like);
    one.objects.set('a.bin', { bytes: bytes(1000), etag: '"v1"' });
    await createApp({ store: one, log: false }).request('/a.bin', { headers: { 'if-range': '"v0"', range: 'bytes=-3' } });
    expect(one.calls[0]?.ask).toEqual({ range: { suffix: 3 }, conditions: { ifMatch: '"v0"' } });
  });

  it.for<[string, Record<string, string>, number]>([
    ['If-None-Match hit', { 'if-none-match': '"v1"' }, 304],
    ['If-Match fails', { 'if-match': '"v0"' }, 412],
    ['If-Modified-Since not modified', { 'if-modified-since': LAST_MODIFIED.toUTCString() }, 304],
  ])('a store laxer than RFC 9110 cannot change the answer: %s', async ([, headers, status]) => {
    const lax = new ReadingStore('r2', true);
    lax.objects.set('a.bin', { bytes: bytes(1000), etag: '"v1"' });
    const res = await createApp({ store: lax, log: false }).request('/a.bin', { headers });
    expect(res.status).toBe(status);
    expect(lax.calls.map((c) => c.op)).toEqual(['read']);
    expect(lax.open).toBe(0); // the bytes it sent anyway were cancelled
  });

  it.for(['r2', 's3'] as const)('a 404 costs one call (%s)', async (like) => {
    const one = new ReadingStore(like);
    const res = await createApp({ store: one, log: false }).request('/nothing.bin', {
      headers: { 'if-match': '"x"', range: 'bytes=0-9' },
    });
    expect(res.status).toBe(404);
    expect(one.calls.map((c) => c.op)).toEqual(['read']);
  });
});
