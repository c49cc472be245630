import { describe, expect, it } from 'vitest';
import { contentRange, unsatisfiedRange } from '../../lib/range/content-range.ts';
import { parseRange } from '../../lib/range/parse.ts';
import {
  DEFAULT_RANGE_LIMITS,
  SIZE_SLACK,
  coalesce,
  planRanges,
  planUpstream,
  resolveRanges,
  type RangeLimits,
  type RangePlan,
} from '../../lib/range/plan.ts';
import { totalLength, type ByteRange } from '../../lib/range/byte-range.ts';

const r = (start: number, end: number): ByteRange => ({ start, end });

describe('resolveRanges (length 10000)', () => {
  it.for<[string, ByteRange[]]>([
    ['bytes=0-499', [{ start: 0, end: 499 }]],
    ['bytes=9500-', [{ start: 9500, end: 9999 }]],
    ['bytes=-500', [{ start: 9500, end: 9999 }]],
    ['bytes=9990-20000', [{ start: 9990, end: 9999 }]], // clamped
    ['bytes=-20000', [{ start: 0, end: 9999 }]], // suffix longer than the object
    ['bytes=10000-', []], // first-pos at the length
    ['bytes=-0', []],
    ['bytes=0-18446744073709551616', [{ start: 0, end: 9999 }]],
    ['bytes=18446744073709551616-', []],
    ['bytes=20000-,5-9,-0,-1', [{ start: 5, end: 9 }, { start: 9999, end: 9999 }]], // request order kept
  ])('%s', ([value, want]) => {
    expect(resolveRanges(parseRange(value)!, 10000)).toEqual(want);
  });
});

describe('planRanges', () => {
  it.for<[string | null, number, RangePlan]>([
    [null, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'single', range: { start: 0, end: 9 } }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-9,5-19', 100, { kind: 'single', range: { start: 0, end: 19 } }], // overlap coalesced
    ['bytes=10-19,0-9', 100, { kind: 'single', range: { start: 0, end: 19 } }], // adjacent, reversed
    ['bytes=0-9,20-29', 100, { kind: 'multi', parts: [r(0, 9), r(20, 29)], gets: [{ ...r(0, 29), parts: [r(0, 9), r(20, 29)] }] }],
    ['bytes=200-,0-0', 100, { kind: 'single', range: { start: 0, end: 0 } }],
    // Zero-length representation (§14.1.1).
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=-1', 0, { kind: 'full' }],
    [null, 0, { kind: 'full' }],
  ])('%s of %i', ([value, length, want]) => {
    expect(planRanges(value === null ? null : parseRange(value), length)).toEqual(want);
  });
});

