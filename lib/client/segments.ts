/**
 * Segment arithmetic for the download client: which bytes are on disk
 * (Coverage), what is missing (holes), how the missing bytes are cut into
 * segments for N connections, which tail an idle connection takes (work
 * stealing), and which holes are small enough to be fetched together in
 * one multi-range request (RFC 9110 §14.2, §14.6).
 * Pure: no I/O.
 */
import { byteLength, totalLength, type ByteRange } from '../range/byte-range.ts';
import { coalesce } from '../range/plan.ts';

/** The byte ranges already written, kept sorted and merged. */
export class Coverage {
  #ranges: ByteRange[];
  #bytes: number;

  constructor(ranges: readonly ByteRange[] = []) {
    this.#ranges = coalesce(ranges);
    this.#bytes = totalLength(this.#ranges);
  }

  /** Marks `start..end` (inclusive) as written. */
  add(start: number, end: number): void {
    if (end < start) return;
    this.#ranges = coalesce([...this.#ranges, { start, end }]);
    this.#bytes = totalLength(this.#ranges);
  }

  /** A copy of the written ranges, sorted. */
  ranges(): ByteRange[] {
    return [...this.#ranges];
  }

  /** How many distinct bytes are written. */
  bytes(): number {
    return this.#bytes;
  }

  /** What is missing of an object of `size` bytes, in order. */
  holes(size: number): ByteRange[] {
    return holes(this.#ranges, size);
  }
}

/** The complement of sorted, merged `done` within 0..size-1. */
export function holes(done: readonly ByteRange[], size: number): ByteRange[] {
  const out: ByteRange[] = [];
  let next = 0;
  for (const r of done) {
    if (r.start > next) out.push({ start: next, end: Math.min(r.start, size) - 1 });
    next = Math.max(next, r.end + 1);
  }
  if (next < size) out.push({ start: next, end: size - 1 });
  return out.filter((r) => r.end >= r.start);
}

/** Cuts ranges into pieces of at most `maxSize` bytes, in order. */
export function split(ranges: readonly ByteRange[], maxSize: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    for (let start = r.start; start <= r.end; start += maxSize) {
      out.push({ start, end: Math.min(r.end, start + maxSize - 1) });
    }
  }
  return out;
}

/**
 * The segment size for `remaining` bytes over `connections`: one segment per
 * connection to start with (idle connections later split the largest
 * segment still running), never below `minSize`.
 */
export function segmentSizeFor(remaining: number, connections: number, minSize: number): number {
  return Math.max(minSize, Math.ceil(remaining / Math.max(1, connections)));
}

/** A segment being fetched: `pos` is the next byte to write, `end` its last byte (it shrinks when an idle connection takes its tail). */
export interface Segment {
  pos: number;
  end: number;
}

/**
 * Work stealing: which tail an idle connection takes. The running segment
 * with the most bytes left (`end - pos + 1`; the first of equals) gives its
 * second half, from `at` (= pos + ⌊left/2⌋) to its end, and keeps pos..at-1 —
 * but only when at least `2 · minSplit` bytes are left of it, so both halves
 * are worth a request. undefined: nothing worth taking. Pure: the caller cuts.
 */
export function stealTail<S extends Readonly<Segment>>(running: Iterable<S>, minSplit: number): { readonly victim: S; readonly at: number } | undefined {
  let victim: S | undefined;
  for (const s of running) if (!victim || s.end - s.pos > victim.end - victim.pos) victim = s;
  if (!victim) return undefined;
  const left = victim.end - victim.pos + 1;
  if (left < 2 * minSplit) return undefined;
  return { victim, at: victim.pos + Math.floor(left / 2) };
}

export interface HoleGrouping {
  /** Holes no larger than this count as small. */
  readonly maxHole: number;
  /** At most this many ranges in one request (servers cap them: Apache 200, ours 100). */
  readonly maxRanges: number;
}

/**
 * Small holes, grouped for multi-range requests: only worth it when there
 * are at least two; each group asks for up to `maxRanges` of them.
 */
export function smallHoleGroups(gaps: readonly ByteRange[], grouping: HoleGrouping): ByteRange[][] {
  const small = gaps.filter((h) => byteLength(h) <= grouping.maxHole);
  if (small.length < 2) return [];
  const groups: ByteRange[][] = [];
  for (let i = 0; i < small.length; i += grouping.maxRanges) groups.push(small.slice(i, i + grouping.maxRanges));
  // A lone leftover range is an ordinary segment's job.
  return groups.filter((g) => g.length >= 2);
}
