/**
 * One table of HTTP behaviour: request -> status, headers, body slice.
 * Run inside workerd against R2 (and S3), and on Node against radosgw, so
 * every runtime and store answers alike. Runtime-neutral.
 */
import { expect } from 'vitest';
import { FIXTURES, pathOf, type FixtureName, type Validators } from './fixtures.ts';
import { boundaryOf, parseMultipart } from './multipart.ts';

type Fields = Record<string, string>;

export interface HttpCase {
  readonly name: string;
  readonly fixture?: FixtureName;
  /** A raw URL path, instead of the fixture's. */
  readonly path?: string;
  readonly method?: string;
  readonly headers?: (v: Validators) => Fields;
  readonly status: number;
  /** The body as a [start, end) slice of the fixture, 'all' for the whole of it, or 'empty'. */
  readonly body?: readonly [number, number] | 'all' | 'empty';
  /** A multipart/byteranges body: each part as a [start, end) slice of the fixture, in order. */
  readonly parts?: ReadonlyArray<readonly [number, number]>;
  /** Header values that must be present (string) or absent (null). */
  readonly expect?: (v: Validators) => Record<string, string | null>;
}

const N = FIXTURES.data.bytes.length; // 10,000
const date = (d: Date, shiftSeconds = 0) => new Date(d.getTime() + shiftSeconds * 1000).toUTCString();
const range = (value: string) => () => ({ range: value });
const single = (start: number, end: number, len = N) => ({ 'content-range': `bytes ${start}-${end}/${len}` });

