/**
 * The regional Lambda behind a Function URL with response streaming: the
 * full app, multipart streamed with no size cap (Lambda's streaming limit
 * is 200 MB), as CloudFront's second origin. Objects live under `/stream/`:
 * its own behaviour (`/stream/*`) and origin-request's fallback both send
 * requests there.
 */
import { Hono } from 'hono';
import { createApp, dated, type AppOptions } from '../app.ts';
import { plain } from '../answers.ts';
import { ORIGIN_SECRET_HEADER } from './cloudfront.ts';
import { STREAM_PATH } from './origin-request.ts';

export interface StreamOriginOptions extends AppOptions {
  /**
   * When set, requests must carry it in `x-ranges-origin-secret` (CloudFront
   * adds it as an origin custom header): the Function URL is public, the
   * bucket behind it need not be.
   */
  readonly originSecret?: string;
}

/**
 * The streaming origin: createApp(options) under `/stream/<key>` (and
 * `/<key>`), behind a check of `x-ranges-origin-secret` (403 without it)
 * when `originSecret` is set. For `hono/aws-lambda`'s `streamHandle` (AWS
 * docs, "Response streaming for Lambda functions": up to 200 MB, 2 MB/s
 * after the first 6 MB).
 */
export function streamOriginApp(options: StreamOriginOptions): Hono {
  const app = new Hono();
  const { originSecret } = options;
  app.use('*', dated);
  if (originSecret !== undefined) {
    app.use('*', async (c, next) => {
      if (!sameSecret(c.req.header(ORIGIN_SECRET_HEADER) ?? '', originSecret)) {
        return plain(403, 'Forbidden: requests reach this origin through CloudFront');
      }
      await next();
    });
  }
  app.route(
    '/',
    createApp({
      ...options,
      rewriteRequestPath: (path) => (path.startsWith(`${STREAM_PATH}/`) ? path.slice(STREAM_PATH.length) : path),
    }),
  );
  return app;
}

/** Compares in time that does not depend on where the strings differ. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return diff === 0;
}
