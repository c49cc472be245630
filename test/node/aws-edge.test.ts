/**
 * The Lambda@Edge entries (functions/aws/*-request.ts) invoked with
 * CloudFront events shaped as AWS documents them, their S3 calls going to
 * radosgw: what each passes on (and with which headers), or what it answers.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFrontEdgeEvent, CloudFrontRequest } from 'hono/lambda-edge';
import { handle } from 'hono/lambda-edge';
import { beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { generatedSize, ORIGIN_SECRET_HEADER, STREAM_ORIGIN_HEADER } from '../../lib/aws/cloudfront.ts';
import { ORIGIN_REQUEST_LIMIT } from '../../lib/aws/origin-request.ts';
import { viewerRequestApp } from '../../lib/aws/viewer-request.ts';
import { MetadataCache } from '../../lib/cache/metadata.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { hmacKey, signPath } from '../../lib/signing.ts';
import { s3Store } from '../../lib/store/s3.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { originRequestEvent, READ_ONLY, viewerRequestEvent, type EventSpec, type HeaderList } from '../support/cloudfront-events.ts';
import { expectDate } from '../support/http-cases.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const settings = s3SettingsFrom(process.env);
const PREFIX = 'aws-edge';
const SMALL = pseudoRandomBytes(65_536, 41);
const LARGE = pseudoRandomBytes(3 * 1024 * 1024, 42);

type Handler = (event: CloudFrontEdgeEvent) => Promise<unknown>;
interface Result {
  status: string;
  headers?: Record<string, { key: string; value: string }[]>;
  body?: string;
  bodyEncoding?: string;
}

let client: S3Client;
let viewer: Handler;
let origin: Handler;
let etag: string;
let lastModified: Date;
let largeEtag: string;

beforeAll(async () => {
  client = createS3Client(settings);
  for (const [name, bytes] of [['small.bin', SMALL], ['large.bin', LARGE]] as const) {
    await client.send(
      new PutObjectCommand({ Bucket: settings.bucket, Key: `${PREFIX}/${name}`, Body: bytes, ContentType: 'application/octet-stream' }),
    );
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: `${PREFIX}/small.bin` }));
  etag = head.ETag!;
  lastModified = head.LastModified!;
  largeEtag = (await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: `${PREFIX}/large.bin` }))).ETag!;

  // What infra/aws/bundle.ts inlines at build time.
  process.env.EDGE_RANGES_CONFIG = JSON.stringify({
    bucket: settings.bucket,
    region: settings.region,
    keyPrefix: `${PREFIX}/`,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
  viewer = (await import('../../functions/aws/viewer-request.ts')).handler as Handler;
  origin = (await import('../../functions/aws/origin-request.ts')).handler as Handler;
});

function isResponse(result: unknown): result is Result {
  return typeof result === 'object' && result !== null && 'status' in result;
}

function passedOn(result: unknown): CloudFrontRequest {
  if (isResponse(result)) throw new Error(`expected the request passed on, got a ${result.status} response: ${result.body}`);
  return result as CloudFrontRequest;
}

function answered(result: unknown): Result {
  if (!isResponse(result)) throw new Error(`expected a response, got the request passed on: ${JSON.stringify(result)}`);
  return result;
}

const value = (headers: CloudFrontRequest['headers'] | undefined, name: string) => headers?.[name]?.map((h) => h.value).join(', ');

/** Generated responses must carry neither field (CloudFront sets them; a function that does gets a 502). */
function expectValidGenerated(res: Result, limit: number): void {
  expect(res.headers?.['content-length']).toBeUndefined();
  expect(res.headers?.['transfer-encoding']).toBeUndefined();
  const headers = new Headers();
  for (const [name, list] of Object.entries(res.headers ?? {})) for (const h of list) headers.append(name, h.value);
  expect(generatedSize(headers, 0) + (res.body ?? '').length).toBeLessThanOrEqual(limit);
}

/**
 * §6.6.1: Date on every generated answer. CloudFront's lists of disallowed
 * and read-only headers (Lambda@Edge restrictions) do not name Date, so a
 * function may set it.
 */
