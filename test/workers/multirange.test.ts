/** Multi-range behaviour inside workerd over R2, and over S3 (radosgw). */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { r2Store } from '../../lib/store/r2.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import * as cases from '../support/multirange-cases.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const r2Put: cases.Put = async (bytes) => {
  await env.BUCKET.put(cases.KEY, bytes);
};

describe('over R2', () => {
  const store = r2Store(env.BUCKET);
  it('16 scattered ranges: byte-exact parts, 16 GETs', () => cases.sixteenScatteredRanges(store, r2Put));
  it('nearby ranges share GETs', () => cases.nearbyRangesShareGets(store, r2Put));
  it('1,000 overlapping ranges: 200 within a second, one GET', () => cases.thousandOverlappingRanges(store, r2Put));
  it('overwritten mid-response: aborted, never mixed', () => cases.overwrittenMidResponse(store, r2Put));
});

describe('over S3 (radosgw)', () => {
  const settings = s3SettingsFrom(env);
  const client = createS3Client(settings);
  const store = s3Store(client, settings.bucket);
  const put: cases.Put = async (bytes) => {
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: cases.KEY, Body: bytes }));
  };
  it('16 scattered ranges: byte-exact parts, 16 GETs', () => cases.sixteenScatteredRanges(store, put));
  it('overwritten mid-response: aborted, never mixed', () => cases.overwrittenMidResponse(store, put));
});
