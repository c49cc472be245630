/**
 * The HTTP store's reading of origin answers, one behaviour per row: what a
 * guarded GET sends, and which answers become bytes, `changed`,
 * `unavailable`, `overloaded`, `not-found` or `timeout`. The origin is a
 * stub `fetch` returning a fixed answer (the real origins are in the node
 * and workers suites).
 */
import { describe, expect, it } from 'vitest';
import { httpStore, retryAfterMs } from '../../lib/store/http.ts';
import { StoreError, type StoreErrorKind, type Version } from '../../lib/store/types.ts';

const LM = 'Tue, 02 Jan 2024 03:04:05 GMT';
const STRONG: Version = { size: 100, etag: '"v1"', lastModified: new Date(LM) };
const WEAK: Version = { size: 100, etag: 'W/"v1"', lastModified: new Date(LM) };

/** A store whose origin answers `answer` to everything, recording the requests. */
function over(answer: () => Response | Promise<Response>) {
  const sent: Request[] = [];
  const store = httpStore({
    url: new URL('https://origin.test/base?sig=abc'),
    headers: { authorization: 'Bearer t' },
    fetch: async (input, init) => {
      sent.push(new Request(input, init));
      return answer();
    },
  });
  return { store, sent };
}

const ranged = (status: number, fields: Record<string, string>, body = 'x'.repeat(10)) =>
  new Response(body, { status, headers: fields });
const OK_206 = { etag: '"v1"', 'content-range': 'bytes 10-19/100', 'content-length': '10', 'last-modified': LM };

