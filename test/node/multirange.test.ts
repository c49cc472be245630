/** Multi-range behaviour on Node over radosgw. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, it } from 'vitest';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import * as cases from '../support/multirange-cases.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

describe('over radosgw', () => {
  const settings = s3SettingsFrom(process.env);
  const client = createS3Client(settings);
  const store = s3Store(client, settings.bucket);
  const put: cases.Put = async (bytes) => {
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: cases.KEY, Body: bytes }));
  };
  it('16 scattered ranges: byte-exact parts, 16 GETs', () => cases.sixteenScatteredRanges(store, put));
  it('nearby ranges share GETs', () => cases.nearbyRangesShareGets(store, put));
  it('1,000 overlapping ranges: 200 within a second, one GET', () => cases.thousandOverlappingRanges(store, put));
  it('overwritten mid-response: aborted, never mixed', () => cases.overwrittenMidResponse(store, put));
});
