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

/** Bodies whose runtime already holds them to an exact byte count, by that count (see `runtimeLength`). */
const heldToLength = new WeakMap<ReadableStream<Uint8Array>, number>();

/**
 * Marks `body` as one the runtime itself holds to exactly `length` bytes
 * (the R2 binding's bodies: workerd knows their length, sends it as
 * Content-Length and aborts the transfer if the store sends more or
 * less). Returns `body`.
 */
export function runtimeLength<T extends ReadableStream<Uint8Array>>(body: T, length: number): T {
  heldToLength.set(body, length);
  return body;
}

/**
 * `body` as a stream that errors unless it carries exactly `length` bytes.
 * A body the runtime already holds to that length (`runtimeLength`) is
 * returned as it is: no JavaScript stream between the store and the client,
 * so the bytes stay out of JavaScript and a client that goes away cancels
 * the store's read directly (through a wrapper, workerd logged `Uncaught
 * Error: Network connection lost.` for an ordinary abort). A body that
 * checks itself (`LENGTH_CHECKED`) is asked to; any other goes through a
 * counting stream.
 */
export function exactLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  if (heldToLength.get(body) === length) return body;
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
