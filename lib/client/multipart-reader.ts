/**
 * A streaming reader of multipart/byteranges bodies (RFC 9110 §14.6, framing
 * from RFC 2046 §5.1.1), for the download client. It yields each part's
 * Content-Range and then its bytes as they arrive, without holding a part in
 * memory. The wire format it reads (see lib/multipart.ts for the writer):
 *
 *   [preamble, ignored]\r\n
 *   --BOUNDARY[spaces]\r\n
 *   Content-Type: ...\r\n
 *   Content-Range: bytes 0-9/67108864\r\n
 *   \r\n
 *   <10 bytes>\r\n
 *   --BOUNDARY[spaces]\r\n
 *   ...
 *   --BOUNDARY--[epilogue, ignored]
 *
 * Part bodies are delimited by their Content-Range length, not by scanning
 * for the boundary: §14.6 requires a Content-Range in every part, and the
 * bytes of a range may well contain the boundary string.
 */
import { parseContentRange } from '../range/content-range.ts';
import { byteLength, type ByteRange } from '../range/byte-range.ts';

export type ByterangesEvent =
  /** A part begins: its range and the complete length it states (undefined for `/*`). */
  | { readonly kind: 'part'; readonly range: ByteRange; readonly length: number | undefined }
  /** Bytes of the current part, starting at `position` in the representation. */
  | { readonly kind: 'data'; readonly position: number; readonly bytes: Uint8Array };

export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

/** The boundary parameter of a `multipart/byteranges` Content-Type, or null (§14.6, RFC 2046 §5.1.1). */
export function byterangesBoundary(contentType: string | null): string | null {
  if (contentType === null) return null;
  const [type, ...params] = contentType.split(';');
  if (type?.trim().toLowerCase() !== 'multipart/byteranges') return null;
  for (const p of params) {
    const m = /^\s*boundary\s*=\s*(?:"([^"]{1,70})"|([0-9A-Za-z'()+_,\-./:=?]{1,70}))\s*$/i.exec(p);
    if (m) return m[1] ?? m[2] ?? null;
  }
  return null;
}

const CRLF = [13, 10] as const;
/** Headers of a part larger than this mean the body is not what it claims. */
const MAX_HEAD = 16 * 1024;

/**
 * Reads a multipart/byteranges body. Throws MultipartError on bad framing, a
 * part without a usable Content-Range, or a body that ends early.
 */
export async function* readByteranges(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<ByterangesEvent> {
  const delimiter = new TextEncoder().encode(`--${boundary}`);
  let buffer: Uint8Array = new Uint8Array(0);
  /** Bytes of the current part still to come; -1 between parts. */
  let remaining = -1;
  let position = 0;
  let first = true;
  let closed = false;

  for await (const chunk of body) {
    buffer = buffer.length === 0 ? chunk : concat(buffer, chunk);
    for (;;) {
      if (closed) break; // the epilogue is ignored
      if (remaining > 0) {
        if (buffer.length === 0) break;
        const take = Math.min(remaining, buffer.length);
        yield { kind: 'data', position, bytes: buffer.subarray(0, take) };
        position += take;
        remaining -= take;
        buffer = buffer.subarray(take);
        continue;
      }
      // Between parts: find the next delimiter line and the part's header block.
      const at = findDelimiter(buffer, delimiter, first);
      if (at === 'need-more') {
        if (buffer.length > MAX_HEAD + delimiter.length) throw new MultipartError('no boundary where one was due');
        break;
      }
      const afterDelimiter = at + delimiter.length;
      if (buffer.length < afterDelimiter + 2) break;
      if (buffer[afterDelimiter] === 45 && buffer[afterDelimiter + 1] === 45) {
        closed = true; // `--BOUNDARY--`: the close delimiter
        break;
      }
      const headEnd = indexOf(buffer, [13, 10, 13, 10], afterDelimiter);
      if (headEnd < 0) {
        if (buffer.length - afterDelimiter > MAX_HEAD) throw new MultipartError('part headers too long');
        break;
      }
      const head = new TextDecoder('latin1').decode(buffer.subarray(afterDelimiter, headEnd));
      const range = partRange(head);
      first = false;
      remaining = byteLength(range.range);
      position = range.range.start;
      buffer = buffer.subarray(headEnd + 4);
      yield { kind: 'part', range: range.range, length: range.length };
    }
  }
  if (!closed) throw new MultipartError(remaining > 0 ? 'body ended inside a part' : 'body ended before the close delimiter');
}

/**
 * Where the next delimiter starts. The first may open the body (no CRLF
 * before it) or follow a preamble; later ones follow the CRLF that ends the
 * previous part, immediately (RFC 2046: the CRLF belongs to the delimiter).
 */
function findDelimiter(buffer: Uint8Array, delimiter: Uint8Array, first: boolean): number | 'need-more' {
  if (first) {
    if (startsWith(buffer, delimiter, 0)) return 0;
    const i = indexOf(buffer, [...CRLF, ...delimiter], 0);
    return i < 0 ? 'need-more' : i + 2;
  }
  if (buffer.length < 2 + delimiter.length) return 'need-more';
  if (buffer[0] !== 13 || buffer[1] !== 10 || !startsWith(buffer, delimiter, 2)) {
    throw new MultipartError('part bytes not followed by a boundary');
  }
  return 2;
}

/** The Content-Range of a part's header block (which starts with the rest of the delimiter line). */
function partRange(head: string): { range: ByteRange; length: number | undefined } {
  const lines = head.split('\r\n');
  // The delimiter line may carry transport padding (RFC 2046 §5.1.1) and nothing else.
  if (!/^[ \t]*$/.test(lines[0] ?? '')) throw new MultipartError('text after a boundary');
  for (const line of lines.slice(1)) {
    const m = /^content-range[ \t]*:(.*)$/i.exec(line);
    if (!m) continue;
    const parsed = parseContentRange(m[1]!.trim());
    if (parsed?.kind !== 'range') throw new MultipartError(`bad Content-Range in a part: ${m[1]!.trim()}`);
    return { range: parsed.range, length: parsed.length };
  }
  throw new MultipartError('a part without Content-Range');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function startsWith(buffer: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (buffer.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

function indexOf(buffer: Uint8Array, needle: readonly number[] | Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= buffer.length; i++) {
    for (let j = 0; j < needle.length; j++) if (buffer[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
