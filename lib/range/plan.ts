/**
 * Planning: what to answer for the parsed `Range` of an object of a known
 * length (RFC 9110 §14.1.1, §14.2, §15.3.7).
 */
import type { RangeSpec } from './parse.ts';

/** An inclusive byte range, as Content-Range writes it. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangePlan =
  /** 200 with the whole representation: no usable Range, or one we choose to ignore. */
  | { readonly kind: 'full' }
  /** 416 with `Content-Range: bytes *\/length`. */
  | { readonly kind: 'unsatisfiable' }
  /** 206 with exactly this one range. */
  | { readonly kind: 'single'; readonly range: ByteRange };

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
 */
export function planRanges(specs: readonly RangeSpec[] | null, length: number): RangePlan {
  if (specs === null) return { kind: 'full' };
  // A zero-length representation has no byte to select, yet a non-zero
  // suffix is satisfiable (§14.1.1): the whole (empty) body answers it.
  if (length === 0) {
    return specs.some((s) => 'suffix' in s && s.suffix > 0) ? { kind: 'full' } : { kind: 'unsatisfiable' };
  }
  const ranges = resolveRanges(specs, length);
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  // §15.3.7: ranges that overlap or touch MAY be coalesced; when they all
  // coalesce into one, a single part answers the request.
  const merged = coalesce(ranges);
  if (merged.length === 1) return { kind: 'single', range: merged[0]! };
  // Several disjoint ranges: multipart/byteranges is not served yet, and
  // RFC 9110 §14.2 lets a server ignore Range, so send the whole object.
  return { kind: 'full' };
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
