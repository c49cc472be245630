/**
 * The Hono side: the gate (methods, signed URLs, the object key; gate.ts),
 * the store, CORS, and one log line per request. The HTTP semantics of
 * serving an object live in `serve.ts`.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ObjectCache } from './cache/store.ts';
import { cors } from 'hono/cors';
import { unexpectedError } from './answers.ts';
import { CONDITIONAL_FIELDS } from './conditional.ts';
import { ALLOW, requestGate } from './gate.ts';
import { logLine, serverTiming } from './log.ts';
import type { RangeLimits } from './range/plan.ts';
import { DEFAULT_SERVE_OPTIONS, newServeStats, serveObject, type ServeOptions } from './serve.ts';
import type { StoreRetryPolicy } from './store/resilient.ts';
import type { ObjectStore } from './store/types.ts';
import { LookAheadPool } from './upstream.ts';

export interface EdgeRangesOptions {
  /**
   * The object store, or a function that picks it for each request (Workers
   * bindings are only reachable through `c.env`). Required.
   */
  readonly store: ObjectStore | ((c: Context) => ObjectStore);
  /** Prepended to every object key, confining the function to that part of the bucket (a folder, ending in `/`). Default `''`. */
  readonly keyPrefix?: string;
  /**
   * Maps the URL path (still percent-encoded) before it becomes a key, e.g.
   * to strip the path the middleware is mounted at. Default: the path as it is.
   */
  readonly rewriteRequestPath?: (path: string) => string;
  /** Overrides of the Range limits (README, "Limits and multi-range"). Default `DEFAULT_RANGE_LIMITS`. */
  readonly limits?: Partial<RangeLimits>;
  /** Upstream GETs open at once for one multipart answer. Default 6, the Workers cap. */
  readonly concurrency?: number;
  /**
   * Look-ahead GETs (opened before their parts are written) open at once
   * across all answers of this app; default none (no shared cap). A server sets it
   * so that clients that do not read cannot hold the store's connections
   * (see LookAheadPool, README "Slow clients").
   */
  readonly lookAheadGets?: number;
  /** Overrides of the retry policy for store calls (attempts, backoff in ms, timeouts in ms). Default `DEFAULT_STORE_RETRY`. */
  readonly retry?: Partial<StoreRetryPolicy>;
  /**
   * The edge cache: slices and metadata (lib/cache; README, "Caching
   * ranges"). Default none: every request goes to the store.
   */
  readonly cache?: ObjectCache | undefined;
  /** When set, every GET/HEAD must carry a valid signature made with this secret (see signing.ts). Default none. */
  readonly signingSecret?: string;
  /** Where the JSON line of each request goes; false for none. Default `console.log`. */
  readonly log?: ((line: string) => void) | false;
  /**
   * Share the route with other handlers, as Hono's serveStatic does: call
   * `next()` instead of answering when the method is not GET or HEAD (405,
   * and OPTIONS' 204) or when there is no such object (404). Default false:
   * the middleware answers every request itself.
   */
  readonly fallthrough?: boolean;
}

export interface AppOptions extends EdgeRangesOptions {
  /** Origins allowed to read objects from scripts (CORS): '*' or a list; absent for no CORS. */
  readonly corsOrigins?: '*' | readonly string[];
}

/**
 * Serves objects of a bucket with Range, multipart and conditional request
 * support, as a Hono middleware.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Bindings: { BUCKET: R2Bucket } }>();
 * app.use('/media/*', edgeRanges({
 *   store: (c) => r2Store(c.env.BUCKET),
 *   rewriteRequestPath: (path) => path.replace(/^\/media/, ''),
 *   fallthrough: true, // no such object: the next handler answers
 * }));
 * app.get('/media/*', (c) => c.text('Not in the bucket', 404));
 * ```
 *
 * Answers GET and HEAD with 200, 206 (one range or multipart/byteranges),
 * 304, 412, 416 or 404; other methods with 405 (OPTIONS: 204), unless
 * `fallthrough`. Store failures become 502/503/504 (answers.ts).
 */