/** The StoreError a call rejects with (failing the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

async function outcome(p: Promise<ReadableStream<Uint8Array>>): Promise<StoreErrorKind | 'bytes'> {
  try {
    await (await p).cancel();
    return 'bytes';
  } catch (err) {
    if (err instanceof StoreError) return err.kind;
    throw err;
  }
}

describe('a guarded ranged GET', () => {
  it('sends the key under the base path, the query, the fixed fields, identity and If-Match', async () => {
    const { store, sent } = over(() => ranged(206, OK_206));
    expect(await outcome(store.get('a b/c+d.bin', STRONG, { offset: 10, length: 10 }))).toBe('bytes');
    const r = sent[0]!;
    expect(r.url).toBe('https://origin.test/base/a%20b/c%2Bd.bin?sig=abc');
    expect(r.headers.get('range')).toBe('bytes=10-19');
    expect(r.headers.get('if-match')).toBe('"v1"');
    expect(r.headers.get('if-unmodified-since')).toBeNull();
    expect(r.headers.get('accept-encoding')).toBe('identity');
    expect(r.headers.get('authorization')).toBe('Bearer t');
    expect(r.redirect).toBe('manual');
  });

  it('with a weak ETag: If-Unmodified-Since (a weak tag never satisfies If-Match), and the weak tag checked', async () => {
    const { store, sent } = over(() => ranged(206, { ...OK_206, etag: 'W/"v1"' }));
    expect(await outcome(store.get('k', WEAK, { offset: 10, length: 10 }))).toBe('bytes');
    expect(sent[0]!.headers.get('if-match')).toBeNull();
    expect(sent[0]!.headers.get('if-unmodified-since')).toBe(LM);
  });

  it.for<[string, () => Response, StoreErrorKind | 'bytes']>([
    ['206, exact range, same ETag and length: bytes', () => ranged(206, OK_206), 'bytes'],
    ['206 without Content-Length (chunked): bytes, the length is checked downstream', () => ranged(206, { ...OK_206, 'content-length': '' }), 'bytes'],
    ['412: changed', () => ranged(412, {}, ''), 'changed'],
    ['404: not-found', () => ranged(404, {}), 'not-found'],
    ['410: not-found', () => ranged(410, {}), 'not-found'],
    ['416 (the object shrank): changed', () => ranged(416, { 'content-range': 'bytes */5' }, ''), 'changed'],
    ['200 to a range (Range ignored): unavailable', () => ranged(200, { etag: '"v1"', 'content-length': '100' }, 'x'.repeat(100)), 'unavailable'],
    ['200 of another version: changed', () => ranged(200, { etag: '"v2"', 'content-length': '100' }, 'x'.repeat(100)), 'changed'],
    ['206 with another ETag (the guard ignored): changed', () => ranged(206, { ...OK_206, etag: '"v2"' }), 'changed'],
    ['206 with a weak form of the ETag: changed', () => ranged(206, { ...OK_206, etag: 'W/"v1"' }), 'changed'],
    ['206 with another complete length: changed', () => ranged(206, { ...OK_206, 'content-range': 'bytes 10-19/101' }), 'changed'],
    ['206 with another range: unavailable', () => ranged(206, { ...OK_206, 'content-range': 'bytes 0-9/100' }), 'unavailable'],
    ['206 with an unknown complete length: unavailable', () => ranged(206, { ...OK_206, 'content-range': 'bytes 10-19/*' }), 'unavailable'],
    ['206 multipart (no Content-Range): unavailable', () => ranged(206, { etag: '"v1"', 'content-type': 'multipart/byteranges; boundary=x' }), 'unavailable'],
    ['206 with a Content-Length that disagrees (a truncating hop): unavailable', () => ranged(206, { ...OK_206, 'content-length': '5' }, 'xxxxx'), 'unavailable'],
    ['206 without any validator: unavailable', () => ranged(206, { 'content-range': 'bytes 10-19/100' }), 'unavailable'],
    ['206 in a Content-Encoding: unavailable', () => ranged(206, { ...OK_206, 'content-encoding': 'gzip' }), 'unavailable'],
    ['301: unavailable (not followed)', () => ranged(301, { location: 'https://elsewhere.test/k?sig=zzz' }, ''), 'unavailable'],
    ['403: unavailable', () => ranged(403, {}), 'unavailable'],
    ['429: overloaded', () => ranged(429, {}), 'overloaded'],
    ['503: overloaded', () => ranged(503, {}), 'overloaded'],
    ['500: unavailable', () => ranged(500, {}), 'unavailable'],
  ])('%s', async ([, answer, want]) => {
    const { store } = over(answer);
    expect(await outcome(store.get('k', STRONG, { offset: 10, length: 10 }))).toBe(want);
  });

  it('a whole-object GET takes a 200 of the same version and size', async () => {
    const whole = () => ranged(200, { etag: '"v1"', 'content-length': '100' }, 'x'.repeat(100));
    expect(await outcome(over(whole).store.get('k', STRONG))).toBe('bytes');
    const shorter = () => ranged(200, { etag: '"v1"', 'content-length': '99' }, 'x'.repeat(99));
    expect(await outcome(over(shorter).store.get('k', STRONG))).toBe('changed');
  });

  it("a redirect's log line names the host, never the signed location", async () => {
    const { store } = over(() => ranged(302, { location: 'https://elsewhere.test/k?sig=SECRET' }, ''));
    const err = await rejection(store.get('k', STRONG, { offset: 0, length: 1 }));
    expect(err.message).toContain('elsewhere.test');
    expect(err.message).not.toContain('SECRET');
  });

  it("429 and 503 carry the origin's Retry-After for the retry wrapper", async () => {
    const { store } = over(() => ranged(503, { 'retry-after': '2' }));
    const err = await rejection(store.get('k', STRONG, { offset: 0, length: 1 }));
    expect(err.kind).toBe('overloaded');
    expect(err.retryAfterMs).toBe(2000);
  });

  it("a fetch error that quotes the URL loses the query (the origin's signature) on its way to the log", async () => {
    const store = httpStore({
      url: new URL('https://o.test/b/?sig=SECRET'),
      fetch: (input) => Promise.reject(new TypeError(`error sending request for url (${String(input)})`)),
    });
    const err = await rejection(store.get('k', STRONG));
    expect(err.message).toContain('https://o.test/b/k?…');
    expect(err.message).not.toContain('SECRET');
  });

  it('a network failure is unavailable; an aborted call is a timeout', async () => {
    const refused = httpStore({ url: new URL('https://o.test/'), fetch: () => Promise.reject(new TypeError('fetch failed')) });
    expect(await outcome(refused.get('k', STRONG))).toBe('unavailable');
    const aborted = httpStore({
      url: new URL('https://o.test/'),
      fetch: () => Promise.reject(new DOMException('The operation was aborted.', 'AbortError')),
    });
    expect(await outcome(aborted.get('k', STRONG))).toBe('timeout');
  });
});

