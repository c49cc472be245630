/**
 * Serving one object for one GET or HEAD: metadata, preconditions, Range,
 * then the bytes. Framework-free: a Request and a store in, a Response out.
 */
import { exactLength } from './body.ts';
import { contentTypeOf, decide } from './decide.ts';
import { contentRange, unsatisfiedRange } from './range/content-range.ts';
import { multipartLayout, multipartStream } from './multipart.ts';
import { parseRange, type RangeSpec } from './range/parse.ts';
import { byteLength, type ByteRange } from './range/byte-range.ts';
import { DEFAULT_RANGE_LIMITS, planRanges, type RangeLimits, type RangePlan } from './range/plan.ts';
import { DEFAULT_STORE_RETRY, resilient, type StoreRetryPolicy, type UpstreamStats } from './store/resilient.ts';
import { StoreError, type ObjectMeta, type ObjectStore } from './store/types.ts';
import { openParts } from './upstream.ts';

export interface ServeOptions {
  /** Limits against egregious Range sets, and how parts are grouped into upstream GETs. */
  readonly limits: RangeLimits;
  /** Upstream GETs open at once for one multipart answer. */
  readonly concurrency: number;
  /** Retries and timeouts of store calls. */
  readonly retry: StoreRetryPolicy;
}

/** Workers allow 6 open connections per request; more would only queue. */
export const DEFAULT_SERVE_OPTIONS: ServeOptions = {
  limits: DEFAULT_RANGE_LIMITS,
  concurrency: 6,
  retry: DEFAULT_STORE_RETRY,
};

/** What one request asked and got, for its log line. */
export interface ServeStats extends UpstreamStats {
  /** Range specs asked for (0 without a usable Range). */
  rangesAsked: number;
  /** What was served: `full`, `a-b`, `N parts`, or nothing (an error or 304). */
  served: string;
  /** Upstream GETs the answer needs, counting those a multipart body makes later. */
  plannedGets: number;
}

/**
 * `encodeBody: 'manual'` tells Workers the body is already in its
 * Content-Encoding: a stored gzip object must go out as stored, never be
 * compressed again (and a 206 never compressed at all). Other runtimes
 * ignore the field.
 */
type Init = ResponseInit & { encodeBody?: 'manual' };

export async function serveObject(
  base: ObjectStore,
  key: string,
  request: Request,
  options: ServeOptions,
  stats: ServeStats,
): Promise<Response> {
  const store = resilient(base, options.retry, stats);
  // The object may be replaced between the metadata lookup and the read;
  // the read is guarded by If-Match, so start over once on the new version.
  for (let attempt = 1; ; attempt++) {
    try {
      return await respond(store, key, request, options, stats);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      if ((err.kind === 'changed' || err.kind === 'not-found') && attempt < 2) continue;
      stats.served = '';
      return storeFailure(err);
    }
  }
}

async function respond(
  store: ObjectStore,
  key: string,
  request: Request,
  options: ServeOptions,
  stats: ServeStats,
): Promise<Response> {
  const { method, headers } = request;
  // Plain GETs: one store call answers metadata and bytes together (readOnce).
  const quick = method === 'GET' ? await readOnce(store, key, headers, options, stats) : undefined;
  if (quick) return quick;

  const meta = await store.head(key);
  if (meta === null) return plain(404, 'Not Found');

  const decision = decide(method, headers, meta, options.limits);
  if ('failed' in decision) return decision.failed === 304 ? notModified(meta) : plain(412, 'Precondition Failed');
  const { plan } = decision;
  const partType = contentTypeOf(meta);
  record(stats, plan, decision.rangesAsked, method);

  switch (plan.kind) {
    case 'unsatisfiable':
      // §15.5.17: 416 carries the current length.
      return plain(416, 'Range Not Satisfiable', { 'content-range': unsatisfiedRange(meta.size) });

    case 'single': {
      const span = { offset: plan.range.start, length: byteLength(plan.range) };
      return bytes(meta, plan.range, await store.get(key, meta.etag, span));
    }

    case 'multi':
      return multipartResponse(store, key, meta, plan, options.concurrency);

    case 'full': {
      if (method !== 'HEAD') return bytes(meta, undefined, await store.get(key, meta.etag));
      const out = representationHeaders(meta, partType);
      out.set('content-length', String(meta.size));
      return new Response(null, { status: 200, headers: out });
    }
  }
}

/**
 * 206 multipart/byteranges (§14.6): the length is known before any byte is
 * read; the parts' GETs open as the body is pulled.
 */
export async function multipartResponse(
  store: ObjectStore,
  key: string,
  meta: ObjectMeta,
  plan: Extract<RangePlan, { kind: 'multi' }>,
  concurrency: number,
): Promise<Response> {
  // §15.3.7.2: the object's type moves into each part; Content-Encoding
  // would describe the multipart body itself, so it stays out.
  const partType = contentTypeOf(meta);
  const layout = multipartLayout(plan.parts, meta.size, partType);
  const out = representationHeaders(meta, partType);
  out.set('content-type', layout.contentType);
  out.set('content-length', String(layout.length));
  out.delete('content-encoding');
  const source = await openParts(store, key, meta.etag, plan.gets, concurrency);
  return new Response(multipartStream(layout, source), { status: 206, headers: out });
}

