/**
 * j. The edge cache (issue 13): a few hundred requests for random 64 KiB –
 * 1 MiB ranges of a 64 MiB object, the store 20 ms away (the delay proxy),
 * against a Node entry with the cache on; cold (an empty cache), then warm
 * (the same ranges again, shuffled). Per pass: store calls per request and
 * bytes read from the store (counted by the proxy), p50 and p99. A second
 * entry with a small CACHE_MAX_BYTES runs several passes of new ranges, so
 * the cache evicts throughout: its RSS must stop growing at the budget.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { S3Settings } from '../lib/store/s3.ts';
import { agent, get, percentile } from './http.ts';
import { ensureFile, putS3, type BenchObject } from './objects.ts';
import { rss } from './procs.ts';
import type { DelayProxy } from './proxy.ts';
import { DELAY_MS, type Results } from './scenarios.ts';
import { startNodeEntry } from './targets.ts';

const MiB = 1024 * 1024;
const KiB = 1024;
export const CACHED: BenchObject = { key: 'cache-64m.bin', size: 64 * MiB };
/** The default SLICE_SIZE (lib/cache/types.ts). */
const SLICE = MiB;
/** The small budget of the eviction run. */
const SMALL_BUDGET = 16 * MiB;

interface Range {
  readonly start: number;
  readonly end: number;
}

/** n ranges of 64 KiB – 1 MiB at random offsets (a fixed seed: the same list every run). */
function randomRanges(n: number, size: number, seed: number): Range[] {
  let x = seed >>> 0 || 1;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => {
    const length = 64 * KiB + Math.floor(next() * (MiB - 64 * KiB + 1));
    const start = Math.floor(next() * (size - length + 1));
    return { start, end: start + length - 1 };
  });
}

interface Pass {
  readonly ms: number[];
  readonly storeCalls: number;
  readonly bytesRead: number;
  /** Bytes of the slices the pass's ranges touch, each slice counted once. */
  readonly sliceBytes: number;
}