describe('metadata from HEAD', () => {
  const head = (fields: Record<string, string>, status = 200) =>
    over(() => new Response(null, { status, headers: fields })).store.head('k');

  it('size, ETag, Last-Modified and the stored HTTP fields', async () => {
    const meta = await head({
      'content-length': '100',
      etag: '"v1"',
      'last-modified': LM,
      'content-type': 'text/plain',
      'cache-control': 'max-age=60',
      'content-disposition': 'inline',
      'content-language': 'en',
      expires: 'Wed, 01 Jan 2031 00:00:00 GMT',
    });
    expect(meta).toEqual({
      size: 100,
      etag: '"v1"',
      lastModified: new Date(LM),
      http: {
        contentType: 'text/plain',
        cacheControl: 'max-age=60',
        contentDisposition: 'inline',
        contentLanguage: 'en',
        expires: new Date('2031-01-01T00:00:00Z'),
      },
    });
  });

  it.for<[string, Record<string, string>, string]>([
    ['a weak ETag stays weak', { 'content-length': '5', etag: 'W/"w"', 'last-modified': LM }, 'W/"w"'],
    ['only Last-Modified: a weak tag of length and date', { 'content-length': '5', 'last-modified': LM }, 'W/"5-65937d25"'],
  ])('%s', async ([, fields, etag]) => {
    expect((await head(fields))?.etag).toBe(etag);
  });

  it.for<[string, Record<string, string>, number, StoreErrorKind | null]>([
    ['404: no object', {}, 404, null],
    ['no Content-Length: unavailable', { etag: '"v1"' }, 200, 'unavailable'],
    ['no validator at all: unavailable', { 'content-length': '5' }, 200, 'unavailable'],
    ['a malformed ETag: unavailable', { 'content-length': '5', etag: 'v1' }, 200, 'unavailable'],
    ['a Content-Encoding: unavailable', { 'content-length': '5', etag: '"v1"', 'content-encoding': 'gzip' }, 200, 'unavailable'],
    ['503: overloaded', {}, 503, 'overloaded'],
    ['307: unavailable', { location: '/elsewhere' }, 307, 'unavailable'],
  ])('%s', async ([, fields, status, kind]) => {
    const result = await head(fields, status).then(
      (meta) => meta,
      (err: unknown) => err,
    );
    if (kind === null) expect(result).toBeNull();
    else expect((result as StoreError).kind).toBe(kind);
  });

  it('a key with a dot segment names nothing (a URL cannot carry it)', async () => {
    const { store, sent } = over(() => new Response(null, { status: 200 }));
    expect(await store.head('a/../b')).toBeNull();
    expect(sent).toHaveLength(0);
  });
});

describe('retryAfterMs (§10.2.3)', () => {
  const now = Date.parse('2024-01-02T03:04:05Z');
  it.for<[string | null, number | undefined]>([
    [null, undefined],
    ['0', 0],
    ['3', 3000],
    ['Tue, 02 Jan 2024 03:04:15 GMT', 10_000],
    ['Tue, 02 Jan 2024 03:04:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
  ])('%s', ([value, want]) => {
    expect(retryAfterMs(value, now)).toBe(want);
  });
});
