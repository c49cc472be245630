/**
 * Serving one object for one GET or HEAD: metadata, preconditions, Range,
 * then the bytes. Framework-free: a Request and a store in, a Response out.
 */
import { exactLength } from './body.ts';
import { parseETag, parseETagList, parseHttpDate } from './conditional.ts';
import { contentTypeOf, decide, type Decision } from './decide.ts';
import { cachedStore, type ObjectCache } from './cache/store.ts';
import { contentRange, unsatisfiedRange } from './range/content-range.ts';
import { multipartLayout, multipartStream } from './multipart.ts';
import { parseRange, type RangeSpec } from './range/parse.ts';
import { byteLength, type ByteRange } from './range/byte-range.ts';
import { DEFAULT_RANGE_LIMITS, resolveRanges, type RangeLimits, type RangePlan } from './range/plan.ts';
import { DEFAULT_STORE_RETRY, resilient, type StoreRetryPolicy, type UpstreamStats } from './store/resilient.ts';
import { StoreError, type ObjectMeta, type ObjectStore, type ReadAsk, type ReadConditions } from './store/types.ts';
import { openParts } from './upstream.ts';

export interface ServeOptions {
  /** Limits against egregious Range sets, and how parts are grouped into upstream GETs. */
  readonly limits: RangeLimits;
  /** Upstream GETs open at once for one multipart answer. */
  readonly concurrency: number;
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
  waitUntil?: (work: Promise<unknown>) => void,
): Promise<Response> {
  const upstream = resilient(base, options.retry, stats);
  const store = options.cache ? cachedStore(upstream, options.cache, { stats, waitUntil }) : upstream;
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
  const one = method === 'GET' && store.read ? oneRead(headers, store.readConditions ?? NO_CONDITIONS) : undefined;
  if (one) {
    const answer = await readOnce(store, key, one, request, options, stats);
    if (answer) return answer;
  }
  const meta = await store.head(key);
  if (meta === null) return plain(404, 'Not Found');
  return answerFor(store, key, method, meta, decide(method, headers, meta, options.limits), options, stats);
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
  if ('failed' in decision) return decision.failed === 304 ? notModified(meta) : plain(412, 'Precondition Failed');
  const { plan } = decision;
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

/** One read that may answer a GET: what it asks, and whether If-Range rides on it as If-Match. */
interface OneRead {
  readonly ask: ReadAsk;
  readonly ifRangeRides: boolean;
}

const NO_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set();

/**
 * The one read that answers a GET whose answer is the whole object or one
 * range, when the store can take its preconditions (`takes`); undefined
 * for the long way (metadata first): several ranges, a field the store
 * cannot evaluate, a list of entity-tags. Each field goes in the form
 * §13.2.2 evaluates it: If-Unmodified-Since only without If-Match,
 * If-Modified-Since only without If-None-Match, an invalid date not at all.
 * If-Range with a strong entity-tag rides as If-Match (its failure then
 * means "the whole object", §13.1.5) when the request has no step-1 field.
 */
function oneRead(headers: Headers, takes: ReadonlySet<keyof ReadConditions>): OneRead | undefined {
  const value = headers.get('range');
  const specs = value === null ? null : parseRange(value);
  if (specs !== null && (specs.length !== 1 || !plainSpec(specs[0]!))) return undefined;
  const range = specs?.[0];

  const conditions: { -readonly [K in keyof ReadConditions]: ReadConditions[K] } = {};
  const ifMatch = headers.get('if-match');
  if (ifMatch !== null) {
    const list = parseETagList(ifMatch);
    // `*` holds for any object there is; a missing one is a 404 anyway.
    if (list !== '*') {
      if (list.length !== 1 || list[0]!.weak) return undefined;
      conditions.ifMatch = list[0]!.opaque;
    }
  } else {
    conditions.ifUnmodifiedSince = dateOf(headers.get('if-unmodified-since'));
  }
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const list = parseETagList(ifNoneMatch);
    if (list === '*' || list.length !== 1) return undefined;
    conditions.ifNoneMatch = list[0]!.opaque; // weak comparison (§13.1.2): W/ does not count
  } else {
    conditions.ifModifiedSince = dateOf(headers.get('if-modified-since'));
  }

  let ifRangeRides = false;
  const ifRange = headers.get('if-range');
  if (ifRange !== null && range !== undefined && conditions.ifMatch === undefined && conditions.ifUnmodifiedSince === undefined) {
    const tag = parseETag(ifRange);
    if (tag !== null && !tag.weak) {
      conditions.ifMatch = tag.opaque;
      ifRangeRides = true;
    }
  }

  for (const [name, v] of Object.entries(conditions) as Array<[keyof ReadConditions, unknown]>) {
    if (v === undefined) delete conditions[name];
    else if (!takes.has(name)) return undefined;
  }
  return { ask: { range, conditions }, ifRangeRides };
}

/** A spec any store takes as written: small numbers, not `-0`. */
function plainSpec(spec: RangeSpec): boolean {
  return 'suffix' in spec ? spec.suffix > 0 && spec.suffix < Infinity : spec.first < Infinity;
}

/** A valid HTTP-date, or undefined: an invalid one is ignored (§13.1.3–4). */
function dateOf(value: string | null): Date | undefined {
  return (value === null ? null : parseHttpDate(value)) ?? undefined;
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
      return plain(404, 'Not Found');
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
      return plain(412, 'Precondition Failed');
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
