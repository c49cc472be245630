/**
 * The Node entry's byte path against radosgw: the lean GetObject
 * (functions/node/get-object.ts) answers exactly as the SDK's does — the
 * same fields, the same bytes, the same statuses on failure — for a table
 * of keys and conditions; and PipedBody/pipingResponses pipe the store's
 * Node stream to the socket with its length enforced, or fall back to the
 * web stream when they cannot promise it.
 */
import { GetObjectCommand, PutObjectCommand, type GetObjectCommandInput } from '@aws-sdk/client-s3';
import { serve, type ServerType } from '@hono/node-server';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { exactLength } from '../../lib/body.ts';
import { createS3Client, sdkGetObject, type GetObjectOutput } from '../../lib/store/s3.ts';
import { leanGetObject, encodeKey, storeAgents } from '../../functions/node/get-object.ts';
import { PipedBody, pipingResponses } from '../../functions/node/piped-body.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const settings = s3SettingsFrom(process.env);
const agents = storeAgents();
const client = createS3Client(settings, agents);
const lean = leanGetObject(client, settings.bucket, agents);
const sdk = sdkGetObject(client);
const BYTES = pseudoRandomBytes(200_000, 77);
/** Keys that need encoding in a URL path, each written with the SDK. */
const KEYS = ['byte-path/plain.bin', 'byte-path/with space+plus.bin', "byte-path/!'()*&$=;:@,.bin", 'byte-path/ünï/cödé €.bin', 'byte-path/percent%2Fnot-a-slash.bin'];
let etag = '';

beforeAll(async () => {
  for (const key of KEYS) {
    const out = await client.send(
      new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: BYTES, ContentType: 'application/x-test', CacheControl: 'max-age=60', Expires: new Date('2031-02-03T04:05:06Z') }),
    );
    etag = out.ETag!;
  }
});

async function bytesOf(out: GetObjectOutput): Promise<Buffer> {
  return Buffer.from(await new Response(out.Body!.transformToWebStream()).arrayBuffer());
}