function expectGeneratedDate(res: Result): void {
  const headers = new Headers();
  for (const [name, list] of Object.entries(res.headers ?? {})) for (const h of list) headers.append(name, h.value);
  expectDate(headers, `${res.status} answer`);
}

/** A function must leave the event's read-only fields exactly as they came. */
function expectReadOnlyKept(kind: keyof typeof READ_ONLY, event: CloudFrontEdgeEvent, out: CloudFrontRequest): void {
  const before = JSON.parse(JSON.stringify(event.Records[0]!.cf.request)) as CloudFrontRequest;
  for (const name of READ_ONLY[kind]) expect(out.headers[name], name).toEqual(before.headers[name]);
}

const RFC_DATE = (d: Date) => d.toUTCString();

interface ViewerCase {
  readonly name: string;
  readonly spec: () => EventSpec;
  /** Passed on with this Range (null: none) and no conditional fields left. */
  readonly range?: string | null;
  /** Or answered with this status (and these headers). */
  readonly status?: number;
  /** Fields the answer carries (undefined: must be absent). */
  readonly headers?: () => Record<string, string | undefined>;
}

const small = `/small.bin`;
const get = (headers: HeaderList, extra: Partial<EventSpec> = {}): (() => EventSpec) => () => ({ uri: small, headers, ...extra });

const VIEWER_CASES: ViewerCase[] = [
  { name: 'no Range: passed on whole', spec: get([]), range: null },
  { name: 'one range: passed on as written', spec: get([['Range', 'bytes=0-99']]), range: 'bytes=0-99' },
  { name: 'suffix range: resolved to absolute', spec: get([['Range', 'bytes=-100']]), range: 'bytes=65436-65535' },
  { name: 'open range past the end: clamped', spec: get([['Range', 'bytes=65000-']]), range: 'bytes=65000-65535' },
  { name: 'overlapping ranges: one range', spec: get([['Range', 'bytes=0-99,50-199']]), range: 'bytes=0-199' },
  { name: 'two ranges: both, in order', spec: get([['Range', 'bytes=500-599, 0-99']]), range: 'bytes=500-599,0-99' },
  { name: 'malformed Range: ignored (§14.2)', spec: get([['Range', 'bytes=abc']]), range: null },
  { name: 'other unit: ignored', spec: get([['Range', 'items=0-5']]), range: null },
  { name: 'egregious set: whole object', spec: get([['Range', `bytes=${Array.from({ length: 150 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`]]), range: null },
  { name: 'If-Range with the current ETag: Range kept', spec: () => get([['Range', 'bytes=0-9'], ['If-Range', etag]])(), range: 'bytes=0-9' },
  { name: 'If-Range with another ETag: whole object', spec: get([['Range', 'bytes=0-9'], ['If-Range', '"0123"']]), range: null },
  { name: 'If-Range with a weak ETag: whole object (§13.1.5)', spec: () => get([['Range', 'bytes=0-9'], ['If-Range', `W/${etag}`]])(), range: null },
  { name: 'If-Range with Last-Modified: Range kept', spec: () => get([['Range', 'bytes=0-9'], ['If-Range', RFC_DATE(lastModified)]])(), range: 'bytes=0-9' },
  { name: 'If-Range with another date: whole object', spec: get([['Range', 'bytes=0-9'], ['If-Range', 'Sun, 06 Nov 1994 08:49:37 GMT']]), range: null },
  { name: 'If-None-Match current: 304', spec: () => get([['If-None-Match', etag]])(), status: 304, headers: () => ({ etag }) },
  { name: 'If-Modified-Since at Last-Modified: 304 with ETag, no Last-Modified (§15.4.5)',
    spec: () => get([['If-Modified-Since', RFC_DATE(lastModified)]])(), status: 304, headers: () => ({ etag, 'last-modified': undefined }) },
  { name: 'HEAD If-Modified-Since at Last-Modified: 304, no Last-Modified',
    spec: () => get([['If-Modified-Since', RFC_DATE(lastModified)]], { method: 'HEAD' })(), status: 304, headers: () => ({ 'last-modified': undefined }) },
  { name: 'If-Match with the current ETag and trailing garbage: 412', spec: () => get([['If-Match', `${etag}xyz`]])(), status: 412 },
  { name: 'If-None-Match with the current ETag and trailing garbage: passed on whole', spec: () => get([['If-None-Match', `${etag}xyz`]])(), range: null },
  { name: 'If-None-Match as two fields, one current: 304', spec: () => get([['If-None-Match', '"x"'], ['If-None-Match', etag]])(), status: 304 },
  { name: 'If-None-Match other: passed on, decided', spec: get([['If-None-Match', '"x"'], ['Range', 'bytes=1-2']]), range: 'bytes=1-2' },
  { name: 'If-Match other: 412', spec: get([['If-Match', '"x"']]), status: 412 },
  { name: 'If-Match current: passed on', spec: () => get([['If-Match', etag]])(), range: null },
  { name: 'If-Unmodified-Since long ago: 412', spec: get([['If-Unmodified-Since', 'Sun, 06 Nov 1994 08:49:37 GMT']]), status: 412 },
  { name: 'If-Modified-Since now: 304', spec: () => get([['If-Modified-Since', RFC_DATE(new Date())]])(), status: 304 },
  { name: 'Range past the end: 416 with the length', spec: get([['Range', 'bytes=70000-']]), status: 416, headers: () => ({ 'content-range': 'bytes */65536' }) },
  { name: 'HEAD with Range: Range dropped (§14.2)', spec: get([['Range', 'bytes=0-9']], { method: 'HEAD' }), range: null },
  { name: 'querystring kept', spec: get([['Range', 'bytes=0-9']], { querystring: 'v=3&x=%20' }), range: 'bytes=0-9' },
  { name: 'missing object: 404', spec: () => ({ uri: '/nothing-here.bin' }), status: 404 },
  { name: 'path escaping the prefix: 400', spec: () => ({ uri: '/%2e%2e/secret' }), status: 400 },
];

