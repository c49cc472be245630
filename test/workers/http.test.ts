/**
 * The HTTP table inside workerd: the Workers entry over R2 (the binding
 * from wrangler.toml), and the same app over S3 (radosgw) so the SDK's
 * browser build is exercised where it really runs.
 */
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { HttpMetadata } from '../../lib/store/types.ts';
import { FIXTURES, type Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase } from '../support/http-cases.ts';
import { seedS3, s3SettingsFrom } from '../support/s3-seed.ts';

const BASE = 'http://edge-ranges.test';

describe('Workers entry over R2', () => {
  const validators = new Map<string, Validators>();
  beforeAll(async () => {
    for (const [name, f] of Object.entries(FIXTURES)) {
      const put = await env.BUCKET.put(f.key, f.bytes, { httpMetadata: r2Metadata(f.http) });
      expect(put).not.toBeNull();
      validators.set(name, { etag: put!.httpEtag, lastModified: put!.uploaded });
    }
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await exports.default.fetch(caseRequest(c, BASE, v)), v);
  });
});

/** R2's names for the fixture's metadata, leaving out what is not set. */
function r2Metadata(http: HttpMetadata): R2HTTPMetadata {
  const { expires, ...rest } = http;
  const fields = { ...rest, cacheExpiry: expires };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as R2HTTPMetadata;
}

describe('the app over S3 (radosgw) inside workerd', () => {
  const settings = s3SettingsFrom(env);
  const app = createApp({ store: s3Store(createS3Client(settings), settings.bucket) });
  let validators: Map<string, Validators>;
  beforeAll(async () => {
    validators = await seedS3(createS3Client(settings), settings.bucket);
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await app.fetch(caseRequest(c, BASE, v)), v);
  });
});
