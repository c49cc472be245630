/**
 * Observability: one JSON line per request, and a Server-Timing header.
 * Written when the response starts; `bytes` is the length announced, and
 * `gets` counts the GETs a multipart body will make as it streams.
 */
import type { Served, ServeStats } from './serve.ts';

export function logLine(request: Request, path: string, res: Response, stats: ServeStats, ms: number): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    method: request.method,
    path,
    status: res.status,
    // The header as asked, cut short: a log line must stay a line.
    range: request.headers.get('range')?.slice(0, 200) ?? null,
    rangesAsked: stats.rangesAsked,
    served: servedText(stats.served),
    bytes: Number(res.headers.get('content-length') ?? 0),
    heads: stats.heads,
    gets: getsOf(stats),
    retries: stats.retries,
    storeMs: stats.waitMs,
    // The edge cache, when on: slices served from it and read from the store, metadata hits, bytes read.
    ...(stats.cache && {
      sliceHits: stats.cache.hits,
      sliceMisses: stats.cache.misses,
      metadataHits: stats.cache.metadataHits,
      bytesRead: stats.bytesRead,
    }),
    ms,
  });
}

/**
 * Store GETs of the request, counting those its body will make as it
 * streams: without the cache the plan says how many; with it, the GETs
 * opened plus the runs of missing slices planned and not yet opened.
 */
function getsOf(stats: ServeStats): number {
  return stats.cache ? stats.gets + stats.cache.getsAhead : Math.max(stats.gets, stats.plannedGets);
}

/** `served` in the log line: `full`, `a-b`, `N parts`, `headers` (HEAD), `none` (416), or null. */
export function servedText(served: Served): string | null {
  switch (served.kind) {
    case 'nothing':
      return null;
    case 'headers':
      return 'headers';
    case 'unsatisfiable':
      return 'none';
    case 'full':
      return 'full';
    case 'range':
      return `${served.range.start}-${served.range.end}`;
    case 'parts':
      return `${served.parts} parts`;
  }
}

/** `store` is the time spent waiting for the store; `total` until the response started. */
export function serverTiming(stats: ServeStats, ms: number): string {
  const calls = stats.heads + (stats.cache ? getsOf(stats) : stats.gets);
  const store = `store;dur=${stats.waitMs};desc="${calls} calls, ${stats.retries} retries"`;
  if (!stats.cache) return `${store}, total;dur=${ms}`;
  const { hits, misses, metadataHits } = stats.cache;
  const cache = `cache;desc="${hits} hits, ${misses} misses, ${metadataHits} metadata hits, ${stats.bytesRead} bytes read"`;
  return `${store}, ${cache}, total;dur=${ms}`;
}
