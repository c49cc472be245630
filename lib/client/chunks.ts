/** Reading a fetch body chunk by chunk. */

/**
 * The chunks of a fetch body, releasing (cancelling) it if the consumer
 * stops early; `onChunk` hears of each one as it arrives (a StallGuard's kick).
 */
export async function* chunksOf(body: ReadableStream<Uint8Array>, onChunk: () => void = () => {}): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      onChunk();
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}