export const HTTP_CASES: readonly HttpCase[] = [
  // Plain GET and HEAD.
  { name: 'GET: whole object', status: 200, body: 'all',
    expect: (v) => ({ 'accept-ranges': 'bytes', etag: v.etag, 'last-modified': date(v.lastModified),
      'content-length': String(N), 'content-range': null, 'content-type': 'application/octet-stream' }) },
  { name: 'HEAD: GET headers, no body', method: 'HEAD', status: 200, body: 'empty',
    expect: (v) => ({ 'content-length': String(N), etag: v.etag, 'accept-ranges': 'bytes' }) },
  { name: 'HEAD ignores Range (§14.2)', method: 'HEAD', headers: range('bytes=0-9'), status: 200, body: 'empty',
    expect: () => ({ 'content-length': String(N), 'content-range': null }) },

  // Range forms (§14.1.1).
  { name: 'first-last', headers: range('bytes=0-99'), status: 206, body: [0, 100],
    expect: (v) => ({ ...single(0, 99), 'content-length': '100', etag: v.etag, 'accept-ranges': 'bytes' }) },
  { name: 'one byte', headers: range('bytes=1234-1234'), status: 206, body: [1234, 1235], expect: () => single(1234, 1234) },
  { name: 'open range a-', headers: range('bytes=9000-'), status: 206, body: [9000, N], expect: () => single(9000, N - 1) },
  { name: 'suffix -n', headers: range('bytes=-500'), status: 206, body: [N - 500, N], expect: () => single(N - 500, N - 1) },
  { name: 'suffix longer than the object = whole', headers: range('bytes=-20000'), status: 206, body: [0, N],
    expect: () => single(0, N - 1) },
  { name: 'last-pos past the end is clamped', headers: range('bytes=9990-20000'), status: 206, body: [9990, N],
    expect: () => ({ ...single(9990, N - 1), 'content-length': '10' }) },
  { name: 'unit is case-insensitive', headers: range('Bytes=10-19'), status: 206, body: [10, 20] },
  { name: 'whitespace around the spec', headers: range('bytes= 10-19 '), status: 206, body: [10, 20] },
  { name: 'leading zeros', headers: range('bytes=0010-0019'), status: 206, body: [10, 20] },
  { name: 'last-pos beyond 2^64 is clamped', headers: range('bytes=5-999999999999999999999999999'), status: 206,
    body: [5, N] },

  // Unsatisfiable (§15.5.17).
  { name: 'first-pos at the length: 416', headers: range(`bytes=${N}-`), status: 416,
    expect: () => ({ 'content-range': `bytes */${N}` }) },
  { name: '-0 is unsatisfiable: 416', headers: range('bytes=-0'), status: 416,
    expect: () => ({ 'content-range': `bytes */${N}` }) },
  { name: 'first-pos beyond 2^64: 416, no overflow', headers: range('bytes=18446744073709551617-'), status: 416 },
  { name: 'all specs unsatisfiable: 416', headers: range(`bytes=${N}-${N + 10},-0`), status: 416 },

  // Ignored Range: 200 with the whole body (§14.2).
  { name: 'last < first is invalid: ignored', headers: range('bytes=5-2'), status: 200, body: 'all',
    expect: () => ({ 'content-range': null }) },
  { name: 'garbage: ignored', headers: range('bytes=abc'), status: 200, body: 'all' },
  { name: 'negative first: ignored', headers: range('bytes=--5'), status: 200, body: 'all' },
  { name: 'no unit: ignored', headers: range('0-10'), status: 200, body: 'all' },
  { name: 'other unit: ignored', headers: range('items=0-9'), status: 200, body: 'all' },
  { name: 'huge invalid pair (b < a beyond 2^64): ignored',
    headers: range('bytes=99999999999999999999999-99999999999999999999998'), status: 200, body: 'all' },

  // Several ranges (§15.3.7.2): multipart/byteranges, a part per range in request order; one part when all touch.
  { name: 'overlapping ranges coalesce to one part', headers: range('bytes=0-9,5-19'), status: 206, body: [0, 20],
    expect: () => single(0, 19) },
  { name: 'adjacent ranges coalesce to one part', headers: range('bytes=10-19 , 20-29'), status: 206, body: [10, 30] },
  { name: 'unsatisfiable specs are dropped', headers: range(`bytes=${N + 5}-,10-19`), status: 206, body: [10, 20] },
  { name: 'two ranges: multipart', headers: range('bytes=0-9,1000-1009'), status: 206, parts: [[0, 10], [1000, 1010]],
    expect: (v) => ({ 'content-range': null, etag: v.etag, 'accept-ranges': 'bytes' }) },
  { name: 'three ranges with a suffix, in request order', headers: range('bytes=5000-5099,0-9,-10'), status: 206,
    parts: [[5000, 5100], [0, 10], [N - 10, N]] },
  { name: 'near ranges keep a part each', headers: range('bytes=0-9,20-29,3000-3009'), status: 206,
    parts: [[0, 10], [20, 30], [3000, 3010]] },
  { name: 'clamped last range in multipart', headers: range('bytes=0-0,9000-99999'), status: 206,
    parts: [[0, 1], [9000, N]] },
  { name: 'overlaps out of order that cover the object: one part', headers: range('bytes=4000-9999,0-5999'), status: 206,
    body: [0, N], expect: () => single(0, N - 1) },
  // 16,500 bytes of parts > the object + 4 KiB (plan.ts SIZE_SLACK); within it, overlaps stay parts.
  { name: 'overlaps out of order beyond the object size + 4 KiB: 200', headers: range('bytes=1000-8999,0-7999,9500-9999'),
    status: 200, body: 'all' },
  { name: 'overlaps out of order within the object size + 4 KiB: multipart', headers: range('bytes=4000-7999,0-5999,9000-9999'),
    status: 206, parts: [[4000, 8000], [0, 6000], [9000, N]] },
  { name: '1,000 overlapping ranges: 200', headers: range(`bytes=${Array.from({ length: 1000 }, (_, i) => `${i}-${i + 500}`).join(',')}`),
    status: 200, body: 'all' },
  { name: 'If-Range with the current ETag: multipart', headers: (v) => ({ range: 'bytes=0-9,1000-1009', 'if-range': v.etag }),
    status: 206, parts: [[0, 10], [1000, 1010]] },
  { name: 'If-Range with another ETag: multi-range ignored', headers: () => ({ range: 'bytes=0-9,100-109', 'if-range': '"x"' }),
    status: 200, body: 'all' },
  // Small objects keep multipart, as from Go and nginx (their own tests): parts + headers may exceed the object by 4 KiB.
  { name: '11-byte object, bytes=0-0,-2: multipart', fixture: 'eleven', headers: range('bytes=0-0,-2'), status: 206,
    parts: [[0, 1], [9, 11]] },
  { name: '8-byte object, bytes=0-1,3-4: multipart', fixture: 'eight', headers: range('bytes=0-1,3-4'), status: 206,
    parts: [[0, 2], [3, 5]] },
  { name: 'multipart of a typed object', fixture: 'meta', headers: range('bytes=0-3,500-504'), status: 206, parts: [[0, 4], [500, 505]],
    expect: () => ({ 'cache-control': 'public, max-age=60', 'content-language': 'en' }) },

  // If-Range (§13.1.5).
  { name: 'If-Range with the current ETag: 206', headers: (v) => ({ range: 'bytes=0-9', 'if-range': v.etag }),
    status: 206, body: [0, 10] },
  { name: 'If-Range with a weak ETag never matches: 200', status: 200, body: 'all',
    headers: (v) => ({ range: 'bytes=0-9', 'if-range': `W/${v.etag}` }) },
  { name: 'If-Range with another ETag: 200', headers: () => ({ range: 'bytes=0-9', 'if-range': '"stale"' }),
    status: 200, body: 'all' },
  { name: 'If-Range with Last-Modified exactly: 206', status: 206, body: [0, 10],
    headers: (v) => ({ range: 'bytes=0-9', 'if-range': date(v.lastModified) }) },
  { name: 'If-Range with another date: 200', status: 200, body: 'all',
    headers: (v) => ({ range: 'bytes=0-9', 'if-range': date(v.lastModified, 1) }) },
  { name: 'If-Range with garbage: 200', headers: () => ({ range: 'bytes=0-9', 'if-range': 'soon' }), status: 200,
    body: 'all' },
  { name: 'If-Range without Range: ignored', headers: () => ({ 'if-range': '"stale"' }), status: 200, body: 'all' },

  // Preconditions in the order of §13.2.2.
  { name: 'If-Match current: 200', headers: (v) => ({ 'if-match': v.etag }), status: 200, body: 'all' },
  { name: 'If-Match in a list: 206', headers: (v) => ({ 'if-match': `"x", ${v.etag}`, range: 'bytes=0-0' }),
    status: 206, body: [0, 1] },
  { name: 'If-Match *: 200', headers: () => ({ 'if-match': '*' }), status: 200, body: 'all' },
  { name: 'If-Match other: 412', headers: () => ({ 'if-match': '"other"' }), status: 412 },
  { name: 'HEAD, If-Match other: 412 with the GET\'s Content-Length', method: 'HEAD', headers: () => ({ 'if-match': '"other"' }),
    status: 412, body: 'empty', expect: () => ({ 'content-length': String('Precondition Failed\n'.length) }) },
  { name: 'If-Match weak: 412 (strong comparison)', headers: (v) => ({ 'if-match': `W/${v.etag}` }), status: 412 },
  { name: 'If-Unmodified-Since earlier: 412', headers: (v) => ({ 'if-unmodified-since': date(v.lastModified, -60) }),
    status: 412 },
  { name: 'If-Unmodified-Since later: 200', headers: (v) => ({ 'if-unmodified-since': date(v.lastModified, 60) }),
    status: 200, body: 'all' },
  { name: 'If-Unmodified-Since ignored beside If-Match', status: 200, body: 'all',
    headers: (v) => ({ 'if-match': v.etag, 'if-unmodified-since': date(v.lastModified, -60) }) },
  { name: 'If-None-Match current: 304', headers: (v) => ({ 'if-none-match': v.etag }), status: 304, body: 'empty',
    expect: (v) => ({ etag: v.etag, 'content-length': null, 'content-range': null, 'last-modified': null }) },
  { name: 'If-None-Match weak: 304 (weak comparison)', headers: (v) => ({ 'if-none-match': `W/${v.etag}` }),
    status: 304 },
  { name: 'If-None-Match *: 304', headers: () => ({ 'if-none-match': '*' }), status: 304 },
  { name: 'If-None-Match other: 200', headers: () => ({ 'if-none-match': '"other"' }), status: 200, body: 'all' },
  { name: 'HEAD If-None-Match current: 304', method: 'HEAD', headers: (v) => ({ 'if-none-match': v.etag }),
    status: 304 },
  { name: 'If-None-Match beats Range: 304', headers: (v) => ({ 'if-none-match': v.etag, range: 'bytes=0-9' }),
    status: 304 },
  { name: 'If-Modified-Since at Last-Modified: 304', headers: (v) => ({ 'if-modified-since': date(v.lastModified) }),
    status: 304, body: 'empty', expect: (v) => ({ etag: v.etag, 'last-modified': null }) },
  // §15.4.5: beside an ETag, a 304 carries no Last-Modified (Go's own tests, GET and HEAD).
  { name: 'HEAD If-Modified-Since at Last-Modified: 304, no Last-Modified', method: 'HEAD',
    headers: (v) => ({ 'if-modified-since': date(v.lastModified) }), status: 304, body: 'empty',
    expect: (v) => ({ etag: v.etag, 'last-modified': null }) },
  { name: 'If-Modified-Since earlier: 200', headers: (v) => ({ 'if-modified-since': date(v.lastModified, -60) }),
    status: 200, body: 'all' },
  { name: 'If-Modified-Since ignored beside If-None-Match', status: 200, body: 'all',
    headers: (v) => ({ 'if-none-match': '"other"', 'if-modified-since': date(v.lastModified) }) },
  // Malformed entity-tag lists match nothing: If-Match fails closed, If-None-Match never gives 304.
  { name: 'If-Match with the current ETag and trailing garbage: 412', headers: (v) => ({ 'if-match': `${v.etag}xyz` }),
    status: 412 },
  { name: 'If-Match with the current ETag and no comma: 412', headers: (v) => ({ 'if-match': `${v.etag} "x"`, range: 'bytes=0-9' }),
    status: 412 },
  { name: 'If-None-Match with the current ETag and trailing garbage: 200', headers: (v) => ({ 'if-none-match': `${v.etag}xyz` }),
    status: 200, body: 'all' },
  { name: 'malformed If-None-Match still sets If-Modified-Since aside: 200', status: 200, body: 'all',
    headers: (v) => ({ 'if-none-match': 'garbage', 'if-modified-since': date(v.lastModified) }) },
  { name: 'If-Match fails before If-None-Match: 412', status: 412,
    headers: (v) => ({ 'if-match': '"other"', 'if-none-match': v.etag }) },
  { name: 'If-Match current with Range: 206', headers: (v) => ({ 'if-match': v.etag, range: 'bytes=-1' }),
    status: 206, body: [N - 1, N] },

  // Zero-length object (§14.1.1).
  { name: 'empty: GET 200', fixture: 'empty', status: 200, body: 'empty', expect: () => ({ 'content-length': '0' }) },
  { name: 'empty: bytes=0-0 is 416', fixture: 'empty', headers: range('bytes=0-0'), status: 416,
    expect: () => ({ 'content-range': 'bytes */0' }) },
  { name: 'empty: a suffix is satisfiable, answered 200', fixture: 'empty', headers: range('bytes=-5'), status: 200,
    body: 'empty' },

  // Stored HTTP metadata travels with 200, 206 and (cache fields) 304.
  { name: 'metadata on 200', fixture: 'meta', status: 200, body: 'all',
    expect: () => ({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'public, max-age=60',
      'content-disposition': 'attachment; filename="meta.txt"', 'content-language': 'en',
      expires: 'Wed, 01 Jan 2031 00:00:00 GMT' }) },
  { name: 'metadata on 206', fixture: 'meta', headers: range('bytes=0-7'), status: 206, body: [0, 8],
    expect: () => ({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'public, max-age=60',
      'content-disposition': 'attachment; filename="meta.txt"', 'content-language': 'en' }) },
  { name: 'cache metadata on 304', fixture: 'meta', headers: (v) => ({ 'if-none-match': v.etag }), status: 304,
    expect: () => ({ 'cache-control': 'public, max-age=60', expires: 'Wed, 01 Jan 2031 00:00:00 GMT' }) },

  // Keys.
  { name: 'percent-encoded unicode key', fixture: 'unicode', headers: range('bytes=2-4'), status: 206, body: [2, 5] },
  { name: 'missing object: 404', path: '/cases/no-such-object', status: 404 },
  // §8.6: a HEAD answer's Content-Length, if any, is the GET answer's (Deno.serve adds 0 when unset).
  { name: 'HEAD of a missing object: 404 with the GET\'s Content-Length', method: 'HEAD', path: '/cases/no-such-object',
    status: 404, body: 'empty', expect: () => ({ 'content-length': String('Not Found\n'.length) }) },
  { name: 'empty key: 400', path: '/', status: 400 },
  // (A bare `%2e%2e` segment is resolved by URL parsers before it is sent; the
  // Node suite sends it raw with curl --path-as-is.)
  { name: 'encoded dot-dot with slash: 400', path: '/cases/%2e%2e%2fcases/data.bin', status: 400 },
  { name: 'encoded slash dot-dot: 400', path: '/cases/..%2fdata.bin', status: 400 },
  { name: 'backslash dot-dot: 400', path: '/cases/..%5cdata.bin', status: 400 },
  { name: 'NUL in key: 400', path: '/cases/data.bin%00', status: 400 },
  { name: 'bad percent-encoding: 400', path: '/cases/%zz', status: 400 },
  { name: 'key over 1,024 bytes: 400', path: `/${'k'.repeat(1025)}`, status: 400 },

  // Methods (§15.5.6).
  { name: 'POST: 405 with Allow', method: 'POST', status: 405, expect: () => ({ allow: 'GET, HEAD, OPTIONS' }) },
  { name: 'DELETE: 405 with Allow', method: 'DELETE', status: 405, expect: () => ({ allow: 'GET, HEAD, OPTIONS' }) },
  { name: 'OPTIONS: 204 with Allow', method: 'OPTIONS', status: 204, expect: () => ({ allow: 'GET, HEAD, OPTIONS' }) },
];

