/**
 * Planning: what to answer for the parsed `Range` of an object of a known
 * length (RFC 9110 §14.1.1, §14.2, §15.3.7), and which upstream GETs fetch
 * it. Pure range arithmetic: no streams, no I/O.
 */
import { byteLength, type ByteRange } from './byte-range.ts';
import type { RangeSpec } from './parse.ts';

export type RangePlan =
  /** 200 with the whole representation: no usable Range, or one we choose to ignore. */
  | { readonly kind: 'full' }
  /** 416 with `Content-Range: bytes *\/length`. */
  | { readonly kind: 'unsatisfiable' }
  /** 206 with exactly this one range. */
  | { readonly kind: 'single'; readonly range: ByteRange }
  /** 206 multipart/byteranges with these parts in this order, fetched by these GETs. */
  | { readonly kind: 'multi'; readonly parts: readonly ByteRange[]; readonly gets: readonly UpstreamGet[] };

/**
 * One planned upstream GET: the byte range it asks the store for, and the
 * parts it carries, ascending and in response order. Bytes between two parts
 * are read and dropped.
 */
export interface UpstreamGet extends ByteRange {
  readonly parts: readonly ByteRange[];
}

export interface RangeLimits {
  /**
   * More satisfiable ranges than this and the Range is ignored (200). Apache's
   * MaxRanges is 200; each range costs a part header and maybe an upstream GET.
   */
  readonly maxRanges: number;
  /** Parts closer than this share one upstream GET; the bytes between are read and dropped. */
  readonly upstreamGap: number;
  /** At most this many upstream GETs for one response (Workers: 50 subrequests on the free plan). */
  readonly maxUpstreamGets: number;
}

export const DEFAULT_RANGE_LIMITS: RangeLimits = { maxRanges: 100, upstreamGap: 128 * 1024, maxUpstreamGets: 20 };

/**
 * Resolves specs against `length`, dropping the unsatisfiable ones and
 * keeping request order (§14.1.1):
 * - `a-b` with b >= length is clamped to length-1; `a-` runs to the end;
 * - `a-...` with a >= length is unsatisfiable;
 * - `-n` selects the last n bytes, the whole representation when n >= length;
 * - `-0` is unsatisfiable.
 */
export function resolveRanges(specs: readonly RangeSpec[], length: number): ByteRange[] {
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    if ('suffix' in spec) {
      if (spec.suffix === 0 || length === 0) continue;
      ranges.push({ start: Math.max(0, length - spec.suffix), end: length - 1 });
    } else if (spec.first < length) {
      ranges.push({ start: spec.first, end: Math.min(spec.last, length - 1) });
    }
  }
  return ranges;
}

/**
 * Decides the answer to a Range request. `specs` is `null` when the field
 * was absent, ignored (§14.2) or overruled by If-Range (§13.1.5).
 *
 * `partOverhead` is what a multipart part costs besides its content
 * (boundary line and headers); the size rule below counts it per part.
 *
 * Egregious sets (§14.2, §17.15; the RangeAmp attacks) get the whole object
 * with 200, so an answer is never much larger than the object and never
 * costs more than reading it once:
 * - more than `maxRanges` satisfiable ranges;
 * - parts (after merging) whose bytes plus framing exceed the object — the
 *   rule of Go's net/http and nginx, which catches overlaps and repeats;
 * - parts that cannot be fetched in `maxUpstreamGets` GETs reading the
 *   object at most once (see planUpstream).
 */
export function planRanges(
  specs: readonly RangeSpec[] | null,
  length: number,
  limits: RangeLimits = DEFAULT_RANGE_LIMITS,
  partOverhead = 0,
): RangePlan {
  if (specs === null) return { kind: 'full' };
  // A zero-length representation has no byte to select, yet a non-zero
  // suffix is satisfiable (§14.1.1): the whole (empty) body answers it.
  if (length === 0) {
    return specs.some((s) => 'suffix' in s && s.suffix > 0) ? { kind: 'full' } : { kind: 'unsatisfiable' };
  }
  const ranges = resolveRanges(specs, length);
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  if (ranges.length > limits.maxRanges) return { kind: 'full' };

  // §15.3.7: ranges MAY be coalesced regardless of order; when all of them
  // make one range, a single part answers the request.
  const whole = coalesce(ranges);
  if (whole.length === 1) return { kind: 'single', range: whole[0]! };

  // Otherwise one part per range, in request order, none merged: clients
  // such as GDAL expect a part for each range they asked for.
  const parts = ranges;
  const cost = parts.reduce((sum, p) => sum + byteLength(p) + partOverhead, 0);
  if (cost > length) return { kind: 'full' };
  const gets = planUpstream(parts, length, limits);
  return gets === null ? { kind: 'full' } : { kind: 'multi', parts, gets };
}

/** Merges overlapping and adjacent ranges; the result is sorted by start. */
export function coalesce(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end + 1) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    } else {
      out.push(r);
    }
  }
  return out;
}

/**
 * Groups parts (in response order) into upstream GETs. A GET serves
 * consecutive parts in ascending order, so its bytes stream out in response
 * order with nothing held back. Parts at most `upstreamGap` apart share a
 * GET. While there are more GETs than `maxUpstreamGets`, the two neighbours
 * with the smallest gap are joined, as long as all GETs together read no
 * more than the object; when that cannot be done (too many reversals, or
 * joins too costly) it returns null: reading the whole object is cheaper.
 */
export function planUpstream(parts: readonly ByteRange[], length: number, limits: RangeLimits): UpstreamGet[] | null {
  const gets: UpstreamGet[] = [];
  for (const p of parts) {
    const last = gets[gets.length - 1];
    if (last !== undefined && p.start > last.end && p.start - last.end - 1 <= limits.upstreamGap) {
      gets[gets.length - 1] = join(last, { ...p, parts: [p] });
    } else {
      gets.push({ ...p, parts: [p] });
    }
  }
  let read = gets.reduce((sum, s) => sum + byteLength(s), 0);
  while (gets.length > limits.maxUpstreamGets) {
    let best = -1;
    for (let i = 0; i + 1 < gets.length; i++) {
      const gap = gets[i + 1]!.start - gets[i]!.end - 1;
      if (gap >= 0 && (best < 0 || gap < gets[best + 1]!.start - gets[best]!.end - 1)) best = i;
    }
    if (best < 0) return null;
    read += gets[best + 1]!.start - gets[best]!.end - 1;
    if (read > length) return null;
    gets.splice(best, 2, join(gets[best]!, gets[best + 1]!));
  }
  return gets;
}

function join(a: UpstreamGet, b: UpstreamGet): UpstreamGet {
  return { start: a.start, end: b.end, parts: [...a.parts, ...b.parts] };
}
