/** Multi-range behaviour inside workerd over R2, and over S3 (radosgw). */
import { env } from 'cloudflare:workers';
import { describe } from 'vitest';
import { r2Store } from '../../lib/store/r2.ts';
import { KEY, inProcess, multirangeTests, overS3 } from '../support/multirange-cases.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

describe('over R2', () => {
  const put = async (bytes: Uint8Array) => {
    await env.BUCKET.put(KEY, bytes);
  };
  multirangeTests(() => inProcess(r2Store(env.BUCKET), put));
});

describe('over S3 (radosgw)', () => {
  const { store, put } = overS3(s3SettingsFrom(env));
  multirangeTests(() => inProcess(store, put), ['16 scattered ranges: byte-exact parts, 16 GETs', 'overwritten mid-response: aborted, never mixed']);
});