describe('viewer-request', () => {
  it.each(VIEWER_CASES)('$name', async (c) => {
    const spec = c.spec();
    const event = viewerRequestEvent(spec);
    const result = await viewer(event);
    if (c.status !== undefined) {
      const res = answered(result);
      expect(Number(res.status)).toBe(c.status);
      for (const [name, v] of Object.entries(c.headers?.() ?? {})) expect(value(res.headers, name), name).toBe(v);
      expectValidGenerated(res, 40_000);
      expectGeneratedDate(res);
      return;
    }
    const out = passedOn(result);
    expect(value(out.headers, 'range')).toBe(c.range ?? undefined);
    for (const name of ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range']) {
      expect(out.headers[name], name).toBeUndefined();
    }
    expect(value(out.headers, 'x-ranges-etag')).toBe(etag);
    expect(out.uri).toBe(spec.uri);
    expect(out.querystring).toBe(spec.querystring ?? '');
    expectReadOnlyKept('viewer-request', event, out);
  });

  it('overwrites an x-ranges-etag sent by the client', async () => {
    const out = passedOn(await viewer(viewerRequestEvent({ uri: small, headers: [['X-Ranges-Etag', '"forged"']] })));
    expect(out.headers['x-ranges-etag']).toEqual([{ key: 'x-ranges-etag', value: etag }]);
  });

  it.each([
    { name: 'OPTIONS: 204 with Allow', method: 'OPTIONS', headers: [] as HeaderList, status: '204', fields: { allow: 'GET, HEAD, OPTIONS' } },
    {
      name: 'CORS preflight for a multi-range read: allowed',
      method: 'OPTIONS',
      headers: [['Origin', 'https://player.example'], ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', 'range']] as HeaderList,
      status: '204',
      fields: { 'access-control-allow-origin': '*', allow: 'GET, HEAD, OPTIONS' },
    },
    { name: 'POST: 405 with Allow', method: 'POST', headers: [] as HeaderList, status: '405', fields: { allow: 'GET, HEAD, OPTIONS' } },
  ])('$name', async ({ method, headers, status, fields }) => {
    const res = answered(await viewer(viewerRequestEvent({ uri: small, method, headers })));
    expect(res.status).toBe(status);
    expectGeneratedDate(res);
    for (const [name, v] of Object.entries(fields)) expect(value(res.headers, name)).toBe(v);
    if (headers.length > 0) expect(value(res.headers, 'access-control-allow-headers')).toMatch(/Range/);
    expectValidGenerated(res, 40_000);
  });
});

describe('viewer-request with the metadata cache (per container)', () => {
  it.each([
    { ttl: 10, heads: 1 },
    { ttl: 0, heads: 3 },
  ])('METADATA_TTL=$ttl: three requests make $heads HeadObject', async ({ ttl, heads }) => {
    const store = s3Store(client, settings.bucket);
    let count = 0;
    const counted: ObjectStore = { ...store, head: (key, signal) => (count++, store.head(key, signal)) };
    const app = handle(viewerRequestApp({ store: counted, keyPrefix: `${PREFIX}/`, metadata: new MetadataCache(ttl) }));
    for (const range of ['bytes=0-9', 'bytes=100-199', 'bytes=0-9']) {
      const out = passedOn(await app(viewerRequestEvent({ uri: small, headers: [['Range', range]] })));
      expect(value(out.headers, 'x-ranges-etag')).toBe(etag);
      expect(value(out.headers, 'range')).toBe(range);
    }
    expect(count).toBe(heads);
  });
});

describe('viewer-request with signed URLs', () => {
  const secret = 'a-signing-secret-of-some-length';
  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    { name: 'valid signature', query: async () => signPath(await hmacKey(secret), small, now() + 60), status: undefined },
    { name: 'no signature', query: async () => '', status: 403 },
    { name: 'expired', query: async () => signPath(await hmacKey(secret), small, now() - 1), status: 403 },
    { name: 'signed for another path', query: async () => signPath(await hmacKey(secret), '/other.bin', now() + 60), status: 403 },
  ])('$name', async ({ query, status }) => {
    const signed = handle(viewerRequestApp({ store: s3Store(client, settings.bucket), keyPrefix: `${PREFIX}/`, signingSecret: secret }));
    const result = await signed(viewerRequestEvent({ uri: small, querystring: await query(), headers: [['Range', 'bytes=0-9']] }));
    if (status === undefined) expect(value(passedOn(result).headers, 'range')).toBe('bytes=0-9');
    else expect(answered(result).status).toBe(String(status));
  });
});

