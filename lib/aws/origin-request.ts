/**
 * Lambda@Edge, origin-request: runs on a cache miss, after viewer-request
 * has decided the preconditions and rewritten Range.
 *
 * - No Range, or one range: passed on to the S3 origin, which serves it;
 *   CloudFront streams and caches the answer. `x-ranges-etag` becomes
 *   If-Match (§13.1.1), so bytes of a newer version are refused (412),
 *   never cached under the older version's key.
 * - Several ranges: S3 answers only the first, so the multipart body
 *   (§14.6) is built here by the same lib code as on the other runtimes —
 *   and buffered, since Lambda@Edge cannot stream (the one exception to
 *   "never buffer"). When the whole generated response, headers and base64
 *   body, would pass CloudFront's 1 MB, the fallback applies: the request
 *   goes to the streaming Lambda origin when the S3 origin names one
 *   (custom header `x-ranges-stream-origin`), else Range is dropped and S3
 *   sends the whole object with 200 (§14.2 lets a server ignore Range).
 *
 * If-Range and the other conditional fields are read-only here; they were
 * settled in viewer-request.
 */
import { Hono } from 'hono';
import { preconditionFailed, storeFailure, unexpectedError } from '../answers.ts';
import { dated } from '../app.ts';
import { contentTypeOf, decide } from '../decide.ts';
import { keyOf } from '../gate.ts';
import { multipartLayout } from '../multipart.ts';
import { rangeField } from '../range/content-range.ts';
import { parseRange } from '../range/parse.ts';
import { DEFAULT_RANGE_LIMITS, type RangeLimits } from '../range/plan.ts';
import { DEFAULT_SERVE_OPTIONS, multipartResponse } from '../serve.ts';
import { DEFAULT_STORE_RETRY, newUpstreamStats, resilient, type StoreRetryPolicy } from '../store/resilient.ts';
import { StoreError, type ObjectStore } from '../store/types.ts';
import {
  ETAG_KEY_HEADER,
  ORIGIN_SECRET_HEADER,
  STREAM_ORIGIN_HEADER,
  generatedResponses,
  generatedSize,
  header,
  passOn,
  setHeader,
  type CloudFrontRequest,
  type EdgeBindings,
  type EdgeContext,
} from './cloudfront.ts';

export interface OriginRequestOptions {
  readonly store: ObjectStore;
  readonly keyPrefix?: string;
  readonly limits?: Partial<RangeLimits>;
  readonly concurrency?: number;
  readonly retry?: Partial<StoreRetryPolicy>;
  /** CloudFront's limit on a response generated in origin-request, headers and body (1 MB). */
  readonly maxGeneratedBytes?: number;
}

export const ORIGIN_REQUEST_LIMIT = 1_000_000;
/** Headers are counted exactly once the response exists; this bounds them before any GET. */
const HEADER_ALLOWANCE = 2048;
/** The path the streaming Lambda serves objects under (its CloudFront behaviour is `/stream/*`). */
export const STREAM_PATH = '/stream';

export function originRequestApp(options: OriginRequestOptions): Hono<{ Bindings: EdgeBindings }> {
  const limits = { ...DEFAULT_RANGE_LIMITS, ...options.limits };
  const retry = { ...DEFAULT_STORE_RETRY, ...options.retry };
  const maxBytes = options.maxGeneratedBytes ?? ORIGIN_REQUEST_LIMIT;
  const app = new Hono<{ Bindings: EdgeBindings }>();

  app.use('*', generatedResponses, dated);
  app.all('*', async (c) => {
    const { request } = c.env;
    const etag = header(request.headers, ETAG_KEY_HEADER);
    if (etag !== undefined) setHeader(request.headers, 'if-match', etag);

    const range = header(request.headers, 'range');
    const specs = request.method === 'GET' && range !== undefined ? parseRange(range) : null;
    if (specs === null || specs.length < 2) return passOn(c);

    const key = keyOf(request.uri, options.keyPrefix ?? '');
    if ('answer' in key) return key.answer;
    const store = resilient(options.store, retry, newUpstreamStats());
    try {
      const meta = await store.head(key.key);
      if (meta === null) return passOn(c);
      const asked = new Headers(c.req.raw.headers);
      if (etag !== undefined) asked.set('if-match', etag);
      const decision = decide('GET', asked, meta, limits);
      if ('failed' in decision) return preconditionFailed();
      const { plan } = decision;
      if (plan.kind === 'full') delete request.headers['range'];
      if (plan.kind === 'single') setHeader(request.headers, 'range', rangeField([plan.range]));
      if (plan.kind !== 'multi') return passOn(c);

      const bodyLength = multipartLayout(plan.parts, meta.size, contentTypeOf(meta)).length;
      if (generatedSize(new Headers(), bodyLength) + HEADER_ALLOWANCE > maxBytes) return fallback(c, request);

      const res = await multipartResponse(store, key.key, meta, plan, options.concurrency ?? DEFAULT_SERVE_OPTIONS.concurrency);
      // Buffered: Lambda@Edge returns a generated body whole (see above).
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    } catch (err) {
      if (err instanceof StoreError) return storeFailure(err);
      throw err;
    }
  });

  app.onError(unexpectedError);
  return app;
}

/**
 * Too large to generate: the streaming Lambda origin serves it when the S3
 * origin names one; otherwise S3 sends the whole object (200).
 */
function fallback(c: EdgeContext, request: CloudFrontRequest): Response {
  const s3 = request.origin?.s3;
  const domainName = header(s3?.customHeaders, STREAM_ORIGIN_HEADER);
  if (domainName === undefined) {
    delete request.headers['range'];
    return passOn(c);
  }
  const secret = header(s3?.customHeaders, ORIGIN_SECRET_HEADER);
  request.origin = {
    custom: {
      domainName,
      port: 443,
      protocol: 'https',
      path: '',
      sslProtocols: ['TLSv1.2'],
      readTimeout: 60,
      keepaliveTimeout: 5,
      customHeaders: secret === undefined ? {} : { [ORIGIN_SECRET_HEADER]: [{ key: ORIGIN_SECRET_HEADER, value: secret }] },
    },
  };
  setHeader(request.headers, 'host', domainName);
  request.uri = `${STREAM_PATH}${request.uri}`;
  return passOn(c);
}