/** What a case sends. */
export function caseRequest(c: HttpCase, base: string, v: Validators): Request {
  const path = c.path ?? pathOf(FIXTURES[c.fixture ?? 'data'].key);
  return new Request(base + path, { method: c.method ?? 'GET', headers: c.headers?.(v) ?? {} });
}

/** Checks an answer against its case: status, headers, and the exact bytes. */
export async function expectCase(c: HttpCase, res: Response, v: Validators): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  expect(res.status, c.name).toBe(c.status);
  expectDate(res.headers, c.name);
  for (const [name, value] of Object.entries(c.expect?.(v) ?? {})) {
    expect(res.headers.get(name), `${c.name}: ${name}`).toBe(value);
  }
  const fixture = FIXTURES[c.fixture ?? 'data'];
  if (c.parts !== undefined) return expectParts(c, c.parts, res, body, fixture.bytes, fixture.http.contentType);
  if (c.body === undefined) return;
  const bytes = fixture.bytes;
  const want = c.body === 'all' ? bytes : c.body === 'empty' ? new Uint8Array(0) : bytes.slice(c.body[0], c.body[1]);
  expect(body.length, `${c.name}: body length`).toBe(want.length);
  expect(firstDifference(body, want), `${c.name}: first differing byte`).toBe(-1);
  if (c.method !== 'HEAD' && c.status !== 304) {
    expect(res.headers.get('content-length'), `${c.name}: content-length`).toBe(String(want.length));
  }
}

