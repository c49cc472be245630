/**
 * A streamed multipart/byteranges body (RFC 9110 §14.6) whose exact length
 * is known before the first byte. On the wire:
 *
 *   --3d6b6a416f9b5e12a8c4f0e1d2b3a495\r\n
 *   Content-Type: video/mp4\r\n
 *   Content-Range: bytes 0-9/67108864\r\n
 *   \r\n
 *   <10 bytes>\r\n
 *   --3d6b6a416f9b5e12a8c4f0e1d2b3a495\r\n
 *   Content-Type: video/mp4\r\n
 *   Content-Range: bytes 1000-1009/67108864\r\n
 *   \r\n
 *   <10 bytes>\r\n
 *   --3d6b6a416f9b5e12a8c4f0e1d2b3a495--\r\n
 *
 * The CRLF after each part's bytes belongs to the next delimiter (RFC 2046
 * §5.1.1); no preamble, no epilogue.
 */
import { lengthChecked } from './body.ts';
import { contentRange } from './range/content-range.ts';
import { totalLength, type ByteRange } from './range/byte-range.ts';

export interface MultipartLayout {
  readonly boundary: string;
  /** `multipart/byteranges; boundary=...` */
  readonly contentType: string;
  /** Each part's delimiter and headers, in order. */
  readonly heads: readonly Uint8Array[];
  readonly tail: Uint8Array;
  /** The exact byte length of the whole body. */
  readonly length: number;
}

const encoder = new TextEncoder();

/** A fresh random boundary: 128 bits from the platform's CSPRNG, as hex. */
export function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The framing of a multipart/byteranges body for `parts` (inclusive byte
 * ranges, in response order) of a representation `completeLength` bytes
 * long whose parts are `partType`: each part's delimiter and headers, the
 * close delimiter, and the body's exact `length` in bytes (framing plus
 * every part's bytes). The boundary defaults to randomBoundary(). Pure.
 */
export function multipartLayout(
  parts: readonly ByteRange[],
  completeLength: number,
  partType: string,
  boundary: string = randomBoundary(),
): MultipartLayout {
  const heads = parts.map((p, i) =>
    encoder.encode(
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\n` +
        `Content-Type: ${partType}\r\n` +
        `Content-Range: ${contentRange(p, completeLength)}\r\n\r\n`,
    ),
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const length =
    heads.reduce((sum, h) => sum + h.length, 0) + totalLength(parts) + tail.length;
  return { boundary, contentType: `multipart/byteranges; boundary=${boundary}`, heads, tail, length };
}

/**
 * An upper bound of what one part costs besides its bytes, for planning:
 * the delimiter and headers of a part whose range has the widest numbers.
 */
export function partOverhead(completeLength: number, partType: string): number {
  const widest = { start: completeLength, end: completeLength };
  return multipartLayout([widest, widest], completeLength, partType, '0'.repeat(32)).heads[1]!.length;
}

/** Yields each part's bytes, in order, as a stream of exactly that part's length. */
export interface PartSource {
  next(): Promise<ReadableStream<Uint8Array>>;
  /** Stops every upstream read still open or pending. */
  cancel(reason: unknown): Promise<void>;
}

/**
 * Streams the body: heads and tail written from memory, each part's bytes
 * piped from its source (native on Workers: the bytes never enter
 * JavaScript). Backpressure from the client paces everything. If a part
 * fails, or the client goes away, the stream errors and the source is
 * cancelled: the client sees an aborted transfer, never a short body.
 */
export function multipartStream(layout: MultipartLayout, source: PartSource): ReadableStream<Uint8Array> {
  const { readable, writable } = lengthChecked(layout.length);
  const write = async (bytes: Uint8Array) => {
    const writer = writable.getWriter();
    try {
      await writer.write(bytes);
    } finally {
      writer.releaseLock();
    }
  };
  void (async () => {
    try {
      for (const head of layout.heads) {
        await write(head);
        const body = await source.next();
        await body.pipeTo(writable, { preventClose: true });
      }
      await write(layout.tail);
      await writable.close();
    } catch (err) {
      // Error the response first, so the client learns at once; then close upstream.
      writable.abort(err).catch(() => {});
      await source.cancel(err);
    }
  })();
  return readable;
}
