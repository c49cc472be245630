import { describe, expect, it } from 'vitest';
import { contentRange, unsatisfiedRange } from '../../lib/range/content-range.ts';
import { parseRange } from '../../lib/range/parse.ts';
import { coalesce, planRanges, resolveRanges, type ByteRange, type RangePlan } from '../../lib/range/plan.ts';

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
    ['bytes=0-9,20-29', 100, { kind: 'full' }], // disjoint: multipart not served yet
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
