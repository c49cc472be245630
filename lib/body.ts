/**
 * Streams whose byte count is promised up front, so a short or long
 * upstream body becomes an aborted transfer, never a body that looks
 * complete (and so Workers sends Content-Length instead of chunking).
 */

interface FixedLengthStreamConstructor {
  new (expectedLength: number): TransformStream<Uint8Array, Uint8Array>;
}

/**
 * A body that carried more or fewer bytes than were announced for it (its
 * Content-Length, or the byte range asked of the store). Thrown into the
 * stream, so the transfer aborts instead of ending as if complete.
 */
export class BodyLengthError extends Error {
  override readonly name = 'BodyLengthError';
}

/** Workers' native FixedLengthStream, where the runtime has it. */
const FixedLength = (globalThis as { FixedLengthStream?: FixedLengthStreamConstructor }).FixedLengthStream;

/**
 * A pass-through that errors unless exactly `length` bytes go through it:
 * Workers' `FixedLengthStream` where there is one (its own error), else a
 * counting stream that throws BodyLengthError.
 */
export function lengthChecked(length: number): TransformStream<Uint8Array, Uint8Array> {
  return FixedLength ? new FixedLength(length) : countingStream(length);
}

/**
 * A body that enforces its length itself, for a runtime that moves its bytes
 * without a JavaScript stream in between (functions/node/piped-body.ts):
 * `[LENGTH_CHECKED](length)` returns the body, promising that it errors
 * unless exactly `length` bytes go through, however it is read.
 */
export const LENGTH_CHECKED = Symbol.for('edge-ranges.length-checked');

interface SelfCheckedBody extends ReadableStream<Uint8Array> {
  [LENGTH_CHECKED](length: number): ReadableStream<Uint8Array>;
}

function selfChecked(body: ReadableStream<Uint8Array>): body is SelfCheckedBody {
  return typeof (body as Partial<SelfCheckedBody>)[LENGTH_CHECKED] === 'function';
}

/** Passes `body` through, erroring the stream if it does not carry exactly `length` bytes. */
export function exactLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  return selfChecked(body) ? body[LENGTH_CHECKED](length) : body.pipeThrough(lengthChecked(length));
}

function countingStream(length: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > length) throw new BodyLengthError(`body longer than the ${length} bytes announced`);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen !== length) throw new BodyLengthError(`body ended after ${seen} of ${length} bytes`);
    },
  });
}
