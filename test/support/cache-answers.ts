/**
 * Reading what the edge cache did from an answer (Server-Timing), and
 * checking a 206 byte for byte against the object. Runtime-neutral: the
 * Node and workerd cache suites use it.
 */
import { expect } from 'vitest';
import { firstDifference } from './http-cases.ts';
import { boundaryOf, parseMultipart } from './multipart.ts';

export interface Answer {
  readonly res: Response;
  readonly body: Uint8Array;
  /** Store calls the request made (Server-Timing `store`). */
  readonly calls: number;
  /** Slices from the cache and from the store (Server-Timing `cache`). */
  readonly cache: { hits: number; misses: number };
}

/** Reads the body and the counts; fails if Server-Timing lacks them (the cache is off). */
export async function answerOf(res: Response): Promise<Answer> {
  const body = new Uint8Array(await res.arrayBuffer());
  const timing = res.headers.get('server-timing') ?? '';
  const calls = /store;[^,]*desc="(\d+) calls/.exec(timing);
  const cache = /cache;desc="(\d+) hits, (\d+) misses/.exec(timing);
  expect(calls, timing).not.toBeNull();
  expect(cache, timing).not.toBeNull();
  return { res, body, calls: Number(calls![1]), cache: { hits: Number(cache![1]), misses: Number(cache![2]) } };
}

/** A 206 whose parts (one, or multipart) are exactly `ranges` (inclusive) of `object`. */
export function expectExact(a: Answer, object: Uint8Array, ranges: ReadonlyArray<readonly [number, number]>): void {
  expect(a.res.status).toBe(206);
  const type = a.res.headers.get('content-type') ?? '';
  const parts = type.startsWith('multipart/')
    ? parseMultipart(a.body, boundaryOf(type)).map((p) => ({ range: p.headers['content-range']!, body: p.body }))
    : [{ range: a.res.headers.get('content-range')!, body: a.body }];
  expect(parts.map((p) => p.range)).toEqual(ranges.map(([s, e]) => `bytes ${s}-${e}/${object.length}`));
  parts.forEach((p, i) => {
    const [s, e] = ranges[i]!;
    expect(firstDifference(p.body, object.subarray(s, e + 1)), `part ${i}`).toBe(-1);
  });
}