describe('planRanges: multipart, merging and limits', () => {
  const L: RangeLimits = { maxRanges: 5, upstreamGap: 0, maxUpstreamGets: 10 };
  const multi = (...parts: ByteRange[]): RangePlan => ({ kind: 'multi', parts, gets: parts.map((p) => ({ ...p, parts: [p] })) });
  it.for<[string, string, number, number, RangePlan]>([
    ['parts in request order', 'bytes=500-509,0-9', 1000, 0, multi(r(500, 509), r(0, 9))],
    ['three parts', 'bytes=0-9,100-109,-10', 1000, 0, multi(r(0, 9), r(100, 109), r(990, 999))],
    ['near ranges stay apart (GDAL wants a part per range)', 'bytes=0-9,20-29,500-509', 1000, 50,
      multi(r(0, 9), r(20, 29), r(500, 509))],
    ['overlaps in request order stay apart', 'bytes=0-99,50-149,500-509', 1000, 0, multi(r(0, 99), r(50, 149), r(500, 509))],
    ['a reversal is kept apart', 'bytes=500-509,0-9,20-29', 1000, 0, multi(r(500, 509), r(0, 9), r(20, 29))],
    ['all coalesce regardless of order: one part', 'bytes=10-19,0-9,5-14', 1000, 0, { kind: 'single', range: r(0, 19) }],
    ['more ranges than maxRanges: 200', 'bytes=0-0,2-2,4-4,6-6,8-8,10-10', 1000, 0, { kind: 'full' }],
    ['maxRanges counts satisfiable ranges only', 'bytes=0-0,2-2,4-4,6-6,8-8,2000-', 1000, 0,
      multi(r(0, 0), r(2, 2), r(4, 4), r(6, 6), r(8, 8))],
    // Parts + framing may exceed the object by SIZE_SLACK (4096): 410 + 2 × 2343 = 1000 + 4096.
    ['bytes plus framing beyond the object + 4 KiB: 200', 'bytes=600-999,0-9', 1000, 2344, { kind: 'full' }],
    ['just within the object + 4 KiB: 206', 'bytes=600-999,0-9', 1000, 2343, multi(r(600, 999), r(0, 9))],
    ['repeated overlapping ranges: 200', 'bytes=0-599,0-599', 1000, 0, { kind: 'single', range: r(0, 599) }],
    ['reversed overlapping ranges: 200', 'bytes=400-999,0-599', 1000, 0, { kind: 'single', range: r(0, 999) }],
    ['reversed overlaps that do not coalesce: 200', 'bytes=40000-79999,0-59999,90000-99999', 100_000, 0, { kind: 'full' }],
    // Go's and nginx's own tests (issue 14): small objects keep multipart.
    ['11-byte object, bytes=0-0,-2: 206 multipart', 'bytes=0-0,-2', 11, 90, multi(r(0, 0), r(9, 10))],
    ['8-byte object, bytes=0-1,3-4: 206 multipart', 'bytes=0-1,3-4', 8, 90, multi(r(0, 1), r(3, 4))],
    ['repeats on a tiny object within the slack: 206', 'bytes=0-0,5-5,0-0,5-5', 10, 90,
      multi(r(0, 0), r(5, 5), r(0, 0), r(5, 5))],
  ])('%s', ([, value, length, overhead, want]) => {
    expect(planRanges(parseRange(value), length, L, overhead)).toEqual(want);
  });

  it('parts that need more GETs than allowed get the whole object', () => {
    const reversals = 'bytes=' + Array.from({ length: 12 }, (_, i) => `${(11 - i) * 80}-${(11 - i) * 80 + 9}`).join(',');
    expect(planRanges(parseRange(reversals), 1000, { maxRanges: 100, upstreamGap: 0, maxUpstreamGets: 10 })).toEqual({ kind: 'full' });
    expect(planRanges(parseRange(reversals), 1000, { maxRanges: 100, upstreamGap: 0, maxUpstreamGets: 12 }).kind).toBe('multi');
  });

  it('repeats on a tiny object beyond the slack get the whole object', () => {
    const value = 'bytes=' + Array.from({ length: 50 }, () => '0-0,5-5').join(',');
    expect(planRanges(parseRange(value), 10, DEFAULT_RANGE_LIMITS, 90)).toEqual({ kind: 'full' });
  });

  it('1,000 overlapping ranges get the whole object', () => {
    const value = 'bytes=' + Array.from({ length: 1000 }, (_, i) => `${i}-${i + 100}`).join(',');
    expect(planRanges(parseRange(value), 1_000_000, DEFAULT_RANGE_LIMITS, 80)).toEqual({ kind: 'full' });
  });
});

