/**
 * Multi-range behaviour against a real store, run inside workerd over R2,
 * on Node over radosgw, and over HTTP against each standalone entry: parts
 * byte for byte, GET counts, egregious sets, and an object overwritten in
 * the middle of a response. Runtime-neutral.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { readServerRangeOptions } from '../../lib/config.ts';
import { SIZE_SLACK } from '../../lib/range/plan.ts';
import { createS3Client, s3Store, type S3Settings } from '../../lib/store/s3.ts';
import type { ObjectStore, Span } from '../../lib/store/types.ts';
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

/**
 * What the cases run against: the app in-process over a store, or an
 * entry over HTTP. Runtime-neutral.
 */
export interface Subject {
  /**
   * GETs KEY with this Range header. `oneGetAtATime`: the parts' store
   * GETs run one after another (concurrency 1), so a later GET starts
   * after the earlier parts were sent.
   */
  request(range: string, options?: { oneGetAtATime?: boolean }): Promise<Response>;
  /** The store GETs the last request made, in order (a span, or undefined for the whole object). */
  gets(): ReadonlyArray<Span | undefined>;
  readonly put: Put;
}

/** The app in-process over `store`, its GETs counted. */
export function inProcess(store: ObjectStore, put: Put): Subject {
  let last = counting(store);
  return {
    put,
    gets: () => last.gets,
    async request(range, { oneGetAtATime = false } = {}) {
      last = counting(store);
      const app = createApp({ store: last, ...(oneGetAtATime && { concurrency: 1 }) });
      return app.request(`/${KEY}`, { headers: { range } });
    },
  };
}

