/**
 * What a GET or HEAD asks of the current version of an object, decided from
 * its metadata alone: the preconditions, then If-Range, then Range. The
 * origin (serve.ts) and a cache in front of it (the Lambda@Edge
 * viewer-request function) decide the same way.
 */
import { evaluatePreconditions, ifRangeHolds, type PreconditionFailure } from './conditional.ts';
import { partOverhead } from './multipart.ts';
import { parseRange } from './range/parse.ts';
import { planRanges, type RangeLimits, type RangePlan } from './range/plan.ts';
import type { ObjectMeta } from './store/types.ts';

export type Decision =
  /** Answer 304 or 412 with no content. */
  | { readonly failed: PreconditionFailure }
  /** Serve this plan; `rangesAsked` counts the Range's specs (0 without a usable Range). */
  | { readonly plan: RangePlan; readonly rangesAsked: number };

export function decide(method: string, headers: Headers, meta: ObjectMeta, limits: RangeLimits): Decision {
  // RFC 9110 §13.2.2 steps 1–4.
  const failed = evaluatePreconditions(method, headers, meta);
  if (failed !== null) return { failed };

  // §14.2: Range is defined for GET only; HEAD answers as a full GET would.
  // §13.2.2 step 5: If-Range decides whether Range is honoured at all.
  const range = method === 'GET' ? headers.get('range') : null;
  const specs = range !== null && ifRangeHolds(headers.get('if-range'), meta) ? parseRange(range) : null;
  const overhead = specs !== null && specs.length > 1 ? partOverhead(meta.size, contentTypeOf(meta)) : 0;
  return { plan: planRanges(specs, meta.size, limits, overhead), rangesAsked: specs?.length ?? 0 };
}

/** The stored Content-Type, or the generic one for bytes. */
export function contentTypeOf(meta: ObjectMeta): string {
  return meta.http.contentType ?? 'application/octet-stream';
}