describe('planUpstream', () => {
  const limits = (upstreamGap: number, maxUpstreamGets: number): RangeLimits => ({ maxRanges: 100, upstreamGap, maxUpstreamGets });
  it.for<[string, ByteRange[], RangeLimits, Array<[number, number, number]> | null]>([
    ['one GET per distant part', [r(0, 9), r(1000, 1009)], limits(100, 10), [[0, 9, 1], [1000, 1009, 1]]],
    ['near parts share a GET', [r(0, 9), r(50, 59), r(1000, 1009)], limits(100, 10), [[0, 59, 2], [1000, 1009, 1]]],
    ['a gap of exactly upstreamGap is shared', [r(0, 9), r(110, 119)], limits(100, 10), [[0, 119, 2]]],
    ['a reversal starts a new GET', [r(50, 59), r(0, 9)], limits(100, 10), [[50, 59, 1], [0, 9, 1]]],
    ['over maxGets: the smallest gap is joined first', [r(0, 9), r(100, 109), r(1000, 1009), r(1200, 1209)], limits(0, 2),
      [[0, 109, 2], [1000, 1209, 2]]],
    ['over maxGets with only reversals: null', [r(30, 39), r(20, 29), r(10, 19), r(0, 9)], limits(0, 2), null],
    ['joins never read more than the object + 4 KiB', [r(0, 9), r(990, 999), r(0, 9), r(990, 999)], limits(0, 1), null],
    // Length 5600: 8700 bytes of parts + the 2000-byte gap > 5600 + 4096.
    ['a join within upstreamGap that would pass the budget is not made', [r(0, 2999), r(5000, 5099), r(0, 5599)], limits(3000, 10),
      [[0, 2999, 1], [5000, 5099, 1], [0, 5599, 1]]],
  ])('%s', ([, parts, lim, want]) => {
    const gets = planUpstream(parts, Math.max(...parts.map((p) => p.end + 1)), lim);
    expect(gets?.map((s) => [s.start, s.end, s.parts.length]) ?? null).toEqual(want);
    // Every part is in exactly one GET, in order, inside it.
    if (gets) {
      expect(gets.flatMap((s) => s.parts)).toEqual(parts);
      for (const s of gets) for (const p of s.parts) expect(p.start >= s.start && p.end <= s.end).toBe(true);
    }
  });

  // The amplification sets of issue 18: whatever the grouping, all GETs
  // together read at most the object + SIZE_SLACK, or the plan is null.
  const MIB = 1024 * 1024;
  const grouped = Array.from({ length: 20 }, (_, g) => Array.from({ length: 5 }, (_, k) => r(g + k * 131073, g + k * 131073))).flat();
  const spread = Array.from({ length: 100 }, (_, i) => r(i * 131072, i * 131072));
  it.for<[string, ByteRange[], number, RangeLimits]>([
    ['100 one-byte ranges in 20 ascending groups, Workers limits', grouped, MIB, DEFAULT_RANGE_LIMITS],
    ['100 one-byte ranges in 20 ascending groups, Node limits', grouped, MIB, { ...DEFAULT_RANGE_LIMITS, maxUpstreamGets: 100 }],
    ['100 one-byte ranges 128 KiB apart, Workers limits', spread, 13 * MIB, DEFAULT_RANGE_LIMITS],
    ['100 one-byte ranges 128 KiB apart, Node limits', spread, 13 * MIB, { ...DEFAULT_RANGE_LIMITS, maxUpstreamGets: 100 }],
  ])('%s: reads at most the object + 4 KiB', ([, parts, length, lim]) => {
    const gets = planUpstream(parts, length, lim);
    if (gets !== null) {
      expect(totalLength(gets)).toBeLessThanOrEqual(length + SIZE_SLACK);
      expect(gets.length).toBeLessThanOrEqual(lim.maxUpstreamGets);
      expect(gets.flatMap((s) => s.parts)).toEqual(parts);
    }
    // The grouped set cannot be fetched in 20 GETs within the budget: 200.
    if (parts === grouped && lim.maxUpstreamGets === 20) expect(gets).toBeNull();
    else expect(gets).not.toBeNull();
  });

  it('caps 100 scattered parts at maxUpstreamGets', () => {
    const parts = Array.from({ length: 100 }, (_, i) => r(i * 10_000, i * 10_000 + 9));
    expect(planUpstream(parts, 1_000_000, limits(0, 20))).toHaveLength(20);
  });
});

describe('coalesce', () => {
  it.for<[ByteRange[], ByteRange[]]>([
    [[], []],
    [[{ start: 5, end: 9 }], [{ start: 5, end: 9 }]],
    [[{ start: 0, end: 4 }, { start: 5, end: 9 }], [{ start: 0, end: 9 }]],
    [[{ start: 0, end: 4 }, { start: 6, end: 9 }], [{ start: 0, end: 4 }, { start: 6, end: 9 }]],
    [[{ start: 6, end: 9 }, { start: 0, end: 20 }], [{ start: 0, end: 20 }]],
    [[{ start: 0, end: 5 }, { start: 2, end: 3 }, { start: 5, end: 7 }], [{ start: 0, end: 7 }]],
  ])('%j', ([input, want]) => {
    expect(coalesce(input)).toEqual(want);
  });
});

describe('Content-Range values (§14.4)', () => {
  it('formats a satisfied range and an unsatisfied one', () => {
    expect(contentRange({ start: 0, end: 499 }, 1234)).toBe('bytes 0-499/1234');
    expect(unsatisfiedRange(1234)).toBe('bytes */1234');
  });
});
