/** The Workers entry's configuration errors: a clear answer, never a crash. */
import { describe, expect, it } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

describe('Workers entry configuration', () => {
  it.for<[string, Record<string, unknown>, string]>([
    ['no R2 binding', {}, 'BUCKET is missing: bind an R2 bucket as BUCKET in wrangler.toml'],
    ['unknown store', { STORE: 'gcs' }, 'STORE is malformed: expected "r2" or "s3", got "gcs"'],
    ['S3 without a bucket', { STORE: 's3', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' },
      'S3_BUCKET is missing: set it to the bucket name'],
  ])('%s', async ([, env, message]) => {
    const res = await worker.fetch(new Request('http://edge-ranges.test/a.bin'), env, ctx);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(`edge-ranges is misconfigured: ${message}\n`);
  });
});
