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
 * How a body holds itself to a byte count: given the length about to be
 * promised, it returns the stream to send (erroring unless exactly that
 * many bytes go through, however it is read), or undefined when it cannot
 * promise that length.
 */
export type OwnLengthCheck = (length: number) => ReadableStream<Uint8Array> | undefined;

/** Bodies that check their own length, and how (see `checksOwnLength`). */
const ownLengthChecks = new WeakMap<ReadableStream<Uint8Array>, OwnLengthCheck>();

/**
 * Registers `body` as one that needs no counting stream in front of it:
 * - the R2 binding's bodies, which workerd itself holds to their length
 *   (it sends that length as Content-Length and aborts the transfer if the
 *   store sends more or less);
 * - the Node entry's piped store bodies (functions/node/piped-body.ts),
 *   which count as they go.
 * Returns `body`.
 */
export function checksOwnLength<T extends ReadableStream<Uint8Array>>(body: T, check: OwnLengthCheck): T {
  ownLengthChecks.set(body, check);
  return body;
}

/**
 * `body` as a stream that errors unless it carries exactly `length` bytes:
 * its own check where it has one (`checksOwnLength`), else through a
 * counting stream. An R2 body is so returned as it is: no JavaScript
 * stream between the store and the client, so the bytes stay out of
 * JavaScript and a client that goes away cancels the store's read directly
 * (through a wrapper, workerd logs `Uncaught Error: Network connection
 * lost.` for an ordinary abort).
 */
export function exactLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  return ownLengthChecks.get(body)?.(length) ?? body.pipeThrough(lengthChecked(length));
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
