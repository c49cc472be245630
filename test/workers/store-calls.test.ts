/** Store calls per request kind (the README's table) inside workerd, over R2, S3 (radosgw) and an HTTP origin (nginx). */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, inject } from 'vitest';
import { httpStore } from '../../lib/store/http.ts';
import README from '../../README.md?raw';
import { r2Store } from '../../lib/store/r2.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { FIXTURES, type Validators } from '../support/fixtures.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';
import { validatorsAt } from '../support/origins.ts';
import { storeCallTests } from '../support/store-calls.ts';

describe('store calls over the R2 binding', () => {
  let v: Validators;
  beforeAll(async () => {
    const put = await env.BUCKET.put(FIXTURES.data.key, FIXTURES.data.bytes);
    v = { etag: put!.httpEtag, lastModified: put!.uploaded };
  });
  storeCallTests(README, 'R2', async () => ({ store: r2Store(env.BUCKET), v }));
});

describe('store calls over S3 (radosgw) inside workerd', () => {
  let store: ObjectStore;
  let v: Validators;
  beforeAll(async () => {
    const settings = s3SettingsFrom(env);
    const client = createS3Client(settings);
    v = (await seedS3(client, settings.bucket)).get('data')!;
    store = s3Store(client, settings.bucket);
  });
  storeCallTests(README, 'S3', async () => ({ store, v }));
});

describe('store calls over an HTTP origin (nginx) inside workerd', () => {
  const origin = inject('nginxOrigin');
  const store = httpStore({ url: new URL(`${origin}/`) });
  let v: Validators;
  beforeAll(async () => {
    v = (await validatorsAt(origin)).get('data')!;
  });
  storeCallTests(README, 'HTTP', async () => ({ store, v }));
});