/** The fields the store reads, and the bytes; or the status it failed with. */
async function outcome(get: typeof sdk, input: GetObjectCommandInput): Promise<unknown> {
  try {
    const out = await get(input);
    return {
      ContentLength: out.ContentLength,
      ContentRange: out.ContentRange,
      ETag: out.ETag,
      LastModified: out.LastModified?.toISOString(),
      ContentType: out.ContentType,
      CacheControl: out.CacheControl,
      Expires: out.Expires?.toISOString(),
      bytes: await bytesOf(out),
    };
  } catch (err) {
    return { status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
  }
}

describe('the lean GetObject answers as the SDK does', () => {
  const cases: [string, (key: string) => Partial<GetObjectCommandInput>][] = [
    ['whole object', () => ({})],
    ['a range', () => ({ Range: 'bytes=100-4195' })],
    ['an open range', () => ({ Range: 'bytes=199000-' })],
    ['a suffix', () => ({ Range: 'bytes=-777' })],
    ['If-Match that holds', () => ({ Range: 'bytes=0-9', IfMatch: etag })],
    ['If-Match that fails: 412', () => ({ Range: 'bytes=0-9', IfMatch: '"0000"' })],
    ['If-None-Match that matches: 304', () => ({ IfNoneMatch: etag })],
    ['If-Modified-Since in the future: 304', () => ({ IfModifiedSince: new Date(Date.now() + 86_400_000) })],
    ['If-Unmodified-Since in the past: 412', () => ({ IfUnmodifiedSince: new Date('2001-01-01T00:00:00Z') })],
    ['an unsatisfiable range: 416', () => ({ Range: 'bytes=900000-900001' })],
  ];
  it.for(KEYS.flatMap((key) => cases.map(([name, input]) => [`${key}: ${name}`, key, input] as const)))('%s', async ([, key, input]) => {
    const full = { Bucket: settings.bucket, Key: key, ...input(key) };
    const [mine, theirs] = [await outcome(lean, full), await outcome(sdk, full)];
    expect(mine).toEqual(theirs);
  });

  it('a missing key: 404, like the SDK', async () => {
    const input = { Bucket: settings.bucket, Key: 'byte-path/missing.bin' };
    expect(await outcome(lean, input)).toEqual({ status: 404 });
    expect(await outcome(sdk, input)).toEqual({ status: 404 });
  });

  it('gives the SDK what it does not cover, and the body is then the SDK\'s', async () => {
    const out = await lean({ Bucket: settings.bucket, Key: KEYS[0]!, Range: 'bytes=0-9', ResponseCacheControl: 'no-store' });
    expect(out.CacheControl).toBe('no-store');
    expect(out.Body!.transformToWebStream()).not.toBeInstanceOf(PipedBody);
  });

  it('encodes keys as the SDK does', async () => {
    for (const key of KEYS) {
      const command = new GetObjectCommand({ Bucket: settings.bucket, Key: key });
      let path = '';
      command.middlewareStack.add(
        (_next) => async (args) => {
          path = (args.request as { path: string }).path;
          throw new Error('built');
        },
        { step: 'build', priority: 'low' },
      );
      await client.send(command).catch(() => {});
      expect(path.endsWith(`/${encodeKey(key)}`)).toBe(true);
    }
  });
});

describe('PipedBody and pipingResponses', () => {
  let server: ServerType;
  let base = '';
  /** What the next request is answered with. */
  let answer: () => Response = () => new Response(null);

  beforeAll(async () => {
    server = serve({ fetch: pipingResponses(() => answer()), hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A raw GET: status, bytes received, and whether the transfer completed. */
  function fetchRaw(): Promise<{ status: number; bytes: number; complete: boolean }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(base, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode!, bytes, complete: res.complete }));
        res.on('error', () => resolve({ status: res.statusCode!, bytes, complete: false }));
        res.on('aborted', () => resolve({ status: res.statusCode!, bytes, complete: false }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function respond(body: ReadableStream<Uint8Array>, length: number): Response {
    return new Response(exactLength(body, length), { status: 206, headers: { 'content-length': String(length) } });
  }

  it.for<[string, number, number, number, boolean, boolean]>([
    // name, bytes the source has, declared, promised, piped, complete
    ['declared = promised: piped untouched', 100_000, 100_000, 100_000, true, true],
    ['declared ≠ promised, source short: web path aborts', 60_000, 60_000, 100_000, false, false],
    ['no declared length: web path, complete', 100_000, NaN, 100_000, false, true],
  ])('%s', async ([, has, declared, promised, piped, complete]) => {
    const body = new PipedBody(Readable.from([Buffer.alloc(has / 2, 1), Buffer.alloc(has / 2, 2)]), Number.isNaN(declared) ? undefined : declared);
    answer = () => respond(body, promised);
    const got = await fetchRaw();
    expect(got.status).toBe(206);
    expect(got.complete).toBe(complete);
    expect(got.bytes).toBe(complete ? promised : Math.min(has, promised));
    // Piped: the web side was never read.
    expect(!body.locked).toBe(piped);
  });

  it('a source that fails mid-body: the client sees the transfer abort, never a complete body', async () => {
    const source = new PassThrough();
    answer = () => respond(new PipedBody(source, 100_000), 100_000);
    const got = fetchRaw();
    source.write(Buffer.alloc(30_000));
    setTimeout(() => source.destroy(new Error('store connection reset')), 50);
    expect(await got).toMatchObject({ status: 206, bytes: 30_000, complete: false });
  });

  it('a client that goes away: the source is destroyed', async () => {
    const source = new PassThrough();
    answer = () => respond(new PipedBody(source, 10_000_000), 10_000_000);
    await new Promise<void>((resolve) => {
      const req = httpRequest(base, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
      source.write(Buffer.alloc(64 * 1024));
    });
    await new Promise<void>((resolve) => (source.destroyed ? resolve() : source.once('close', () => resolve())));
    expect(source.destroyed).toBe(true);
  });

  it('read as a web stream, it enforces the promised length itself', async () => {
    const long = exactLength(new PipedBody(Readable.from([Buffer.alloc(10)]), 10), 8);
    await expect(new Response(long).arrayBuffer()).rejects.toThrow(/longer than the 8 bytes/);
    const short = exactLength(new PipedBody(Readable.from([Buffer.alloc(10)]), 10), 12);
    await expect(new Response(short).arrayBuffer()).rejects.toThrow(/ended after 10 of 12/);
    const exact = exactLength(new PipedBody(Readable.from([Buffer.alloc(10, 7)]), 10), 10);
    expect(Buffer.from(await new Response(exact).arrayBuffer())).toEqual(Buffer.alloc(10, 7));
  });
});
