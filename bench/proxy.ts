/**
 * A TCP proxy between the function and the store that models distance: the
 * first byte of every upstream answer is held back `delayMs`, as if the store
 * were one round trip of `delayMs` away. It counts the bytes and answers that
 * pass, so a scenario can also say how much the function read upstream.
 *
 * It works below HTTP: after the client has sent something, the next chunk
 * from the store is the start of an answer (HTTP/1.1 clients such as the AWS
 * SDK do not pipeline), so that chunk — and everything behind it, to keep
 * the order — waits. Connecting itself is not delayed (localhost, keep-alive),
 * so the delay is one round trip per request, not per connection.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  readonly url: string;
  /** Changes the delay for answers that start from now on. */
  setDelay(ms: number): void;
  /** Bytes from the store to the function, and answers begun, since the last reset. */
  counters(): { upstreamBytes: number; answers: number };
  /**
   * The upstream requests since the last reset: when each was sent, and
   * when its answer's first byte was let through (after the delay).
   */
  exchanges(): readonly Exchange[];
  resetCounters(): void;
  stop(): Promise<void>;
}

export interface Exchange {
  readonly sentAt: number;
  answeredAt?: number;
}

/**
 * Upstream round trips on the critical path: an exchange sent after another
 * one's answer came back may depend on it (the GETs wait for the HEAD), so
 * its depth is one more than the deepest exchange answered before it was
 * sent. Exchanges sent together, before any of them is answered, are one
 * round trip, however many there are.
 */
export function roundTripDepth(exchanges: readonly Exchange[]): number {
  const sorted = [...exchanges].sort((a, b) => a.sentAt - b.sentAt);
  const depth: number[] = [];
  sorted.forEach((e, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) {
      const answered = sorted[j]!.answeredAt;
      if (answered !== undefined && answered <= e.sentAt) d = Math.max(d, depth[j]! + 1);
    }
    depth.push(d);
  });
  return Math.max(0, ...depth);
}

/** The two sockets of one proxied connection end together; `open` tracks the living ones. */
export function closeTogether(client: Socket, upstream: Socket, open: Set<Socket>): void {
  open.add(client).add(upstream);
  const close = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('close', close).on('error', close);
  upstream.on('close', close).on('error', close);
}

export async function startDelayProxy(target: URL, delayMs: number): Promise<DelayProxy> {
  let delay = delayMs;
  let upstreamBytes = 0;
  let answers = 0;
  let exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    let awaitingAnswer = false;
    let current: Exchange | undefined;
    client.on('data', (chunk) => {
      if (!awaitingAnswer) exchanges.push((current = { sentAt: performance.now() }));
      awaitingAnswer = true;
      upstream.write(chunk);
    });
    // Backpressure: a function that reads slowly slows the store down, as a
    // real socket would, instead of piling bytes up here.
    const forward = (chunk: Buffer, first = false): void => {
      if (first && current) current.answeredAt = performance.now();
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      } else {
        upstream.resume();
      }
    };
    upstream.on('data', (chunk) => {
      upstreamBytes += chunk.length;
      if (!awaitingAnswer || delay === 0) {
        const first = awaitingAnswer;
        if (first) answers++;
        awaitingAnswer = false;
        forward(chunk, first);
        return;
      }
      awaitingAnswer = false;
      answers++;
      // Hold this chunk and the rest of the answer until the delay is over.
      upstream.pause();
      setTimeout(() => forward(chunk, true), delay);
    });
    closeTogether(client, upstream, sockets);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => void (delay = ms),
    counters: () => ({ upstreamBytes, answers }),
    exchanges: () => exchanges,
    resetCounters: () => {
      upstreamBytes = 0;
      answers = 0;
      exchanges = [];
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
