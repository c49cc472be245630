/**
 * Observability: one JSON line per request, and a Server-Timing header.
 * Written when the response starts; `bytes` is the length announced, and
 * `gets` counts the GETs a multipart body will make as it streams.
 */
import type { ServeStats } from './serve.ts';

export function logLine(request: Request, path: string, res: Response, stats: ServeStats, ms: number): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    method: request.method,
    path,
    status: res.status,
    // The header as asked, cut short: a log line must stay a line.
    range: request.headers.get('range')?.slice(0, 200) ?? null,
    rangesAsked: stats.rangesAsked,
    served: stats.served || null,
    bytes: Number(res.headers.get('content-length') ?? 0),
    heads: stats.heads,
    gets: Math.max(stats.gets, stats.plannedGets),
    retries: stats.retries,
    storeMs: stats.waitMs,
    ms,
  });
}

/** `store` is the time spent waiting for the store; `total` until the response started. */
export function serverTiming(stats: ServeStats, ms: number): string {
  return `store;dur=${stats.waitMs};desc="${stats.heads + stats.gets} calls, ${stats.retries} retries", total;dur=${ms}`;
}
