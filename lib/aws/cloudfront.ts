/**
 * CloudFront's side of Lambda@Edge: its header map, the bindings the Hono
 * adapter (`hono/lambda-edge`) passes, and the rules a generated response
 * must keep.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Callback, CloudFrontConfig, CloudFrontEdgeEvent, CloudFrontRequest } from 'hono/lambda-edge';

export type { CloudFrontRequest };
export type CloudFrontHeaders = CloudFrontRequest['headers'];

/** What `hono/lambda-edge` puts in `c.env`. */
export interface EdgeBindings {
  readonly event: CloudFrontEdgeEvent;
  readonly callback: Callback;
  readonly config: CloudFrontConfig;
  readonly request: CloudFrontRequest;
}
export type EdgeContext = Context<{ Bindings: EdgeBindings }>;

/** The header the viewer-request function adds: the object's ETag, in the cache key so cached bytes are per version. */
export const ETAG_KEY_HEADER = 'x-ranges-etag';
/** Custom headers of the S3 origin (set by the CDK stack): where and how to reach the streaming origin. */
export const STREAM_ORIGIN_HEADER = 'x-ranges-stream-origin';
export const ORIGIN_SECRET_HEADER = 'x-ranges-origin-secret';

/** The first value of a header (CloudFront keys the map by lower-case name). */
export function header(headers: CloudFrontHeaders | undefined, name: string): string | undefined {
  return headers?.[name]?.[0]?.value;
}

export function setHeader(headers: CloudFrontHeaders, name: string, value: string): void {
  headers[name] = [{ key: name, value }];
}

/**
 * Answer the request from the function, or pass it on: the adapter returns
 * what the callback got in place of a generated response.
 */
export function passOn(c: EdgeContext): Response {
  c.env.callback(null, c.env.request);
  return new Response(null);
}

/**
 * Generated responses may not carry Content-Length or Transfer-Encoding
 * (CloudFront sets them; a function that does fails validation with a 502):
 * removed from every response of an app, whichever handler, middleware or
 * onError made it.
 */
export const generatedResponses: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.delete('content-length');
  c.res.headers.delete('transfer-encoding');
};

/**
 * Bytes a generated response occupies against CloudFront's limit: the
 * headers as written, plus the body as the adapter sends it — base64 for
 * binary types such as multipart/byteranges.
 */
export function generatedSize(headers: Headers, bodyLength: number): number {
  let size = 0;
  headers.forEach((value, name) => {
    size += name.length + value.length + 4;
  });
  return size + 4 * Math.ceil(bodyLength / 3);
}
