/** lib/send-timeout.ts: the body a server sends is given up on when the client stops taking it. */
import { describe, expect, it } from 'vitest';
import { SendTimeoutError, sendTimeout } from '../../lib/send-timeout.ts';

const MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A source of `chunks` chunks, each after `delayMs`; counts its cancels. */
function source(chunks: number, delayMs = 0) {
  const seen = { cancelled: 0, reason: undefined as unknown };
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await sleep(delayMs);
      if (n++ < chunks) c.enqueue(new Uint8Array(10).fill(n));
      else c.close();
    },
    cancel(reason) {
      seen.cancelled++;
      seen.reason = reason;
    },
  });
  return { body, seen };
}

describe('sendTimeout', () => {
  it('a reader that keeps reading gets every byte, pausing less than the timeout between reads', async () => {
    const { body, seen } = source(5);
    const reader = sendTimeout(body, MS).getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      await sleep(MS / 2);
    }
    expect([bytes, seen.cancelled]).toEqual([50, 0]);
  });

  it('time waiting on the source does not count: a store slower than the timeout is not a slow client', async () => {
    const { body } = source(3, MS * 2);
    expect((await new Response(sendTimeout(body, MS)).arrayBuffer()).byteLength).toBe(30);
  });

  it('a reader that stops reading: the body errors with SendTimeoutError and the source is cancelled', async () => {
    const { body, seen } = source(1000);
    const reader = sendTimeout(body, MS).getReader();
    await reader.read();
    await sleep(MS * 3);
    await expect(reader.read()).rejects.toBeInstanceOf(SendTimeoutError);
    expect(seen.cancelled).toBe(1);
    expect(seen.reason).toBeInstanceOf(SendTimeoutError);
  });

  it('a body its reader cancels cancels the source, and no timeout fires afterwards', async () => {
    const { body, seen } = source(1000);
    const reader = sendTimeout(body, MS).getReader();
    await reader.read();
    await reader.cancel('client gone');
    await sleep(MS * 3);
    expect([seen.cancelled, seen.reason]).toEqual([1, 'client gone']);
  });
});
