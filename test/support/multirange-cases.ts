/**
 * Multi-range behaviour against a real store, run inside workerd over R2
 * and on Node over radosgw: GET counts, egregious sets, and an object
 * overwritten in the middle of a response. Runtime-neutral.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { createS3Client, s3Store, type S3Settings } from '../../lib/store/s3.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { counting } from './counting-store.ts';
import { firstDifference } from './http-cases.ts';
import { boundaryOf, parseMultipart } from './multipart.ts';
import { firstPartOf, readAcross } from './streams.ts';

export const MIB = 1024 * 1024;
export const KEY = 'multi/object.bin';
export const V1 = pseudoRandomBytes(8 * MIB, 11);
export const V2 = pseudoRandomBytes(8 * MIB, 12);

/** Puts `bytes` under KEY in the store under test. */
export type Put = (bytes: Uint8Array) => Promise<void>;

async function readAll(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

export async function sixteenScatteredRanges(store: ObjectStore, put: Put): Promise<void> {
  await put(V1);
  const s = counting(store);
  const starts = Array.from({ length: 16 }, (_, i) => i * 500_000 + 17);
  const range = 'bytes=' + starts.map((a) => `${a}-${a + 64 * 1024 - 1}`).join(',');
  const res = await createApp({ store: s, limits: { upstreamGap: 0 } }).request(`/${KEY}`, { headers: { range } });
  expect(res.status).toBe(206);
  const body = await readAll(res);
  expect(res.headers.get('content-length')).toBe(String(body.length));
  const parts = parseMultipart(body, boundaryOf(res.headers.get('content-type')));
  expect(parts).toHaveLength(16);
  parts.forEach((p, i) => {
    expect(p.headers['content-range']).toBe(`bytes ${starts[i]}-${starts[i]! + 64 * 1024 - 1}/${V1.length}`);
    expect(firstDifference(p.body, V1.subarray(starts[i]!, starts[i]! + 64 * 1024))).toBe(-1);
  });
  expect(s.gets).toHaveLength(16);
}

export async function nearbyRangesShareGets(store: ObjectStore, put: Put): Promise<void> {
  await put(V1);
  const s = counting(store);
  // Four ranges 10 KiB apart, then four more 2 MiB away: two GETs at the default 128 KiB gap.
  const starts = [0, 20_000, 40_000, 60_000, 4 * MIB, 4 * MIB + 20_000, 4 * MIB + 40_000, 4 * MIB + 60_000];
  const range = 'bytes=' + starts.map((a) => `${a}-${a + 9_999}`).join(',');
  const res = await createApp({ store: s }).request(`/${KEY}`, { headers: { range } });
  const parts = parseMultipart(await readAll(res), boundaryOf(res.headers.get('content-type')));
  parts.forEach((p, i) => expect(firstDifference(p.body, V1.subarray(starts[i]!, starts[i]! + 10_000))).toBe(-1));
  expect(s.gets).toEqual([
    { offset: 0, length: 70_000 },
    { offset: 4 * MIB, length: 70_000 },
  ]);
}

export async function thousandOverlappingRanges(store: ObjectStore, put: Put): Promise<void> {
  await put(V1);
  const s = counting(store);
  const range = 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i}-${i + 1_000_000}`).join(',');
  const started = Date.now();
  const res = await createApp({ store: s }).request(`/${KEY}`, { headers: { range } });
  const answeredIn = Date.now() - started;
  expect(res.status).toBe(200);
  expect((await readAll(res)).length).toBe(V1.length);
  expect(s.gets).toEqual([undefined]); // one plain read of the object
  expect(answeredIn).toBeLessThan(1000);
}

/**
 * The object is replaced after the first bytes went out: the body must
 * error, and every byte received before must be version 1.
 */
export async function overwrittenMidResponse(store: ObjectStore, put: Put): Promise<void> {
  await put(V1);
  const starts = [0, 2 * MIB, 4 * MIB, 6 * MIB];
  const range = 'bytes=' + starts.map((a) => `${a}-${a + MIB - 1}`).join(',');
  const app = createApp({ store, concurrency: 1, limits: { upstreamGap: 0 } });
  const res = await app.request(`/${KEY}`, { headers: { range } });
  expect(res.status).toBe(206);
  const { bytes, error } = await readAcross(res.body!, () => put(V2));
  expect(error).toBeDefined();
  const firstPart = firstPartOf(bytes, MIB);
  expect(firstPart.length).toBeGreaterThan(0);
  expect(firstDifference(firstPart, V1.subarray(0, firstPart.length))).toBe(-1);
}

const CASES = {
  '16 scattered ranges: byte-exact parts, 16 GETs': sixteenScatteredRanges,
  'nearby ranges share GETs': nearbyRangesShareGets,
  '1,000 overlapping ranges: 200 within a second, one GET': thousandOverlappingRanges,
  'overwritten mid-response: aborted, never mixed': overwrittenMidResponse,
} as const;

/** Registers the cases (all, or those named) for one store. */
export function multirangeTests(store: ObjectStore, put: Put, only?: ReadonlyArray<keyof typeof CASES>): void {
  for (const [name, run] of Object.entries(CASES)) {
    if (!only || only.includes(name as keyof typeof CASES)) it(name, () => run(store, put));
  }
}

/** The S3 store under test, and how to put KEY into it. */
export function overS3(settings: S3Settings): { store: ObjectStore; put: Put } {
  const client = createS3Client(settings);
  return {
    store: s3Store(client, settings.bucket),
    put: async (bytes) => {
      await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: bytes }));
    },
  };
}
