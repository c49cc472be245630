/**
 * The Hono side: methods, the object key, the store. The HTTP semantics of
 * serving an object live in `serve.ts`.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { objectKey } from './keys.ts';
import type { RangeLimits } from './range/plan.ts';
import { DEFAULT_SERVE_OPTIONS, plain, serveObject, type ServeOptions } from './serve.ts';
import type { ObjectStore } from './store/types.ts';

export interface EdgeRangesOptions {
  /**
   * The object store, or a function that picks it for each request (Workers
   * bindings are only reachable through `c.env`).
   */
  readonly store: ObjectStore | ((c: Context) => ObjectStore);
  /** Prepended to every object key, confining the function to that part of the bucket. */
  readonly keyPrefix?: string;
  /**
   * Maps the URL path (still percent-encoded) before it becomes a key, e.g.
   * to strip the path the middleware is mounted at.
   */
  readonly rewriteRequestPath?: (path: string) => string;
  /** Overrides of the Range limits (see README, "Limits"). */
  readonly limits?: Partial<RangeLimits>;
  /** Upstream GETs open at once for one multipart answer (default 6, the Workers cap). */
  readonly concurrency?: number;
}

const ALLOW = 'GET, HEAD, OPTIONS';

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
 * }));
 * ```
 */
export function edgeRanges(options: EdgeRangesOptions): MiddlewareHandler {
  const { store, keyPrefix = '', rewriteRequestPath = (p: string) => p } = options;
  const serveOptions: ServeOptions = {
    limits: { ...DEFAULT_SERVE_OPTIONS.limits, ...options.limits },
    concurrency: options.concurrency ?? DEFAULT_SERVE_OPTIONS.concurrency,
  };
  return async (c) => {
    const { method } = c.req;
    // RFC 9110 §9.3.7 / §15.5.6: say what is allowed, and refuse the rest with 405 + Allow.
    if (method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow: ALLOW } });
    if (method !== 'GET' && method !== 'HEAD') return plain(405, 'Method Not Allowed', { allow: ALLOW });

    // The raw path: Hono's c.req.path is already decoded, and decoding twice
    // would turn %252e%252e into `..`.
    const path = rewriteRequestPath(new URL(c.req.url).pathname);
    const key = objectKey(path, keyPrefix);
    if ('refused' in key) return plain(400, `Bad Request: ${key.refused}`);

    return serveObject(typeof store === 'function' ? store(c) : store, key.key, c.req.raw, serveOptions);
  };
}

/** A complete app: every path is an object key. */
export function createApp(options: EdgeRangesOptions): Hono {
  const app = new Hono();
  app.all('*', edgeRanges(options));
  // Anything thrown past the handler is our bug, not the client's: log it
  // and say so briefly, never with internals.
  app.onError((err) => {
    console.error('edge-ranges: unexpected error', err);
    return plain(500, 'Internal Server Error');
  });
  return app;
}
