/**
 * Serving one object for one GET or HEAD: a Request and a store in, a
 * Response out (framework-free). The path, as ../shared/DESIGN.md draws it:
 *
 *   serveObject ── resilient(store): retries, timeouts, call counts
 *     │  (starts over once when the object changes under a guarded read)
 *     ├─ GET, whole object or one range, preconditions the store takes
 *     │    (one-read.ts) ── store.read: metadata + bytes in ONE call
 *     │      missing → 404 · unsatisfiable → the long way
 *     │      refused → decide() on its metadata, or a 412 / the whole object (S3)
 *     │      bytes   → decide() on its metadata: what was read? → 200 / 206
 *     │                else cancel the body, answer the decision below
 *     └─ anything else (several ranges, HEAD, ETag lists):
 *          store.head ── null → 404
 *            └─ decide(): §13.2.2 preconditions, If-Range, Range → plan
 *
 *   answerFor(meta, decision) — one place for both ways:
 *     304 / 412 / 416 (answers.ts) · HEAD → headers · full → 200
 *     single → 206 · multi → 206 multipart/byteranges (upstream.ts, multipart.ts)
 *     every read here carries If-Match: meta.etag
 */
import { notFound, preconditionFailed, settle, storeFailure } from './answers.ts';
import { exactLength } from './body.ts';
import { contentTypeOf, decide, type Decision } from './decide.ts';
import { cachedStore, type ObjectCache } from './cache/store.ts';
import { multipartLayout, multipartStream } from './multipart.ts';
import { NO_CONDITIONS, oneRead, type OneRead } from './one-read.ts';
import { byteLength, type ByteRange } from './range/byte-range.ts';
import { contentRange } from './range/content-range.ts';
import { DEFAULT_RANGE_LIMITS, resolveRanges, type RangeLimits, type RangePlan } from './range/plan.ts';
import { DEFAULT_STORE_RETRY, newUpstreamStats, resilient, type StoreRetryPolicy, type UpstreamStats } from './store/resilient.ts';
import { StoreError, type ObjectMeta, type ObjectStore } from './store/types.ts';
import { openParts, type LookAheadPool } from './upstream.ts';

export interface ServeOptions {
  /** Limits against egregious Range sets, and how parts are grouped into upstream GETs. */
  readonly limits: RangeLimits;
  /** Upstream GETs open at once for one multipart answer. */
  readonly concurrency: number;
  /** Look-ahead GETs open at once across all answers (see LookAheadPool); absent: no shared cap. */
  readonly lookAhead?: LookAheadPool | undefined;
  /** Retries and timeouts of store calls. */
  readonly retry: StoreRetryPolicy;
  /** The edge cache (slices and metadata); absent when it is off (CACHE=off). */
  readonly cache?: ObjectCache | undefined;
}

/** Workers allow 6 open connections per request; more would only queue. */
export const DEFAULT_SERVE_OPTIONS: ServeOptions = {
  limits: DEFAULT_RANGE_LIMITS,
  concurrency: 6,
  retry: DEFAULT_STORE_RETRY,
};

/** What a response served of the object (the log line writes it as `served`). */
export type Served =
  /** Nothing of it: a 304, 412, 404, a refusal at the gate, or a store failure. */
  | { readonly kind: 'nothing' }
  /** A HEAD: the headers of a full GET. */
  | { readonly kind: 'headers' }
  /** A 416: no range could be served. */
  | { readonly kind: 'unsatisfiable' }
  /** A 200 with the whole object. */
  | { readonly kind: 'full' }
  /** A 206 with one range. */
  | { readonly kind: 'range'; readonly range: ByteRange }
  /** A 206 multipart/byteranges of this many parts. */
  | { readonly kind: 'parts'; readonly parts: number };

/** What one request asked and got, for its log line and Server-Timing. */
export interface ServeStats extends UpstreamStats {
  /** Range specs asked for (0 without a usable Range). */
  rangesAsked: number;
  served: Served;
  /** Upstream GETs the answer needs, counting those a multipart body makes later. */
  plannedGets: number;
}

export const newServeStats = (): ServeStats => ({
  ...newUpstreamStats(),
  rangesAsked: 0,
  served: { kind: 'nothing' },
  plannedGets: 0,
});

/**
 * `encodeBody: 'manual'` tells Workers the body is already in its
 * Content-Encoding: a stored gzip object must go out as stored, never be
 * compressed again (and a 206 never compressed at all). Other runtimes
 * ignore the field.
 */
type Init = ResponseInit & { encodeBody?: 'manual' };

/**
 * Answers a GET or HEAD of the object `key` (the gate has checked method,
 * signature and key). Statuses: 200 (the whole object; a HEAD's headers),
 * 206 (one range, or multipart/byteranges), 304 and 412 (§13.2.2), 416
 * (`Content-Range: bytes *\/len`), 404, and for a store that fails after
 * the retries 502 / 503 (`Retry-After: 1`) / 504. Records in `stats` the
 * store calls and their wait (`heads`, `gets`, `retries`, `waitMs`), the
 * Range specs asked, what was served, and the GETs a multipart body makes
 * as it streams. Bodies stream with their exact length enforced. Throws
 * only what is not a StoreError (a bug).
 */
