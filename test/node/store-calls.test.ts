/** Store calls per request kind (the README's table) from Node, over S3 (radosgw). */
import { readFileSync } from 'node:fs';
import { beforeAll, describe } from 'vitest';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import type { Validators } from '../support/fixtures.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';
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