function expectParts(
  c: HttpCase,
  slices: ReadonlyArray<readonly [number, number]>,
  res: Response,
  body: Uint8Array,
  bytes: Uint8Array,
  partType: string,
): void {
  expect(res.headers.get('content-length'), `${c.name}: content-length`).toBe(String(body.length));
  const parts = parseMultipart(body, boundaryOf(res.headers.get('content-type')));
  expect(parts.map((p) => p.headers), c.name).toEqual(
    slices.map(([start, end]) => ({ 'content-type': partType, 'content-range': `bytes ${start}-${end - 1}/${bytes.length}` })),
  );
  parts.forEach((p, i) => {
    const [start, end] = slices[i]!;
    expect(firstDifference(p.body, bytes.subarray(start, end)), `${c.name}: part ${i}`).toBe(-1);
  });
}

/**
 * RFC 9110 §6.6.1: Date on every answer, an IMF-fixdate of now (within a
 * minute: the clocks are the same machine's, the slack is for a slow run).
 */
export function expectDate(headers: Headers, name: string): void {
  const value = headers.get('date');
  expect(value, `${name}: date`).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
  expect(Math.abs(Date.parse(value!) - Date.now()), `${name}: date is now`).toBeLessThan(60_000);
}

/** Index of the first byte where a and b differ, or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
