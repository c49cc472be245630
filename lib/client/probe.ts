/**
 * What the download client learns about a remote object before fetching it,
 * and the validators it sends with every ranged request afterwards.
 *
 * The probe is `GET` with `Range: bytes=0-0` rather than HEAD: a server that
 * supports ranges answers 206 with the complete length in Content-Range
 * (§14.4); one that does not answers 200 with the whole body, which is then
 * the single streamed download, so no request is wasted.
 */
import { parseETag } from '../conditional.ts';
import { parseContentRange } from '../range/content-range.ts';
import { DownloadError } from './errors.ts';

export interface RemoteObject {
  /** The URL after redirects. */
  readonly url: string;
  /** The complete length; undefined for a 200 without Content-Length. */
  readonly size: number | undefined;
  /** The ETag as sent, quotes and W/ included (§8.8.3). */
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly acceptRanges: string | null;
}

export type ProbeResult =
  | { readonly kind: 'ranges'; readonly object: RemoteObject & { readonly size: number } }
  /** The server ignored Range: `response` carries the whole body, not yet read. */
  | { readonly kind: 'whole'; readonly object: RemoteObject; readonly response: Response };

export interface FetchOptions {
  readonly fetch: typeof fetch;
  readonly signal: AbortSignal;
  readonly headers: Readonly<Record<string, string>>;
}

export async function probe(url: string, options: FetchOptions): Promise<ProbeResult> {
  const res = await options.fetch(url, { headers: { ...options.headers, range: 'bytes=0-0' }, signal: options.signal, redirect: 'follow' });
  const base = {
    url: res.url || url,
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
    acceptRanges: res.headers.get('accept-ranges'),
  };
  if (res.status === 206) {
    await res.body?.cancel();
    const cr = parseContentRange(res.headers.get('content-range'));
    if (cr?.kind !== 'range' || cr.length === undefined) {
      throw new DownloadError('http', `${url}: 206 without a usable Content-Range (${res.headers.get('content-range')})`);
    }
    return { kind: 'ranges', object: { ...base, size: cr.length } };
  }
  if (res.status === 416) {
    // `bytes=0-0` is unsatisfiable only for an empty representation (§14.1.1).
    await res.body?.cancel();
    const cr = parseContentRange(res.headers.get('content-range'));
    if (cr?.kind === 'unsatisfied' && cr.length === 0) return { kind: 'ranges', object: { ...base, size: 0 } };
    throw new DownloadError('http', `${url}: 416 for bytes=0-0 (${res.headers.get('content-range')})`);
  }
  if (res.status === 200) {
    const length = res.headers.get('content-length');
    const size = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    return { kind: 'whole', object: { ...base, size }, response: res };
  }
  await res.body?.cancel();
  throw new DownloadError('http', `${url}: HTTP ${res.status} ${res.statusText}`.trim(), res.status);
}

/** A strong entity-tag: quoted, without `W/` (§8.8.3). Only those may be used with If-Range and If-Match. */
export function isStrongEtag(etag: string | null): etag is string {
  const tag = etag === null ? null : parseETag(etag);
  return tag !== null && !tag.weak;
}

/**
 * The preconditions sent with every ranged request, so a changed object is
 * noticed instead of spliced:
 * - If-Range with the strong ETag (§13.1.5): a changed object answers 200;
 *   failing a strong ETag, Last-Modified (a date validator, §13.1.5 allows it);
 * - If-Match with the strong ETag (§13.1.1): a changed object answers 412,
 *   for stores that ignore If-Range (S3 and radosgw do).
 */
export function validatorHeaders(object: RemoteObject): Record<string, string> {
  if (isStrongEtag(object.etag)) return { 'if-range': object.etag, 'if-match': object.etag };
  if (object.lastModified !== null) return { 'if-range': object.lastModified };
  return {};
}
