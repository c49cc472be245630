/**
 * The AWS apps, each a Hono app to wrap with Hono's adapter for its trigger:
 * `viewerRequestApp` and `originRequestApp` with `hono/lambda-edge`'s `handle`
 * (Lambda@Edge viewer-request and origin-request), `streamOriginApp` with
 * `hono/aws-lambda`'s `streamHandle` (a regional Lambda with response streaming).
 * The deployment that wires them to CloudFront is infra/aws in the repository.
 */
export { viewerRequestApp, type ViewerRequestOptions } from './viewer-request.ts';
export { originRequestApp, type OriginRequestOptions } from './origin-request.ts';
export { streamOriginApp, type StreamOriginOptions } from './stream-origin.ts';
