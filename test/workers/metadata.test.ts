/**
 * Stored metadata fidelity inside workerd (issue 14.7): a UTF-8
 * Content-Disposition comes back as stored, and a stored value no HTTP
 * field can carry (CR, LF) is dropped and logged, never a 500. The Workers
 * entry over R2, and the app over S3 (radosgw).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { env, exports } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const BASE = 'http://edge-ranges.test';
const TEXT = 'stored metadata travels byte for byte\n'.repeat(100);
const DISPOSITION = 'attachment; filename="日本.pdf"';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The stored value as UTF-8 bytes on the wire: workerd sends header text as UTF-8. */
const utf8 = (s: string) => [...new TextEncoder().encode(s)];

describe('Workers entry over R2', () => {
  beforeAll(async () => {
    await env.BUCKET.put('meta/jp.txt', TEXT, { httpMetadata: { contentDisposition: DISPOSITION, contentType: 'text/plain' } });
    await env.BUCKET.put('meta/crlf.txt', TEXT, {
      httpMetadata: { contentDisposition: 'attachment\r\nX-Injected: 1', contentType: 'text/plain\r\nX-Part: 1', contentLanguage: 'en' },
    });
  });

  it('a non-ASCII Content-Disposition comes back as stored', async () => {
    const res = await exports.default.fetch(new Request(`${BASE}/meta/jp.txt`));
    expect(res.status).toBe(200);
    expect(utf8(res.headers.get('content-disposition')!)).toEqual(utf8(DISPOSITION));
    expect(await res.text()).toBe(TEXT);
  });

  it.for([
    ['GET', {}, 200],
    ['a range', { range: 'bytes=0-5' }, 206],
    ['HEAD', {}, 200],
  ] as const)('CR/LF in stored metadata: %s answers, the field dropped and logged', async ([what, headers, status]) => {
    // A key of its own: the edge cache keeps metadata (sanitized once) for METADATA_TTL.
    const key = `meta/crlf-${what.replace(' ', '-')}.txt`;
    await env.BUCKET.put(key, TEXT, {
      httpMetadata: { contentDisposition: 'attachment\r\nX-Injected: 1', contentType: 'text/plain\r\nX-Part: 1', contentLanguage: 'en' },
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await exports.default.fetch(new Request(`${BASE}/${key}`, { method: what === 'HEAD' ? 'HEAD' : 'GET', headers }));
    expect(res.status).toBe(status);
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-injected')).toBeNull();
    expect(res.headers.get('content-language')).toBe('en');
    const body = await res.text();
    if (what === 'GET') expect(body).toBe(TEXT);
    const logged = errors.mock.calls.flat().map(String).join('\n');
    expect(logged).toContain(`${key}: stored Content-Disposition not sent`);
    expect(logged).toContain(`${key}: stored Content-Type not sent`);
  });

  it('CR/LF in a stored Content-Type never reaches a multipart part', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await exports.default.fetch(new Request(`${BASE}/meta/crlf.txt`, { headers: { range: 'bytes=0-1,20-21' } }));
    expect(res.status).toBe(206);
    const parts = parseMultipart(new Uint8Array(await res.arrayBuffer()), boundaryOf(res.headers.get('content-type')));
    expect(parts.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/octet-stream', 'content-range': `bytes 0-1/${TEXT.length}` },
      { 'content-type': 'application/octet-stream', 'content-range': `bytes 20-21/${TEXT.length}` },
    ]);
  });
});

describe('the app over S3 (radosgw) inside workerd', () => {
  const settings = s3SettingsFrom(env);
  const client = createS3Client(settings);
  const app = createApp({ store: s3Store(client, settings.bucket), log: false });
  beforeAll(async () => {
    // The SDK inside workerd sends the header as UTF-8 and signs those bytes.
    await client.send(
      new PutObjectCommand({ Bucket: settings.bucket, Key: 'meta/jp.txt', Body: TEXT, ContentDisposition: DISPOSITION }),
    );
  });

  it.for([
    ['GET', {}, 200],
    ['a range', { range: 'bytes=0-5' }, 206],
    ['a precondition', { 'if-none-match': '"other"' }, 200],
    ['HEAD', {}, 200],
  ] as const)('a non-ASCII Content-Disposition comes back as stored: %s', async ([what, headers, status]) => {
    const res = await app.fetch(new Request(`${BASE}/meta/jp.txt`, { method: what === 'HEAD' ? 'HEAD' : 'GET', headers }));
    expect(res.status).toBe(status);
    expect(utf8(res.headers.get('content-disposition')!)).toEqual(utf8(DISPOSITION));
  });
});