export function edgeRanges(options: EdgeRangesOptions): MiddlewareHandler {
  const { store, keyPrefix = '', rewriteRequestPath = (p: string) => p, log = console.log, fallthrough = false } = options;
  const serveOptions: ServeOptions = {
    limits: { ...DEFAULT_SERVE_OPTIONS.limits, ...options.limits },
    concurrency: options.concurrency ?? DEFAULT_SERVE_OPTIONS.concurrency,
    lookAhead: options.lookAheadGets === undefined ? undefined : new LookAheadPool(options.lookAheadGets),
    retry: { ...DEFAULT_SERVE_OPTIONS.retry, ...options.retry },
    cache: options.cache,
  };
  const gate = requestGate({ keyPrefix, signingSecret: options.signingSecret });

  return async function edgeRangesHandler(c, next) {
    const started = Date.now();
    const { method } = c.req;
    if (fallthrough && method !== 'GET' && method !== 'HEAD') return next();
    const url = new URL(c.req.url);
    const stats = newServeStats();
    const passed = await gate(method, url, rewriteRequestPath(url.pathname));
    const res =
      'answer' in passed
        ? passed.answer
        : await serveObject(typeof store === 'function' ? store(c) : store, passed.key, c.req.raw, serveOptions, stats, waitUntilOf(c));
    // Only the store says 404 (the gate answers 400 for a path that is no key).
    if (fallthrough && res.status === 404) {
      await res.body?.cancel();
      return next();
    }
    const ms = Date.now() - started;
    res.headers.set('server-timing', serverTiming(stats, ms));
    // Also here, for the middleware mounted in an app that lacks `dated`.
    setDate(res.headers);
    if (log) log(logLine(c.req.raw, url.pathname, res, stats, ms));
    return res;
  };
}

/** Workers' `ctx.waitUntil`, so slices are stored after the response; undefined elsewhere (Hono throws without one). */
function waitUntilOf(c: Context): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

/** Request fields a preflight may ask for (also the CDK stack's response headers policy). */
export const CORS_ALLOWED = ['Range', ...CONDITIONAL_FIELDS];
/** Response fields scripts may read (also the CDK stack's response headers policy). */
export const CORS_EXPOSED = ['Content-Range', 'Accept-Ranges', 'Content-Length', 'ETag', 'Last-Modified', 'Server-Timing'];

/**
 * CORS for reading objects from scripts on other origins: the preflight
 * allows Range and the conditional fields, responses expose what players and
 * downloaders read. Also used by the Lambda@Edge viewer-request function.
 */
export function corsFor(origins: '*' | readonly string[]): MiddlewareHandler[] {
  return [
    // The CORS middleware answers every OPTIONS itself; keep §9.3.7's Allow on it.
    async (c, next) => {
      await next();
      if (c.req.method === 'OPTIONS') c.res.headers.set('allow', ALLOW);
    },
    cors({
      origin: origins === '*' ? '*' : [...origins],
      allowMethods: ['GET', 'HEAD', 'OPTIONS'],
      // Range with several ranges is not CORS-safelisted: the preflight must allow it.
      allowHeaders: CORS_ALLOWED,
      exposeHeaders: CORS_EXPOSED,
      maxAge: 86400,
    }),
  ];
}

/**
 * RFC 9110 §6.6.1: an origin with a clock MUST send Date on 2xx, 3xx and
 * 4xx answers (and may on the rest). Node's server adds it, workerd does
 * not (Cloudflare's edge may, but the function should not rely on it), so
 * every app sets it itself, on every answer, whichever handler, middleware
 * or onError made it.
 */
export const dated: MiddlewareHandler = async (c, next) => {
  await next();
  setDate(c.res.headers);
};

/** Sets Date to now as an IMF-fixdate (§5.6.7), unless the answer already has one. */
export function setDate(headers: Headers): void {
  if (!headers.has('date')) headers.set('date', new Date().toUTCString());
}

/** A complete app: every path is an object key. */
export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  app.use('*', dated);
  if (options.corsOrigins !== undefined) app.use('*', ...corsFor(options.corsOrigins));
  app.all('*', edgeRanges(options));
  app.onError(unexpectedError);
  return app;
}
