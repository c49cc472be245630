/** Store calls per request kind (the README's table) from Node, over S3 (radosgw) and an HTTP origin (nginx). */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe } from 'vitest';
import { httpStore } from '../../lib/store/http.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import type { Validators } from '../support/fixtures.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';
import { startNginxOrigin, type NginxOrigin } from '../support/http-origin.ts';
import { validatorsAt } from '../support/origins.ts';
import { storeCallTests } from '../support/store-calls.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('store calls over S3 from Node', () => {
  let store: ObjectStore;
  let v: Validators;
  beforeAll(async () => {
    const settings = s3SettingsFrom(process.env);
    const client = createS3Client(settings);
    v = (await seedS3(client, settings.bucket)).get('data')!;
    store = s3Store(client, settings.bucket);
  });
  storeCallTests(README, 'S3', async () => ({ store, v }));
});

describe('store calls over an HTTP origin (nginx) from Node', () => {
  let origin: NginxOrigin;
  let store: ObjectStore;
  let v: Validators;
  beforeAll(async () => {
    origin = await startNginxOrigin();
    v = (await validatorsAt(origin.nginx.url)).get('data')!;
    store = httpStore({ url: new URL(`${origin.nginx.url}/`) });
  });
  afterAll(() => origin?.stop());
  storeCallTests(README, 'HTTP', async () => ({ store, v }));
});
