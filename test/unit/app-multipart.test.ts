/** Multi-range serving over an in-memory store: GET counts, concurrency, versions, aborts. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, type EdgeRangesOptions } from '../../lib/app.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { firstPartOf, readAcross } from '../support/streams.ts';

const SIZE = 1_000_000;
const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8) + seed) & 0xff);
const V1 = bytes(SIZE);

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
  store.chunkSize = 1000;
  store.objects.set('a.bin', { bytes: V1, etag: '"v1"' });
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

const app = (options: Partial<EdgeRangesOptions> = {}) => createApp({ store, ...options });
const gets = () => store.calls.filter((c) => c.op === 'get');

async function multipart(res: Response) {
  const body = new Uint8Array(await res.arrayBuffer());
  expect(res.headers.get('content-length')).toBe(String(body.length));
  return parseMultipart(body, boundaryOf(res.headers.get('content-type')));
}

describe('upstream GETs', () => {
  it.for<[string, Partial<EdgeRangesOptions>, number]>([
    ['near ranges share a GET, far ones do not', {}, 2],
    ['no sharing with upstreamGap 0', { limits: { upstreamGap: 0 } }, 3],
    ['one GET when the gap allows', { limits: { upstreamGap: SIZE } }, 1],
    ['capped by maxUpstreamGets', { limits: { upstreamGap: 0, maxUpstreamGets: 2 } }, 2],
  ])('%s', async ([, options, count]) => {
    const res = await app(options).request('/a.bin', { headers: { range: 'bytes=0-9,1000-1009,-10' } });
    expect(res.status).toBe(206);
    const parts = await multipart(res);
    expect(parts.map((p) => p.headers['content-range'])).toEqual([
      `bytes 0-9/${SIZE}`,
      `bytes 1000-1009/${SIZE}`,
      `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`,
    ]);
    expect(parts.map((p) => Array.from(p.body))).toEqual([
      Array.from(V1.subarray(0, 10)),
      Array.from(V1.subarray(1000, 1010)),
      Array.from(V1.subarray(SIZE - 10)),
    ]);
    expect(gets()).toHaveLength(count);
    expect(gets().every((g) => g.etag === '"v1"')).toBe(true);
  });

  it('1,000 overlapping ranges: one full read, a body no larger than the object', async () => {
    const range = 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i * 7}-${i * 7 + 5000}`).join(',');
    const res = await app().request('/a.bin', { headers: { range } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(SIZE);
    expect(gets()).toEqual([{ op: 'get', key: 'a.bin', etag: '"v1"', span: undefined }]);
  });

  it('64 scattered ranges stay within maxUpstreamGets (20) GETs', async () => {
    const range = 'bytes=' + Array.from({ length: 64 }, (_, i) => `${i * 15_000}-${i * 15_000 + 99}`).join(',');
    const res = await app({ limits: { upstreamGap: 0 } }).request('/a.bin', { headers: { range } });
    const parts = await multipart(res);
    expect(parts).toHaveLength(64);
    parts.forEach((p, i) => expect(Array.from(p.body)).toEqual(Array.from(V1.subarray(i * 15_000, i * 15_000 + 100))));
    expect(gets()).toHaveLength(20);
  });

  it.for([1, 2, 4])('keeps at most %i GETs open at once', async (concurrency) => {
    const range = 'bytes=' + Array.from({ length: 16 }, (_, i) => `${i * 50_000}-${i * 50_000 + 9_999}`).join(',');
    const res = await app({ concurrency, limits: { upstreamGap: 0 } }).request('/a.bin', { headers: { range } });
    expect(await multipart(res)).toHaveLength(16);
    expect(gets()).toHaveLength(16);
    expect(store.maxOpen).toBe(concurrency);
    expect(store.open).toBe(0);
  });
});

describe('one version per response', () => {
  it('starts over when the object changes before the first byte', async () => {
    store.before = (call) => {
      if (call.op === 'get' && call.etag === '"v1"') store.objects.set('a.bin', { bytes: bytes(SIZE, 9), etag: '"v2"' });
    };
    const res = await app().request('/a.bin', { headers: { range: 'bytes=0-9,500000-500009' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).toBe('"v2"');
    const parts = await multipart(res);
    expect(Array.from(parts[1]!.body)).toEqual(Array.from(bytes(SIZE, 9).subarray(500_000, 500_010)));
  });

  it('aborts the body when the object changes mid-response, never mixing versions', async () => {
    const range = 'bytes=0-99999,300000-399999,600000-699999';
    const res = await app({ concurrency: 1, limits: { upstreamGap: 0 } }).request('/a.bin', { headers: { range } });
    expect(res.status).toBe(206);
    const { bytes: got, error } = await readAcross(res.body!, () =>
      store.objects.set('a.bin', { bytes: bytes(SIZE, 9), etag: '"v2"' }),
    );
    expect(error).toBeInstanceOf(Error);
    // Everything that did arrive is version 1.
    expect(Array.from(firstPartOf(got, 100_000))).toEqual(Array.from(V1.subarray(0, 100_000)));
    expect(gets().map((g) => g.etag)).toEqual(['"v1"', '"v1"']);
    expect(store.open).toBe(0);
  });
});

describe('aborts', () => {
  it('a client that goes away closes every upstream GET', async () => {
    const range = 'bytes=' + Array.from({ length: 8 }, (_, i) => `${i * 100_000}-${i * 100_000 + 49_999}`).join(',');
    const res = await app({ concurrency: 4, limits: { upstreamGap: 0 } }).request('/a.bin', { headers: { range } });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel('client gone');
    await vi.waitFor(() => expect(store.open).toBe(0));
    expect(gets().length).toBeLessThanOrEqual(4);
  });
});
