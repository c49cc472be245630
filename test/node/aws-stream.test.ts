/**
 * The streaming Lambda entry (functions/aws/stream.ts) invoked through a
 * local stand-in for the Lambda streaming runtime, reading radosgw: its
 * streamed answers parsed back byte for byte, with no size cap.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { functionUrlEvent, installStreamingRuntime, invokeStreaming } from '../support/lambda-stream.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const settings = s3SettingsFrom(process.env);
const OBJECT = pseudoRandomBytes(3 * 1024 * 1024, 43);
const SECRET = 'origin-secret-0123456789';
let handler: unknown;
let etag: string;

beforeAll(async () => {
  const client = createS3Client(settings);
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: 'aws-stream/big.bin', Body: OBJECT, ContentType: 'video/mp4' }));
  etag = (await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: 'aws-stream/big.bin' }))).ETag!;
  installStreamingRuntime();
  vi.stubEnv('KEY_PREFIX', 'aws-stream/');
  vi.stubEnv('ORIGIN_SECRET', SECRET);
  vi.stubEnv('CORS_ORIGINS', 'off');
  handler = (await import('../../functions/aws/stream.ts')).handler;
});

const through = { 'x-ranges-origin-secret': SECRET };

describe('streaming Lambda origin', () => {
  it('streams a multipart answer larger than Lambda@Edge could generate, byte for byte', async () => {
    const ranges: [number, number][] = [[0, 999_999], [1_500_000, 2_299_999], [3_000_000, 3_145_727]];
    const res = await invokeStreaming(
      handler,
      functionUrlEvent('/stream/big.bin', { ...through, range: `bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(',')}` }),
    );
    expect(res.statusCode).toBe(206);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeGreaterThan(1_000_000);
    expect(res.writes).toBeGreaterThan(1);
    const parts = parseMultipart(res.body, boundaryOf(res.headers['content-type'] ?? null));
    expect(parts.map((p) => p.headers['content-range'])).toEqual(ranges.map(([a, b]) => `bytes ${a}-${b}/${OBJECT.length}`));
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['video/mp4', 'video/mp4', 'video/mp4']);
    parts.forEach((p, i) => {
      const [a, b] = ranges[i]!;
      expect(Buffer.from(p.body).equals(Buffer.from(OBJECT.subarray(a, b + 1))), `part ${i}`).toBe(true);
    });
  });

  it.each([
    { name: 'one range', headers: { range: 'bytes=100-199' }, status: 206, bytes: [100, 200] },
    { name: 'stale If-Range: the whole object', headers: { range: 'bytes=100-199', 'if-range': '"old"' }, status: 200, bytes: [0, OBJECT.length] },
    { name: 'a suffix range', headers: { range: 'bytes=-10' }, status: 206, bytes: [OBJECT.length - 10, OBJECT.length] },
  ])('$name → $status', async ({ headers, status, bytes }) => {
    const res = await invokeStreaming(handler, functionUrlEvent('/stream/big.bin', { ...through, ...headers }));
    expect(res.statusCode).toBe(status);
    expect(res.headers['etag']).toBe(etag);
    expect(res.body.equals(Buffer.from(OBJECT.subarray(bytes[0], bytes[1])))).toBe(true);
  });

  it.each([
    { name: 'no origin secret', headers: {}, status: 403 },
    { name: 'a wrong origin secret', headers: { 'x-ranges-origin-secret': 'guess' }, status: 403 },
    { name: 'a missing object', headers: through, path: '/stream/none.bin', status: 404 },
    { name: 'a precondition that fails', headers: { ...through, 'if-match': '"x"' }, status: 412 },
  ])('$name → $status', async ({ headers, status, path }) => {
    const res = await invokeStreaming(handler, functionUrlEvent(path ?? '/stream/big.bin', headers));
    expect(res.statusCode).toBe(status);
  });

  it('misconfigured: every request says what is wrong, with a 500', async () => {
    vi.resetModules();
    vi.stubEnv('S3_BUCKET', '');
    try {
      const broken = (await import('../../functions/aws/stream.ts')).handler;
      const res = await invokeStreaming(broken, functionUrlEvent('/stream/big.bin', through));
      expect(res.statusCode).toBe(500);
      expect(res.body.toString()).toMatch(/S3_BUCKET is missing/);
    } finally {
      vi.stubEnv('S3_BUCKET', settings.bucket);
    }
  });
});
