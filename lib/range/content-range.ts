/** Content-Range field values (RFC 9110 §14.4). */
import type { ByteRange } from './plan.ts';

/** `bytes first-last/complete-length` for a satisfied range. */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range.start}-${range.end}/${length}`;
}

/** `bytes *\/complete-length`, sent with 416 (§15.5.17). */
export function unsatisfiedRange(length: number): string {
  return `bytes */${length}`;
}
