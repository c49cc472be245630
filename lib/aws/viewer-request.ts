/**
 * Lambda@Edge, viewer-request: decides everything that depends on the
 * object's current version before CloudFront looks in its cache, so that
 * what reaches the cache and the origin is already decided.
 *
 * - RFC 9110 §13.2.2 preconditions against HeadObject: 304 and 412 are
 *   answered here (so are 404 and 416, which need no bytes).
 * - §13.1.5 If-Range: decided here, because it is read-only in
 *   origin-request. A stale validator drops Range (full 200).
 * - §14.2 Range: rewritten as absolute, resolved ranges (`bytes=0-99,200-299`)
 *   or removed, so equal asks share one cache entry.
 * - The decided fields are removed and `x-ranges-etag` carries the ETag the
 *   decision was made against: it is in the cache key, so cached bytes are
 *   per version, and origin-request turns it into If-Match.
 *
 * Generated responses here are tiny (the limit is 40 KB).
 */
import { Hono } from 'hono';
import { notFound, settle, storeFailure, unexpectedError, type BytesPlan } from '../answers.ts';
import { corsFor, dated } from '../app.ts';
import { CONDITIONAL_FIELDS } from '../conditional.ts';
import { cachedHead, type MetadataCache } from '../cache/metadata.ts';
import { decide } from '../decide.ts';
import { requestGate } from '../gate.ts';
import type { ByteRange } from '../range/byte-range.ts';
import { DEFAULT_RANGE_LIMITS, type RangeLimits } from '../range/plan.ts';
import { rangeField } from '../range/content-range.ts';
import { DEFAULT_STORE_RETRY, newUpstreamStats, resilient, type StoreRetryPolicy } from '../store/resilient.ts';
import { StoreError, type ObjectStore } from '../store/types.ts';
import { ETAG_KEY_HEADER, generatedResponses, passOn, setHeader, type EdgeBindings } from './cloudfront.ts';

export interface ViewerRequestOptions {
  readonly store: ObjectStore;
  readonly keyPrefix?: string;
  readonly limits?: Partial<RangeLimits>;
  /** Viewer triggers time out after 5 s: keep the HEAD's retries well inside it. */
  readonly retry?: Partial<StoreRetryPolicy>;
  /** Origins allowed to read objects from scripts (CORS preflight answered here); absent for none. */
  readonly corsOrigins?: '*' | readonly string[];
  /** When set, every GET/HEAD must carry a valid signature made with this secret (see lib/signing.ts). */
  readonly signingSecret?: string;
  /**
   * Metadata kept for METADATA_TTL seconds per container, so a request
   * within it makes no HeadObject (lib/cache/metadata.ts); absent: one per
   * request. A stale ETag is safe: it goes into the cache key and becomes
   * origin-request's If-Match, which fails on a replaced object.
   */
  readonly metadata?: MetadataCache;
}

/** The fields this function decides (CloudFront's header map is keyed in lower case); none reaches the cache or the origin. */
const DECIDED = CONDITIONAL_FIELDS.map((name) => name.toLowerCase());

const VIEWER_RETRY: StoreRetryPolicy = { ...DEFAULT_STORE_RETRY, attempts: 2, timeoutMs: 1500, budgetMs: 3500 };

/**
 * The viewer-request app, for `hono/lambda-edge`'s `handle` (AWS docs,
 * "Lambda@Edge event structure", viewer request; a generated response is at
 * most 40 KB). Per GET/HEAD: the signature (403), the key (400), one
 * HeadObject (404; store failures 502/503/504), then decide(): 304, 412 and
 * 416 are answered here; otherwise the request goes on with Range rewritten
 * or removed, the conditional fields removed and `x-ranges-etag` set.
 * OPTIONS → 204, other methods → 405. Defaults: DEFAULT_RANGE_LIMITS, and a
 * store retry of 2 tries, 1.5 s each, 3.5 s in all (the trigger's limit is
 * 5 s). Never throws: unexpected errors answer 500 (unexpectedError).
 */
export function viewerRequestApp(options: ViewerRequestOptions): Hono<{ Bindings: EdgeBindings }> {
  const limits = { ...DEFAULT_RANGE_LIMITS, ...options.limits };
  const retry = { ...VIEWER_RETRY, ...options.retry };
  const gate = requestGate(options);
  const app = new Hono<{ Bindings: EdgeBindings }>();

  app.use('*', generatedResponses, dated);
  if (options.corsOrigins !== undefined) app.use('*', ...corsFor(options.corsOrigins));

  app.all('*', async (c) => {
    const { request } = c.env;
    const passed = await gate(request.method, new URL(c.req.url), request.uri);
    if ('answer' in passed) return passed.answer;

    let meta;
    try {
      const store = resilient(options.store, retry, newUpstreamStats());
      meta = options.metadata ? await cachedHead(options.metadata, store, passed.key) : await store.head(passed.key);
    } catch (err) {
      if (err instanceof StoreError) return storeFailure(err);
      throw err;
    }
    if (meta === null) return notFound();

    const settled = settle(decide(request.method, c.req.raw.headers, meta, limits), meta);
    if ('answer' in settled) return settled.answer;

    for (const name of DECIDED) delete request.headers[name];
    const range = passedRange(settled.plan);
    if (range === undefined) delete request.headers['range'];
    else setHeader(request.headers, 'range', range);
    setHeader(request.headers, ETAG_KEY_HEADER, meta.etag);
    return passOn(c);
  });

  app.onError(unexpectedError);
  return app;
}

/** The Range to pass on for a plan, or undefined for the whole object. */
function passedRange(plan: BytesPlan): string | undefined {
  switch (plan.kind) {
    case 'full':
      return undefined;
    case 'single':
      return rangeField([plan.range]);
    case 'multi':
      return rangeField(plan.parts);
  }
}