/** j: the edge cache with the store 20 ms away — store calls, latency and bytes read, warm and cold, and RSS under eviction; checks: see each goal. */
export async function edgeCacheCallsBytesAndRss(
  quick: boolean,
  dataDir: string,
  settings: S3Settings,
  s3Env: Record<string, string>,
  proxy: DelayProxy,
  out: Results,
): Promise<void> {
  const n = quick ? 60 : 300;
  const file = await ensureFile(dataDir, CACHED);
  await putS3(settings, file, CACHED);
  const fd = openSync(file, 'r');
  const url = (base: string) => `${base}/${CACHED.key}`;

  /** Asks each range in turn; checks every body byte against the file. */
  const run = async (base: string, ranges: readonly Range[]): Promise<Pass> => {
    const via = agent(1);
    const ms: number[] = [];
    const slices = new Set<number>();
    proxy.resetCounters();
    for (const r of ranges) {
      const reply = await get(url(base), { range: `bytes=${r.start}-${r.end}` }, via, { keep: true });
      const want = Buffer.alloc(r.end - r.start + 1);
      readSync(fd, want, 0, want.length, r.start);
      if (reply.status !== 206 || reply.body === undefined || !want.equals(reply.body)) {
        throw new Error(`j: bytes=${r.start}-${r.end}: status ${reply.status}, body differs from the object`);
      }
      ms.push(reply.ms);
      for (let s = Math.floor(r.start / SLICE); s <= Math.floor(r.end / SLICE); s++) slices.add(s);
    }
    via.destroy();
    const { answers, upstreamBytes } = proxy.counters();
    const sliceBytes = [...slices].reduce((sum, s) => sum + Math.min(SLICE, CACHED.size - s * SLICE), 0);
    return { ms, storeCalls: answers, bytesRead: upstreamBytes, sliceBytes };
  };

  const cachedEntry = await startNodeEntry(
    { ...s3Env, S3_ENDPOINT: proxy.url },
    // The TTL covers the run: staleness is not what is measured here.
    { CACHE: 'on', METADATA_TTL: '3600' },
  );
  try {
    const ranges = randomRanges(n, CACHED.size, 13);
    proxy.setDelay(DELAY_MS);
    const cold = await run(cachedEntry.url, ranges);
    const warm = await run(cachedEntry.url, randomRanges(n, n, 7).map((_, i, all) => ranges[(i * 7919) % all.length]!));
    proxy.setDelay(0);

    const who = 'node entry, cache on, store 20 ms away';
    for (const [name, pass] of [['cold', cold], ['warm', warm]] as const) {
      out.rows.push({ scenario: 'j', target: who, metric: `${name}: store calls per request`, value: pass.storeCalls / n, unit: 'calls' });
      out.rows.push({ scenario: 'j', target: who, metric: `${name}: bytes read from the store`, value: pass.bytesRead / MiB, unit: 'MiB' });
      out.rows.push({ scenario: 'j', target: who, metric: `${name}: p50 latency`, value: percentile(pass.ms, 0.5), unit: 'ms' });
      out.rows.push({ scenario: 'j', target: who, metric: `${name}: p99 latency`, value: percentile(pass.ms, 0.99), unit: 'ms' });
    }
    const warmCalls = warm.storeCalls / n;
    const warmP50 = percentile(warm.ms, 0.5);
    out.checks.push({
      scenario: 'j',
      goal: `warm: ≤ 0.05 store calls per request and p50 below one store round trip (${DELAY_MS} ms)`,
      measured: `${warmCalls.toFixed(3)} calls per request, p50 ${warmP50.toFixed(1)} ms (${n} random 64 KiB–1 MiB ranges of 64 MiB)`,
      met: warmCalls <= 0.05 && warmP50 < DELAY_MS,
    });
    out.checks.push({
      scenario: 'j',
      goal: 'cold: bytes read from the store ≤ 1.2 × the slices touched',
      measured: `${(cold.bytesRead / MiB).toFixed(1)} MiB read (HTTP headers included) for ${(cold.sliceBytes / MiB).toFixed(1)} MiB of 1 MiB slices touched: ${(cold.bytesRead / cold.sliceBytes).toFixed(3)}×`,
      met: cold.bytesRead <= 1.2 * cold.sliceBytes,
    });
  } finally {
    await cachedEntry.stop();
  }

  // Eviction throughout: a budget of a quarter of the object, new ranges each pass, no delay.
  const small = await startNodeEntry({ ...s3Env, S3_ENDPOINT: proxy.url }, { CACHE: 'on', METADATA_TTL: '3600', CACHE_MAX_BYTES: String(SMALL_BUDGET) });
  try {
    const idle = rss(small.pid);
    const after: number[] = [];
    for (let pass = 0; pass < (quick ? 2 : 4); pass++) {
      await run(small.url, randomRanges(n, CACHED.size, 101 + pass));
      after.push(rss(small.pid));
    }
    const growth = after[after.length - 1]! - after[0]!;
    const who = `node entry, CACHE_MAX_BYTES=${SMALL_BUDGET / MiB} MiB`;
    out.rows.push({ scenario: 'j', target: who, metric: 'RSS idle', value: idle / MiB, unit: 'MiB' });
    after.forEach((v, i) => out.rows.push({ scenario: 'j', target: who, metric: `RSS after pass ${i + 1}`, value: v / MiB, unit: 'MiB' }));
    out.checks.push({
      scenario: 'j',
      goal: `RSS growth from the first pass to the last ≤ the Node LRU's byte budget (${SMALL_BUDGET / MiB} MiB)`,
      measured: `RSS ${(idle / MiB).toFixed(0)} MiB idle, ${(after[0]! / MiB).toFixed(0)} MiB after the first pass, ${(after[after.length - 1]! / MiB).toFixed(0)} MiB after the last (${after.length} passes of ${n} new ranges, a ${SMALL_BUDGET / MiB} MiB budget for a 64 MiB object)`,
      // Once the cache is full, later passes only evict: they may not add a budget's worth.
      met: growth <= SMALL_BUDGET,
    });
  } finally {
    await small.stop();
    closeSync(fd);
  }
}
