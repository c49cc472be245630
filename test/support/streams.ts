/** Reading a response body across an event, as far as it gets. Runtime-neutral. */

export interface Received {
  /** The bytes that arrived, in order. */
  readonly bytes: Uint8Array;
  /** Why the body stopped early, or undefined when it ended normally. */
  readonly error: unknown;
}

/** Reads the first chunk, runs `meanwhile`, then reads on to the end or to an error. */
export async function readAcross(body: ReadableStream<Uint8Array>, meanwhile: () => unknown): Promise<Received> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let error: unknown;
  try {
    const first = await reader.read();
    if (first.value) chunks.push(first.value);
    await meanwhile();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  } catch (err) {
    error = err ?? new Error('stream errored');
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((offset, c) => (bytes.set(c, offset), offset + c.length), 0);
  return { bytes, error };
}

/** The content of a multipart body's first part, as far as it arrived (at most `max` bytes). */
export function firstPartOf(body: Uint8Array, max: number): Uint8Array {
  const from = new TextDecoder('latin1').decode(body).indexOf('\r\n\r\n') + 4;
  return body.subarray(from, from + max);
}

/**
 * A body of `bytes` in chunks of `chunkSize`, one per pull; `onClose` runs
 * once, when it has been read to the end or cancelled (for counting the
 * bodies a test store or origin still has open).
 */
export function chunkedBody(bytes: Uint8Array, chunkSize: number, onClose: () => void): ReadableStream<Uint8Array> {
  let pos = 0;
  let closed = false;
  const close = () => {
    if (!closed) onClose();
    closed = true;
  };
  return new ReadableStream<Uint8Array>(
    {
      pull: (controller) => {
        if (pos >= bytes.length) {
          close();
          controller.close();
          return;
        }
        controller.enqueue(bytes.slice(pos, pos + chunkSize));
        pos += chunkSize;
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}
