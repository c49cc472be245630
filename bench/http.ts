/**
 * The HTTP client side of the benchmarks: one request measured, and a
 * closed-loop load of N connections for a bounded time. Plain node:http with
 * keep-alive, so every target is driven by exactly the same client code and
 * the client's own cost cancels out in the ratios.
 */
import { Agent, request, type IncomingMessage } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Body bytes received. */
  readonly bodyBytes: number;
  /** Status line + header lines as they came over the wire (reconstructed from rawHeaders). */
  readonly headerBytes: number;
  /** Time to the last byte, in ms. */
  readonly ms: number;
  /** The body, only when asked for (keep=true). */
  readonly body?: Buffer;
}

export function agent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/** One GET (or HEAD), read to the end; the body is dropped unless `keep`. */
export function get(
  url: string,
  headers: Record<string, string>,
  via: Agent,
  options: { keep?: boolean; method?: string; timeoutMs?: number; headersOnly?: boolean } = {},
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, agent: via }, (res) => {
      if (options.headersOnly) {
        // What the server is about to send, without receiving it: its
        // declared Content-Length stands for the body.
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bodyBytes: Number(res.headers['content-length'] ?? NaN),
          headerBytes: headerBytesOf(res),
          ms: performance.now() - started,
        });
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (options.keep) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bodyBytes,
          headerBytes: headerBytesOf(res),
          ms: performance.now() - started,
          ...(options.keep ? { body: Buffer.concat(chunks) } : {}),
        });
      });
    });
    req.setTimeout(options.timeoutMs ?? 60_000, () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Status line and header lines as sent (CRLFs included), rebuilt from rawHeaders. */
function headerBytesOf(res: IncomingMessage): number {
  let n = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    n += res.rawHeaders[i]!.length + 2 + res.rawHeaders[i + 1]!.length + 2;
  }
  return n;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  /** Body megabytes (10^6) per second. */
  readonly mbPerSec: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * `connections` loops, each sending its next request when the previous
 * answer has been read, for `seconds` (bounded in time; a request still in
 * flight at the end is awaited, not counted twice). `headersFor(i)` gives
 * the i-th request's headers; an answer whose status or length differs
 * from `expect` counts as an error.
 */
export async function load(
  url: string,
  connections: number,
  seconds: number,
  headersFor: (i: number) => Record<string, string>,
  expect: { status: number; bodyBytes: number },
): Promise<LoadResult> {
  const via = agent(connections);
  const latencies: number[] = [];
  let next = 0;
  let bytes = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      try {
        const r = await get(url, headersFor(next++), via, { timeoutMs: 30_000 });
        if (r.status !== expect.status || r.bodyBytes !== expect.bodyBytes) errors++;
        else latencies.push(r.ms);
        bytes += r.bodyBytes;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  via.destroy();
  return {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    reqPerSec: latencies.length / elapsed,
    mbPerSec: bytes / elapsed / 1e6,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

/** Nearest-rank percentile of a list of numbers (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