describe('origin-request', () => {
  const stream: HeaderList = [
    [STREAM_ORIGIN_HEADER, 'abcdefgh.lambda-url.us-east-1.on.aws'],
    [ORIGIN_SECRET_HEADER, 'origin-secret-0123456789'],
  ];
  const ask = (uri: string, headers: HeaderList, originHeaders: HeaderList = []) =>
    originRequestEvent({ uri, headers, originHeaders }, settings.bucket);

  it.each([
    { name: 'no Range', headers: [] as HeaderList, range: undefined },
    { name: 'one range', headers: [['Range', 'bytes=10-20']] as HeaderList, range: 'bytes=10-20' },
    { name: 'malformed Range', headers: [['Range', 'bytes=x']] as HeaderList, range: 'bytes=x' },
  ])('$name: passed on to S3 with If-Match on the decided ETag', async ({ headers, range }) => {
    const event = ask(small, [...headers, ['x-ranges-etag', etag]]);
    const out = passedOn(await origin(event));
    expect(value(out.headers, 'range')).toBe(range);
    expect(value(out.headers, 'if-match')).toBe(etag);
    expect(out.origin?.s3).toBeDefined();
    expectReadOnlyKept('origin-request', event, out);
  });

  it('several ranges that fit: a generated multipart 206, byte for byte', async () => {
    const event = ask(small, [['Range', 'bytes=0-99,1000-1099,65500-'], ['x-ranges-etag', etag]]);
    const res = answered(await origin(event));
    expect(res.status).toBe('206');
    expectGeneratedDate(res);
    expect(res.bodyEncoding).toBe('base64');
    expectValidGenerated(res, ORIGIN_REQUEST_LIMIT);
    const body = Buffer.from(res.body!, 'base64');
    const parts = parseMultipart(body, boundaryOf(value(res.headers, 'content-type') ?? null));
    expect(parts.map((p) => p.headers['content-range'])).toEqual([
      'bytes 0-99/65536',
      'bytes 1000-1099/65536',
      'bytes 65500-65535/65536',
    ]);
    expect(parts.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from(SMALL.subarray(0, 100)),
      Buffer.from(SMALL.subarray(1000, 1100)),
      Buffer.from(SMALL.subarray(65500)),
    ]);
    expect(value(res.headers, 'etag')).toBe(etag);
  });

  it('several ranges just under the limit after base64: generated', async () => {
    // 2 × 370,000 bytes → about 986,700 in base64 plus framing and headers.
    const res = answered(await origin(ask('/large.bin', [['Range', 'bytes=0-369999,1000000-1369999'], ['x-ranges-etag', largeEtag]])));
    expect(res.status).toBe('206');
    expectValidGenerated(res, ORIGIN_REQUEST_LIMIT);
    const parts = parseMultipart(Buffer.from(res.body!, 'base64'), boundaryOf(value(res.headers, 'content-type') ?? null));
    expect(Buffer.from(parts[1]!.body).equals(Buffer.from(LARGE.subarray(1_000_000, 1_370_000)))).toBe(true);
  });

  it('too large, no streaming origin: Range dropped, S3 sends the whole object', async () => {
    const event = ask('/large.bin', [['Range', 'bytes=0-399999,1000000-1399999'], ['x-ranges-etag', largeEtag]]);
    const out = passedOn(await origin(event));
    expect(out.headers['range']).toBeUndefined();
    expect(value(out.headers, 'if-match')).toBe(largeEtag);
    expect(out.origin?.s3).toBeDefined();
    expectReadOnlyKept('origin-request', event, out);
  });

  it('too large, with a streaming origin: routed there, Range and secret with it', async () => {
    const event = ask('/large.bin', [['Range', 'bytes=0-399999,1000000-1399999'], ['x-ranges-etag', largeEtag]], stream);
    const out = passedOn(await origin(event));
    expect(out.origin?.custom?.domainName).toBe('abcdefgh.lambda-url.us-east-1.on.aws');
    expect(out.origin?.custom?.protocol).toBe('https');
    expect(out.origin?.custom?.customHeaders[ORIGIN_SECRET_HEADER]?.[0]?.value).toBe('origin-secret-0123456789');
    expect(value(out.headers, 'host')).toBe('abcdefgh.lambda-url.us-east-1.on.aws');
    expect(out.uri).toBe('/stream/large.bin');
    expect(value(out.headers, 'range')).toBe('bytes=0-399999,1000000-1399999');
    expectReadOnlyKept('origin-request', event, out);
  });

  it('the object changed since viewer-request decided: 412, never spliced', async () => {
    const res = answered(await origin(ask(small, [['Range', 'bytes=0-9,20-29'], ['x-ranges-etag', '"an-older-version"']])));
    expect(res.status).toBe('412');
    expectGeneratedDate(res);
    expectValidGenerated(res, ORIGIN_REQUEST_LIMIT);
  });

  it('several ranges that make one: passed on as that one range', async () => {
    const out = passedOn(await origin(ask(small, [['Range', 'bytes=0-9,5-19'], ['x-ranges-etag', etag]])));
    expect(value(out.headers, 'range')).toBe('bytes=0-19');
  });

  it('a missing object with several ranges: passed on for S3 to answer', async () => {
    const out = passedOn(await origin(ask('/nothing-here.bin', [['Range', 'bytes=0-9,20-29']])));
    expect(value(out.headers, 'range')).toBe('bytes=0-9,20-29');
  });
});
