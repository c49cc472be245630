/**
 * The answers that carry no bytes of the object, written once for every app
 * (createApp, the Lambda@Edge functions, the streaming origin): refusals,
 * 304 / 412 / 416, store failures and our own bugs. Short plain text; the
 * store's own error text never reaches the client.
 */
import type { Decision } from './decide.ts';
import { unsatisfiedRange } from './range/content-range.ts';
import type { RangePlan } from './range/plan.ts';
import type { ObjectMeta, StoreError } from './store/types.ts';

/**
 * A short text answer for errors and refusals: `<message>\n`, text/plain,
 * with its Content-Length set here so that the HEAD answer (Hono drops the
 * body and keeps the headers) carries the GET answer's length, as RFC 9110
 * §8.6 requires of any Content-Length on a HEAD answer; left unset,
 * Deno.serve sends 0.
 */
export function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  const body = new TextEncoder().encode(`${message}\n`);
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), ...headers },
  });
}

export function notFound(): Response {
  return plain(404, 'Not Found');
}

/**
 * §15.4.5: a 304 carries what a 200 would among ETag, Cache-Control and
 * Expires (Date is the apps' `dated`), no content — and no other metadata:
 * Last-Modified would only help a cache without an ETag, and every object
 * here has one.
 */
export function notModified(meta: ObjectMeta): Response {
  const h = new Headers({ etag: meta.etag });
  if (meta.http.cacheControl) h.set('cache-control', meta.http.cacheControl);
  if (meta.http.expires) h.set('expires', meta.http.expires.toUTCString());
  return new Response(null, { status: 304, headers: h });
}

/** §15.5.13: a precondition of §13.2.2 step 1 (If-Match, If-Unmodified-Since) failed. */
export function preconditionFailed(): Response {
  return plain(412, 'Precondition Failed');
}

/** §15.5.17: 416 carries the current length, `Content-Range: bytes *\/<size>`. */
export function rangeNotSatisfiable(size: number): Response {
  return plain(416, 'Range Not Satisfiable', { 'content-range': unsatisfiedRange(size) });
}

/** A plan that sends bytes (or a HEAD's headers): every plan but 416's. */
export type BytesPlan = Exclude<RangePlan, { kind: 'unsatisfiable' }>;

/**
 * Settles what a decision answers without reading the object: 304 or 412
 * for a failed precondition (§13.2.2), 416 for a Range nothing of which can
 * be served (§14.1.1); otherwise the plan that sends bytes.
 */
export function settle(decision: Decision, meta: ObjectMeta): { readonly answer: Response } | { readonly plan: BytesPlan } {
  if ('failed' in decision) return { answer: decision.failed === 304 ? notModified(meta) : preconditionFailed() };
  const { plan } = decision;
  return plan.kind === 'unsatisfiable' ? { answer: rangeNotSatisfiable(meta.size) } : { plan };
}

/** A store that failed after the retries (502 / 503 / 504), was not found (404) or kept changing (503). */
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
      return notFound();
    case 'changed':
      // Replaced twice while we read it: a retry will likely find it settled.
      return plain(503, 'Service Unavailable: the object changed while being read', { 'retry-after': '1' });
  }
}

/**
 * Anything thrown past the handler is our bug, not the client's: log it and
 * say so briefly, never with internals (every app's onError).
 */
export function unexpectedError(err: Error): Response {
  console.error('edge-ranges: unexpected error', err);
  return plain(500, 'Internal Server Error');
}
