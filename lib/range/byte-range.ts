/**
 * The inclusive byte range (RFC 9110 §14.1.2: `first-pos "-" last-pos`, both
 * ends included, as `Content-Range` writes it) and its length: the one shape
 * the server, the multipart writer and the download client share.
 */

/** An inclusive byte range: offsets `start` to `end` of the representation, both included (`start <= end`). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** How many bytes an inclusive range holds: `end - start + 1`. */
export function byteLength(r: ByteRange): number {
  return r.end - r.start + 1;
}

/** How many bytes a list of inclusive ranges holds, repeats and overlaps counted each time. */
export function totalLength(ranges: readonly ByteRange[]): number {
  let n = 0;
  for (const r of ranges) n += byteLength(r);
  return n;
}