export async function serveObject(
  base: ObjectStore,
  key: string,
  request: Request,
  options: ServeOptions,
  stats: ServeStats,
  waitUntil?: (work: Promise<unknown>) => void,
): Promise<Response> {
  const upstream = resilient(base, options.retry, stats);
  // The cache starts no more store GETs than the Range plan promises (MAX_UPSTREAM_GETS).
  const budget = { maxGets: options.limits.maxUpstreamGets, plannedGets: () => stats.plannedGets };
  const store = options.cache ? cachedStore(upstream, options.cache, { stats, waitUntil, ...budget }) : upstream;
  // The object may be replaced between the metadata lookup and the read;
  // the read is guarded by If-Match, so start over once on the new version.
  for (let attempt = 1; ; attempt++) {
    stats.served = { kind: 'nothing' };
    try {
      return await respond(store, key, request, options, stats);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      if ((err.kind === 'changed' || err.kind === 'not-found') && attempt < 2) continue;
      stats.served = { kind: 'nothing' };
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
  const one = method === 'GET' && store.read ? oneRead(headers, store.readConditions ?? NO_CONDITIONS) : undefined;
  if (one) {
    const answer = await readOnce(store, key, one, request, options, stats);
    if (answer) return answer;
  }
  const meta = await store.head(key);
  if (meta === null) return notFound();
  return answerFor(store, key, method, meta, decide(method, headers, meta, options.limits), options, stats);
}

/**
 * Answers a GET with one store call when it can: the store evaluates the
 * preconditions it takes, and the answer is decided again through
 * `decide()` on the metadata the read returned, so §13.2.2 holds exactly
 * whatever the store's own rules. An answer that is not what the decision
 * needs is dropped (its body cancelled) and the decision is answered from
 * that metadata with a guarded read. Undefined: take the long way.
 */
async function readOnce(
  store: ObjectStore,
  key: string,
  one: OneRead,
  request: Request,
  options: ServeOptions,
  stats: ServeStats,
): Promise<Response | undefined> {
  const { method, headers } = request;
  const answer = await store.read!(key, one.ask);
  switch (answer.kind) {
    case 'missing':
      return notFound();
    case 'unsatisfiable':
      return undefined;
    case 'refused':
      if (answer.meta) return answerFor(store, key, method, answer.meta, decide(method, headers, answer.meta, options.limits), options, stats);
      // No metadata (S3): the If-Range that rode as If-Match failed, so the
      // whole object is the answer (§13.1.5) ...
      if (one.ifRangeRides) {
        const { ifMatch: _, ...rest } = one.ask.conditions ?? {};
        return readOnce(store, key, { ask: { conditions: rest }, ifRangeRides: false }, request, options, stats);
      }
      // ... else a step-1 field failed, and that is a 412 whatever follows (§13.2.2).
      return preconditionFailed();
    case 'bytes': {
      const { meta, body } = answer;
      const decision = decide(method, headers, meta, options.limits);
      const range = one.ask.range && resolveRanges([one.ask.range], meta.size)[0];
      const fits =
        'plan' in decision &&
        (decision.plan.kind === 'full'
          ? range === undefined
          : decision.plan.kind === 'single' && range?.start === decision.plan.range.start && range.end === decision.plan.range.end);
      if (!fits) {
        await body.cancel().catch(() => {});
        return answerFor(store, key, method, meta, decision, options, stats);
      }
      record(stats, decision.plan, decision.rangesAsked, method);
      return bytes(meta, range, body);
    }
  }
}

/** Answers the decision taken on `meta`, reading what it needs with If-Match: meta.etag. */
async function answerFor(
  store: ObjectStore,
  key: string,
  method: string,
  meta: ObjectMeta,
  decision: Decision,
  options: ServeOptions,
  stats: ServeStats,
): Promise<Response> {
  if ('plan' in decision) record(stats, decision.plan, decision.rangesAsked, method);
  const settled = settle(decision, meta);
  if ('answer' in settled) return settled.answer;
  const { plan } = settled;
  switch (plan.kind) {
    case 'single': {
      const span = { offset: plan.range.start, length: byteLength(plan.range) };
      return bytes(meta, plan.range, await store.get(key, meta, span));
    }

    case 'multi':
      return multipartResponse(store, key, meta, plan, options.concurrency, options.lookAhead);

    case 'full': {
      if (method !== 'HEAD') return bytes(meta, undefined, await store.get(key, meta));
      const out = representationHeaders(meta, contentTypeOf(meta));
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
  lookAhead?: LookAheadPool,
): Promise<Response> {
  // §15.3.7.2: the object's type moves into each part; Content-Encoding
  // would describe the multipart body itself, so it stays out.
  const partType = contentTypeOf(meta);
  const layout = multipartLayout(plan.parts, meta.size, partType);
  const out = representationHeaders(meta, partType);
  out.set('content-type', layout.contentType);
  out.set('content-length', String(layout.length));
  out.delete('content-encoding');
  const source = await openParts(store, key, meta, plan.gets, concurrency, lookAhead);
  return new Response(multipartStream(layout, source), { status: 206, headers: out });
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
      stats.served = { kind: method === 'HEAD' ? 'headers' : 'full' };
      stats.plannedGets = method === 'HEAD' ? 0 : 1;
      return;
    case 'unsatisfiable':
      stats.served = { kind: 'unsatisfiable' };
      return;
    case 'single':
      stats.served = { kind: 'range', range: plan.range };
      stats.plannedGets = 1;
      return;
    case 'multi':
      stats.served = { kind: 'parts', parts: plan.parts.length };
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
