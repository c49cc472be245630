/** Multi-range behaviour on Node over radosgw. */
import { describe } from 'vitest';
import { multirangeTests, overS3 } from '../support/multirange-cases.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

describe('over radosgw', () => {
  const { store, put } = overS3(s3SettingsFrom(process.env));
  multirangeTests(store, put);
});