async function readAll(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

export async function sixteenScatteredRanges(subject: Subject): Promise<void> {
  await subject.put(V1);
  // 500,000 bytes apart: farther than the default gap, so 16 GETs.
  const starts = Array.from({ length: 16 }, (_, i) => i * 500_000 + 17);
  const range = 'bytes=' + starts.map((a) => `${a}-${a + 64 * 1024 - 1}`).join(',');
  const res = await subject.request(range);
  expect(res.status).toBe(206);
  const body = await readAll(res);
  expect(res.headers.get('content-length')).toBe(String(body.length));
  const parts = parseMultipart(body, boundaryOf(res.headers.get('content-type')));
  expect(parts).toHaveLength(16);
  parts.forEach((p, i) => {
    expect(p.headers['content-range']).toBe(`bytes ${starts[i]}-${starts[i]! + 64 * 1024 - 1}/${V1.length}`);
    expect(firstDifference(p.body, V1.subarray(starts[i]!, starts[i]! + 64 * 1024))).toBe(-1);
  });
  expect(subject.gets()).toHaveLength(16);
}

export async function nearbyRangesShareGets(subject: Subject): Promise<void> {
  await subject.put(V1);
  // Four ranges 10 KiB apart, then four more 2 MiB away: two GETs at the default 128 KiB gap.
  const starts = [0, 20_000, 40_000, 60_000, 4 * MIB, 4 * MIB + 20_000, 4 * MIB + 40_000, 4 * MIB + 60_000];
  const range = 'bytes=' + starts.map((a) => `${a}-${a + 9_999}`).join(',');
  const res = await subject.request(range);
  const parts = parseMultipart(await readAll(res), boundaryOf(res.headers.get('content-type')));
  expect(parts).toHaveLength(8);
  parts.forEach((p, i) => expect(firstDifference(p.body, V1.subarray(starts[i]!, starts[i]! + 10_000))).toBe(-1));
  expect(subject.gets()).toEqual([
    { offset: 0, length: 70_000 },
    { offset: 4 * MIB, length: 70_000 },
  ]);
}

export async function thousandOverlappingRanges(subject: Subject): Promise<void> {
  await subject.put(V1);
  const range = 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i}-${i + 1_000_000}`).join(',');
  const started = Date.now();
  const res = await subject.request(range);
  const answeredIn = Date.now() - started;
  expect(res.status).toBe(200);
  expect(firstDifference(await readAll(res), V1)).toBe(-1);
  expect(subject.gets()).toEqual([undefined]); // one plain read of the object
  expect(answeredIn).toBeLessThan(1000);
}

/**
 * The object is replaced after the first bytes went out: the body must
 * error, and every byte received before must be version 1.
 */
export async function overwrittenMidResponse(subject: Subject): Promise<void> {
  await subject.put(V1);
  const starts = [0, 2 * MIB, 4 * MIB, 6 * MIB];
  const range = 'bytes=' + starts.map((a) => `${a}-${a + MIB - 1}`).join(',');
  const res = await subject.request(range, { oneGetAtATime: true });
  expect(res.status).toBe(206);
  const { bytes, error } = await readAcross(res.body!, () => subject.put(V2));
  expect(error).toBeDefined();
  const firstPart = firstPartOf(bytes, MIB);
  expect(firstPart.length).toBeGreaterThan(0);
  expect(firstDifference(firstPart, V1.subarray(0, firstPart.length))).toBe(-1);
}

/** The most GETs a response may make with any entry's defaults (servers: 100; Workers: 20). */
const MOST_GETS = readServerRangeOptions({}).limits!.maxUpstreamGets!;

/**
 * Amplification (issue 18): one-byte ranges the planner could group into
 * GETs that together read many times the object. Whatever the grouping
 * and the entry's limits, the store is asked for at most the object +
 * SIZE_SLACK, within the GET cap, and the answer is byte-exact.
 */
async function readsAtMostTheObject(subject: Subject, object: Uint8Array, starts: readonly number[]): Promise<void> {
  await subject.put(object);
  const range = 'bytes=' + starts.map((a) => `${a}-${a}`).join(',');
  const res = await subject.request(range);
  const body = await readAll(res);
  const gets = subject.gets();
  const asked = gets.reduce((n, span) => n + (span?.length ?? object.length), 0);
  expect(asked).toBeLessThanOrEqual(object.length + SIZE_SLACK);
  expect(gets.length).toBeLessThanOrEqual(MOST_GETS);
  if (res.status === 200) {
    expect(firstDifference(body, object)).toBe(-1);
    expect(gets).toEqual([undefined]);
    return;
  }
  expect(res.status).toBe(206);
  const parts = parseMultipart(body, boundaryOf(res.headers.get('content-type')));
  expect(parts.map((p) => p.headers['content-range'])).toEqual(starts.map((a) => `bytes ${a}-${a}/${object.length}`));
  parts.forEach((p, i) => expect(p.body).toEqual(object.subarray(starts[i]!, starts[i]! + 1)));
}

/** 100 one-byte ranges over 1 MiB in 20 ascending groups of 5, 128 KiB + 1 apart (was 20 GETs, 10,485,860 bytes). */
export const GROUPED_STARTS = Array.from({ length: 20 }, (_, g) => Array.from({ length: 5 }, (_, k) => g + k * 131_073)).flat();
/** 100 one-byte ranges 128 KiB apart over 13 MiB. */
export const SPREAD_STARTS = Array.from({ length: 100 }, (_, i) => i * 131_072);

const CASES = {
  '16 scattered ranges: byte-exact parts, 16 GETs': sixteenScatteredRanges,
  'nearby ranges share GETs': nearbyRangesShareGets,
  '1,000 overlapping ranges: 200 within a second, one GET': thousandOverlappingRanges,
  'overwritten mid-response: aborted, never mixed': overwrittenMidResponse,
  'amplification: 100 one-byte ranges in 20 groups read at most the object': (subject: Subject) =>
    readsAtMostTheObject(subject, pseudoRandomBytes(MIB, 13), GROUPED_STARTS),
  'amplification: 100 one-byte ranges 128 KiB apart read at most the object': (subject: Subject) =>
    readsAtMostTheObject(subject, pseudoRandomBytes(13 * MIB, 14), SPREAD_STARTS),
} as const;

/** Registers the cases (all, or those named) for one subject (made once the tests run). */
export function multirangeTests(subject: () => Subject, only?: ReadonlyArray<keyof typeof CASES>): void {
  for (const [name, run] of Object.entries(CASES)) {
    if (!only || only.includes(name as keyof typeof CASES)) it(name, () => run(subject()));
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