/** Fields that make a request conditional (§13.1); such requests take the long way. */
const CONDITIONAL = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range'];

/**
 * The one-GET way for plain requests — a GET with no precondition and no
 * Range, or a Range of one spec: a store that can answers metadata and
 * bytes of one version together, saving the metadata round trip. Anything
 * else — several ranges, a store that cannot, an answer that is not exactly
 * what the long way would send — returns undefined and goes the long way.
 */
async function readOnce(
  store: ObjectStore,
  key: string,
  headers: Headers,
  options: ServeOptions,
  stats: ServeStats,
): Promise<Response | undefined> {
  if (!store.read || CONDITIONAL.some((name) => headers.has(name))) return undefined;
  const value = headers.get('range');
  const specs = value === null ? null : parseRange(value);
  const spec = specs?.[0];
  if (specs !== null && (specs.length !== 1 || !plainSpec(spec!))) return undefined;

  const read = await store.read(key, spec);
  if (read === null) return plain(404, 'Not Found');
  if (read === 'unsatisfiable') return undefined;
  const plan = planRanges(specs, read.meta.size, options.limits);
  const fits =
    (plan.kind === 'full' && spec === undefined && read.range === undefined) ||
    (plan.kind === 'single' && read.range?.start === plan.range.start && read.range.end === plan.range.end);
  if (!fits) {
    await read.body.cancel().catch(() => {});
    return undefined;
  }
  record(stats, plan, specs?.length ?? 0, 'GET');
  return bytes(read.meta, plan.kind === 'single' ? plan.range : undefined, read.body);
}

/** A spec any store takes as written: small numbers, not `-0`. */
function plainSpec(spec: RangeSpec): boolean {
  return 'suffix' in spec ? spec.suffix > 0 && spec.suffix < Infinity : spec.first < Infinity;
}

/** 200 with the whole object, or 206 with one range of it (§15.3.7.1: one range is never multipart). */
function bytes(meta: ObjectMeta, range: ByteRange | undefined, body: ReadableStream<Uint8Array>): Response {
  const out = representationHeaders(meta, contentTypeOf(meta));
  const length = range ? byteLength(range) : meta.size;
  if (range) out.set('content-range', contentRange(range, meta.size));
  out.set('content-length', String(length));
  return new Response(exactLength(body, length), { status: range ? 206 : 200, headers: out, encodeBody: 'manual' } as Init);
}

function record(stats: ServeStats, plan: RangePlan, rangesAsked: number, method: string): void {
  stats.rangesAsked = rangesAsked;
  switch (plan.kind) {
    case 'full':
      stats.served = method === 'HEAD' ? 'headers' : 'full';
      stats.plannedGets = method === 'HEAD' ? 0 : 1;
      return;
    case 'unsatisfiable':
      stats.served = 'none';
      return;
    case 'single':
      stats.served = `${plan.range.start}-${plan.range.end}`;
      stats.plannedGets = 1;
      return;
    case 'multi':
      stats.served = `${plan.parts.length} parts`;
      stats.plannedGets = plan.gets.length;
  }
}

/** The headers a 200 of this object carries, and so every 206 of it (§15.3.7). */
function representationHeaders(meta: ObjectMeta, contentType: string): Headers {
  const h = new Headers({ 'accept-ranges': 'bytes', etag: meta.etag, 'content-type': contentType });
  if (meta.lastModified) h.set('last-modified', meta.lastModified.toUTCString());
  if (meta.http.cacheControl) h.set('cache-control', meta.http.cacheControl);
  if (meta.http.contentDisposition) h.set('content-disposition', meta.http.contentDisposition);
  if (meta.http.contentEncoding) h.set('content-encoding', meta.http.contentEncoding);
  if (meta.http.contentLanguage) h.set('content-language', meta.http.contentLanguage);
  if (meta.http.expires) h.set('expires', meta.http.expires.toUTCString());
  return h;
}

/** §15.4.5: a 304 carries the fields a 200 would have for cache updates, no content. */
export function notModified(meta: ObjectMeta): Response {
  const h = new Headers({ etag: meta.etag });
  if (meta.lastModified) h.set('last-modified', meta.lastModified.toUTCString());
  if (meta.http.cacheControl) h.set('cache-control', meta.http.cacheControl);
  if (meta.http.expires) h.set('expires', meta.http.expires.toUTCString());
  return new Response(null, { status: 304, headers: h });
}

/** The store's own error text never reaches the client; it goes to the log. */
export function storeFailure(err: StoreError): Response {
  console.error(`edge-ranges: ${err.message}`);
  switch (err.kind) {
    case 'unavailable':
      return plain(502, 'Bad Gateway: the object store failed');
    case 'timeout':
      return plain(504, 'Gateway Timeout: the object store did not answer in time');
    case 'overloaded':
      return plain(503, 'Service Unavailable: the object store is busy', { 'retry-after': '1' });
    case 'not-found':
      return plain(404, 'Not Found');
    case 'changed':
      // Replaced twice while we read it: a retry will likely find it settled.
      return plain(503, 'Service Unavailable: the object changed while being read', { 'retry-after': '1' });
  }
}

/** A short text answer for errors and refusals. */
export function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  });
}
