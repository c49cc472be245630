/** Content-Range field values (RFC 9110 §14.4), and the Range a client or a cache sends (§14.2). */
import type { ByteRange } from './byte-range.ts';
import type { RangeSpec } from './parse.ts';

/** `bytes first-last/complete-length` for a satisfied range. */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`;
}

/** `bytes=first-last,...` (§14.1.2): the ranges in the order the parts are to come. */
export function rangeField(ranges: readonly ByteRange[]): string {
  return `bytes=${ranges.map((r) => `${r.start}-${r.end}`).join(',')}`;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` (§14.1.1): one spec as the client wrote it, for a store to resolve. */
export function specField(spec: RangeSpec): string {
  if ('suffix' in spec) return `bytes=-${spec.suffix}`;
  return `bytes=${spec.first}-${spec.last === Infinity ? '' : spec.last}`;
}

/** `bytes *\/complete-length`, sent with 416 (§15.5.17). */
export function unsatisfiedRange(length: number): string {
  return `bytes */${length}`;
}

/** A parsed Content-Range (RFC 9110 §14.4); `length` is undefined for `/*`. */
export type ParsedContentRange =
  | { readonly kind: 'range'; readonly range: ByteRange; readonly length: number | undefined }
  | { readonly kind: 'unsatisfied'; readonly length: number };

/**
 * Reads `bytes first-last/complete-length`, `bytes first-last/*` or
 * `bytes *\/complete-length` (§14.4). Null for anything else: another unit,
 * last < first, last ≥ complete-length, or a number beyond 2^53.
 */
export function parseContentRange(value: string | null): ParsedContentRange | null {
  if (value === null) return null;
  const m = /^bytes[ \t]+(?:(\d{1,16})-(\d{1,16})|\*)\/(\d{1,16}|\*)$/i.exec(value.trim());
  if (!m) return null;
  const length = m[3] === '*' ? undefined : Number(m[3]);
  if (length !== undefined && !Number.isSafeInteger(length)) return null;
  if (m[1] === undefined) return length === undefined ? null : { kind: 'unsatisfied', length };
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  if (length !== undefined && end >= length) return null;
  return { kind: 'range', range: { start, end }, length };
}
