/** The Workers entry's configuration errors: a clear answer, never a crash. */
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

describe('Workers entry configuration', () => {
  it.for<[string, Record<string, unknown>, string]>([
    ['no R2 binding', {}, 'BUCKET is missing: bind an R2 bucket as BUCKET in wrangler.toml'],
    ['unknown store', { STORE: 'gcs' }, 'STORE is malformed: expected "r2", "s3" or "http", got "gcs"'],
    ['HTTP origin without a URL', { STORE: 'http' },
      'ORIGIN_URL is missing: set it to the base URL of the objects, like https://bucket.example.com/prefix/'],
    ['HTTP origin with a malformed URL (the query, a secret, left out)', { STORE: 'http', ORIGIN_URL: 'ftp://x.test/b?sig=secret' },
      'ORIGIN_URL is malformed: expected an http(s) URL like https://bucket.example.com/prefix/, got "ftp://x.test/b?…"'],
    ['HTTP origin with a header the store sets itself', { STORE: 'http', ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'Range: bytes=0-' },
      'ORIGIN_HEADERS is malformed: Range is set by the store itself'],
    ['S3 without a bucket', { STORE: 's3', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' },
      'S3_BUCKET is missing: set it to the bucket name'],
  ])('%s', async ([, env, message]) => {
    const res = await worker.fetch(new Request('http://edge-ranges.test/a.bin'), env, ctx);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(`edge-ranges is misconfigured: ${message}\n`);
  });
});

/**
 * STORE=s3 with a secret the store refuses: Workers have no start-up to
 * check it at, so each request answers 502 and the log line (wrangler tail)
 * carries S3's status. Against the suite's radosgw.
 */
describe('Workers entry with refused S3 credentials', () => {
  it('answers 502 and logs the 403', async () => {
    s3SettingsFrom(env); // fails loudly without a radosgw
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const bad = { ...env, STORE: 's3', S3_SECRET_ACCESS_KEY: 'not-the-secret' };
    const res = await worker.fetch(new Request('http://edge-ranges.test/a.bin'), bad, ctx);
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('Bad Gateway: the object store failed\n');
    expect(errors.mock.calls.flat().map(String).join('\n')).toContain('403');
  });
});
