/**
 * Planning: what to answer for the parsed `Range` of an object of a known
 * length (RFC 9110 §14.1.1, §14.2, §15.3.7), and which upstream GETs fetch
 * it. Pure range arithmetic: no streams, no I/O.
 */
import { totalLength, type ByteRange } from './byte-range.ts';
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
 * How far a multipart answer, and the store bytes read for it, may exceed
 * the object: 4 KiB, nginx's allowance (1.29.5, ngx_http_range_filter_module).
 * Without it a small object could never be answered in parts (a part's
 * headers alone outweigh an 8-byte object), though Go and nginx do so.
 */
export const SIZE_SLACK = 4096;

/**
 * Decides the answer to a Range request. `specs` is `null` when the field
 * was absent, ignored (§14.2) or overruled by If-Range (§13.1.5).
 *
 * `partOverhead` is what a multipart part costs besides its content
 * (boundary line and headers); the size rule below counts it per part.
 *
 * Egregious sets (§14.2, §17.15; the RangeAmp attacks) get the whole object
 * with 200, so an answer is never larger than the object plus SIZE_SLACK
 * and never reads more than that from the store:
 * - more than `maxRanges` satisfiable ranges;
 * - parts whose bytes plus framing exceed the object by more than
 *   SIZE_SLACK, which catches overlaps and repeats. Go's net/http counts the
 *   range bytes alone against the object; nginx 1.29.5 adds 256 B per range
 *   and allows 4 KiB over. We count our real framing per part and nginx's
 *   allowance, so small objects keep their multipart answers;
 * - parts that cannot be fetched in `maxUpstreamGets` GETs reading at most
 *   the object plus SIZE_SLACK, gap bytes included (see planUpstream).
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
  const cost = totalLength(parts) + parts.length * partOverhead;
  if (cost > length + SIZE_SLACK) return { kind: 'full' };
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
 * order with nothing held back; a part that overlaps or precedes the one
 * before it starts a new GET.
 *
 * Neighbours are joined smallest gap first — those at most `upstreamGap`
 * apart, then more while there are over `maxUpstreamGets` GETs — as long as
 * all GETs together, gap bytes included, read at most `length` +
 * SIZE_SLACK: the store never sends much more than the object, however the
 * parts are grouped. Returns null when the parts cannot be fetched in
 * `maxUpstreamGets` GETs within that (too many reversals, or joins too
 * costly): reading the whole object once is then cheaper.
 */
export function planUpstream(parts: readonly ByteRange[], length: number, limits: RangeLimits): UpstreamGet[] | null {
  const budget = length + SIZE_SLACK;
  let read = totalLength(parts);
  if (read > budget) return null;
  // Gaps between neighbours stay the same as their neighbours join, so one
  // pass over the gaps, smallest first (ties in order), decides every join.
  const gapAfter = (i: number) => parts[i + 1]!.start - parts[i]!.end - 1;
  const joinable = parts.slice(0, -1).flatMap((_, i) => (gapAfter(i) >= 0 ? [i] : []));
  joinable.sort((a, b) => gapAfter(a) - gapAfter(b));
  const joined = new Set<number>();
  let count = parts.length;
  for (const i of joinable) {
    const gap = gapAfter(i);
    if (gap > limits.upstreamGap && count <= limits.maxUpstreamGets) break;
    if (read + gap > budget) break;
    joined.add(i);
    read += gap;
    count--;
  }
  if (count > limits.maxUpstreamGets) return null;

  const gets: UpstreamGet[] = [];
  parts.forEach((p, i) => {
    const get = { ...p, parts: [p] };
    gets.push(joined.has(i - 1) ? join(gets.pop()!, get) : get);
  });
  return gets;
}

function join(a: UpstreamGet, b: UpstreamGet): UpstreamGet {
  return { start: a.start, end: b.end, parts: [...a.parts, ...b.parts] };
}
