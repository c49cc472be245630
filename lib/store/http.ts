/**
 * ObjectStore over any origin that serves objects by plain HTTP GET with
 * single ranges: nginx or Apache, Google Cloud Storage, Azure Blob Storage,
 * Backblaze B2, public or presigned S3 and R2 URLs, another CDN. Only
 * `fetch` is used, so it runs on every runtime (Workers, Node, Deno, Bun).
 *
 * Such origins answer one range per request and mostly ignore If-Range, so
 * every byte range is one GET carrying a precondition, and every answer is
 * checked before a byte of it is handed on (RFC 9110 §13.1, §14, §15.3.7):
 *
 *   version from HEAD      guard sent on each ranged GET     answer must carry
 *   strong ETag "x"        If-Match: "x"                     206, Content-Range a-b/size, ETag "x"
 *   weak ETag W/"x"        If-Unmodified-Since: <LM>, if LM  206, Content-Range a-b/size, ETag W/"x"
 *   Last-Modified only     If-Unmodified-Since: <LM>         206, Content-Range a-b/size, that LM
 *   neither                (refused: nothing to guard with)
 *
 * An answer that is not exactly that — 200 to a range, another range or
 * complete length, another validator, a Content-Length that disagrees, a
 * Content-Encoding — is a changed object (`changed`: the handler starts over
 * with fresh metadata) or a failing origin (`unavailable`), never bytes.
 *
 * The one-call `read` (a plain GET or one range: one origin request) is
 * unguarded but for the client's If-Match / If-Unmodified-Since; its answer
 * must be exactly the asked range, and its metadata is the version the
 * handler then announces and decides on.
 */
import { parseETag, parseHttpDate } from '../conditional.ts';
import { byteLength, type ByteRange } from '../range/byte-range.ts';
import { parseContentRange, rangeField, specField } from '../range/content-range.ts';
import { resolveRanges } from '../range/plan.ts';
import { sendableMetadata } from './metadata.ts';
import {
  StoreError,
  type HttpMetadata,
  type ObjectMeta,
  type ObjectStore,
  type ReadAnswer,
  type ReadAsk,
  type ReadConditions,
  type Span,
  type Version,
} from './types.ts';

export interface HttpOriginSettings {
  /**
   * The origin's base URL (http or https). An object's key, each segment
   * percent-encoded, is appended to its path; its query string (e.g. an
   * Azure SAS token or a public signature) is sent on every request.
   */
  readonly url: URL;
  /** Fields sent on every request, e.g. `authorization` (none by default). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The fetch to use (tests; a runtime's own); globalThis.fetch by default. */
  readonly fetch?: typeof fetch;
}

/**
 * Request fields the store sets itself: a fixed field with one of these
 * names would change what the guards and checks mean.
 */
export const RESERVED_ORIGIN_FIELDS: readonly string[] = [
  'accept-encoding',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
];

export function httpStore(settings: HttpOriginSettings): ObjectStore {
  const base = baseOf(settings.url);
  const doFetch = fetchOf(settings);
  const fixed = settings.headers ?? {};

  /** One request to the origin; network failures become StoreErrors. */
  async function send(
    method: 'GET' | 'HEAD',
    key: string,
    fields: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const url = base.urlOf(key);
    try {
      return await doFetch(url, {
        method,
        // identity: fetch decodes gzip and br bodies by itself, and a decoded
        // body has neither the stored length nor the stored byte offsets.
        headers: { ...fixed, 'accept-encoding': 'identity', ...fields },
        // A redirect is reported, not followed: following would re-send the
        // fixed fields to wherever it points, and cost a round trip per range.
        redirect: 'manual',
        ...(signal && { signal }),
      });
    } catch (cause) {
      const text = withoutQuery(errorText(cause), settings.url);
      throw new StoreError(isAbort(cause) ? 'timeout' : 'unavailable', `HTTP origin: ${method} ${key}: ${text}`, { cause });
    }
  }

  return {
    async head(key, signal) {
      if (!base.canName(key)) return null;
      const res = await send('HEAD', key, {}, signal);
      await discard(res);
      if (res.status === 404 || res.status === 410) return null;
      if (res.status !== 200) throw failure(res, 'HEAD', key);
      return metaOf(res.headers, sizeOf(res.headers, 'HEAD', key), key);
    },

    async get(key, version, span?: Span, signal?: AbortSignal) {
      if (!base.canName(key)) throw new StoreError('not-found', `HTTP origin: no object ${key}`);
      // A zero-length span cannot be asked as a range; the whole (empty) object is the same bytes.
      const asked: ByteRange | undefined =
        span && span.length > 0 ? { start: span.offset, end: span.offset + span.length - 1 } : undefined;
      const res = await send('GET', key, { ...guardOf(version), ...(asked && { range: rangeField([asked]) }) }, signal);
      try {
        checkGuarded(res, version, asked, key);
      } catch (err) {
        await discard(res);
        throw err;
      }
      return bodyOf(res, key);
    },

    readConditions: HTTP_CONDITIONS,

    async read(key, { range, conditions }: ReadAsk, signal?: AbortSignal): Promise<ReadAnswer> {
      if (!base.canName(key)) return { kind: 'missing' };
      const fields: Record<string, string> = {};
      if (range !== undefined) fields.range = specField(range);
      if (conditions?.ifMatch !== undefined) fields['if-match'] = conditions.ifMatch;
      if (conditions?.ifUnmodifiedSince !== undefined) fields['if-unmodified-since'] = conditions.ifUnmodifiedSince.toUTCString();
      const res = await send('GET', key, fields, signal);
      try {
        if (res.status === 404 || res.status === 410) return await discarded(res, { kind: 'missing' });
        if (res.status === 416) return await discarded(res, { kind: 'unsatisfiable' });
        // A 412 is not sure to carry the representation's fields (nginx sends none).
        if (res.status === 412) return await discarded(res, { kind: 'refused', meta: undefined });
        if (res.status !== 200 && res.status !== 206) throw failure(res, 'GET', key);
        let meta: ObjectMeta;
        let sent: ByteRange | undefined;
        if (res.status === 206) {
          const answer = parseContentRange(res.headers.get('content-range'));
          if (answer?.kind !== 'range' || answer.length === undefined) {
            throw new StoreError('unavailable', `HTTP origin: GET ${key}: 206 without a usable Content-Range`);
          }
          expectLength(res.headers, answer.range, key);
          meta = metaOf(res.headers, answer.length, key);
          sent = answer.range;
        } else {
          meta = metaOf(res.headers, sizeOf(res.headers, 'GET', key), key);
        }
        // Exactly the asked bytes, or nothing: a 200 to a range (the origin
        // ignores Range) is the whole object, right only when that was asked.
        const whole = { start: 0, end: meta.size - 1 };
        const asked = range === undefined ? whole : (resolveRanges([range], meta.size)[0] ?? whole);
        const got = sent ?? whole;
        if (asked.start !== got.start || asked.end !== got.end) {
          throw new StoreError('unavailable', `HTTP origin: GET ${key}: asked ${fields.range ?? 'all'}, answered ${res.status} ${res.headers.get('content-range') ?? 'the whole object'}`);
        }
        return { kind: 'bytes', meta, body: bodyOf(res, key) };
      } catch (err) {
        await discard(res);
        throw err;
      }
    },
  };
}

/**
 * The conditions the one-call read passes on: §13.2.2's step-1 fields, whose
 * failure is a 412 whatever else was asked (an origin's 412 or 304 is not
 * sure to carry the metadata the handler would need to decide otherwise).
 * The handler evaluates every precondition again on the answer's metadata,
 * so an origin that ignores them costs bytes, never a wrong answer.
 */
const HTTP_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set(['ifMatch', 'ifUnmodifiedSince']);

/** The base URL split so that keys go between its path and its query. */
function baseOf(url: URL): { urlOf(key: string): string; canName(key: string): boolean } {
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const prefix = `${url.origin}${path}`;
  return {
    urlOf: (key) => `${prefix}${key.split('/').map(encodeURIComponent).join('/')}${url.search}`,
    // A URL cannot name `.` or `..` segments (parsers resolve them, encoded or
    // not), so such a key names no object here.
    canName: (key) => !key.split('/').some((s) => s === '.' || s === '..'),
  };
}

/**
 * The precondition a ranged GET carries (§13.1.1, §13.1.4): If-Match for a
 * strong ETag; a weak one cannot satisfy If-Match (strong comparison), so
 * then If-Unmodified-Since with the version's Last-Modified. The answer's
 * own validator is checked either way (checkGuarded).
 */
function guardOf(version: Version): Record<string, string> {
  const tag = parseETag(version.etag);
  if (tag && !tag.weak) return { 'if-match': version.etag };
  return version.lastModified ? { 'if-unmodified-since': version.lastModified.toUTCString() } : {};
}

/**
 * Throws unless `res` is exactly the answer a guarded GET for `asked` (or
 * the whole object) of `version` must be. `changed`: the origin holds
 * another version now; `unavailable`: the origin does not do what the
 * guards rely on.
 */
function checkGuarded(res: Response, version: Version, asked: ByteRange | undefined, key: string): void {
  const where = `HTTP origin: GET ${key}${asked ? ` bytes=${asked.start}-${asked.end}` : ''}`;
  if (res.status === 412) throw new StoreError('changed', `${where}: 412, no longer ${version.etag}`);
  if (res.status === 404 || res.status === 410) throw new StoreError('not-found', `${where}: ${res.status}`);
  if (res.status === 416) {
    // We only ask ranges inside the version's size: a 416 means the object is now shorter.
    throw new StoreError('changed', `${where}: 416, ${res.headers.get('content-range') ?? 'no Content-Range'}`);
  }
  if (res.status !== 200 && res.status !== 206) throw failure(res, 'GET', key);
  encodingOf(res.headers, 'GET', key);

  // The same version, by the origin's own validator (§8.8: a 206 carries the
  // ETag and Last-Modified a 200 would, §15.3.7).
  const tag = versionTag(res.headers, key);
  if (tag === null) throw new StoreError('unavailable', `${where}: the answer carries no validator to check`);
  const whole = res.status === 200;
  const size = whole ? contentLength(res.headers) : completeLength(res.headers);
  if (tag !== version.etag || (size !== undefined && size !== version.size)) {
    throw new StoreError('changed', `${where}: answered ${tag} of ${size ?? '?'} bytes, was ${version.etag} of ${version.size}`);
  }
  if (whole) {
    // 200 is right for the whole object, and for a range that covers it all;
    // for any other range the origin ignored Range (or our guard with it).
    const all = asked === undefined || (asked.start === 0 && asked.end === version.size - 1);
    if (!all) throw new StoreError('unavailable', `${where}: the origin answered 200, ignoring Range`);
    if (size !== version.size) throw new StoreError('unavailable', `${where}: 200 without Content-Length ${version.size}`);
    return;
  }
  const answer = parseContentRange(res.headers.get('content-range'));
  if (asked === undefined || answer?.kind !== 'range' || answer.range.start !== asked.start || answer.range.end !== asked.end) {
    throw new StoreError('unavailable', `${where}: 206 with Content-Range ${res.headers.get('content-range') ?? 'none'}`);
  }
  if (answer.length === undefined) throw new StoreError('unavailable', `${where}: Content-Range without the complete length`);
  expectLength(res.headers, asked, key);
}

/** A Content-Length, when sent, must be the range's length (a truncating proxy rewrites it). */
function expectLength(headers: Headers, range: ByteRange, key: string): void {
  const length = contentLength(headers);
  const want = byteLength(range);
  if (length !== undefined && length !== want) {
    throw new StoreError('unavailable', `HTTP origin: GET ${key}: Content-Length ${length} for ${want} bytes`);
  }
}

/**
 * The version's entity-tag: the origin's ETag, strong or weak, as sent; for
 * an origin with only Last-Modified, a weak tag made of it and the size
 * (weak: a one-second date does not vouch for byte-for-byte identity).
 * Null when there is neither: nothing to guard a range with.
 */
function versionTag(headers: Headers, key: string, size?: number): string | null {
  const raw = headers.get('etag');
  if (raw !== null) {
    const tag = parseETag(raw);
    if (tag) return `${tag.weak ? 'W/' : ''}${tag.opaque}`;
    throw new StoreError('unavailable', `HTTP origin: ${key}: malformed ETag ${JSON.stringify(raw)}`);
  }
  const lastModified = dateOf(headers, 'last-modified');
  if (lastModified === undefined) return null;
  const length = size ?? completeLength(headers) ?? contentLength(headers);
  return `W/"${(length ?? 0).toString(16)}-${(lastModified.getTime() / 1000).toString(16)}"`;
}

function metaOf(headers: Headers, size: number, key: string): ObjectMeta {
  encodingOf(headers, 'answer', key);
  const etag = versionTag(headers, key, size);
  if (etag === null) {
    throw new StoreError('unavailable', `HTTP origin: ${key}: neither ETag nor Last-Modified, so ranges cannot be guarded`);
  }
  // fetch already refuses CR and LF in a field; the rule every store keeps is in one place (metadata.ts).
  const http: HttpMetadata = sendableMetadata(
    {
      contentType: field(headers, 'content-type'),
      cacheControl: field(headers, 'cache-control'),
      contentDisposition: field(headers, 'content-disposition'),
      contentLanguage: field(headers, 'content-language'),
      expires: dateOf(headers, 'expires'),
    },
    key,
  );
  return { size, etag, lastModified: dateOf(headers, 'last-modified'), http };
}

/**
 * Refuses an answer in a Content-Encoding: fetch decodes gzip, deflate and
 * br by itself (Node's fetch whatever we ask), so its bytes would not be the
 * stored bytes the ranges count.
 */
function encodingOf(headers: Headers, what: string, key: string): void {
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw new StoreError(
      'unavailable',
      `HTTP origin: ${what} ${key}: Content-Encoding ${encoding}; only objects stored without an encoding can be served by range`,
    );
  }
}

function sizeOf(headers: Headers, what: string, key: string): number {
  const size = contentLength(headers);
  if (size === undefined) {
    throw new StoreError('unavailable', `HTTP origin: ${what} ${key}: no Content-Length, so the object's length is unknown`);
  }
  return size;
}

function contentLength(headers: Headers): number | undefined {
  const value = headers.get('content-length');
  if (value === null || !/^\d{1,16}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function completeLength(headers: Headers): number | undefined {
  const answer = parseContentRange(headers.get('content-range'));
  return answer?.length;
}

function field(headers: Headers, name: string): string | undefined {
  return headers.get(name) ?? undefined;
}

function dateOf(headers: Headers, name: string): Date | undefined {
  const value = headers.get(name);
  return (value !== null && parseHttpDate(value)) || undefined;
}

/**
 * A status the store cannot serve from, as a StoreError: 412 `changed`;
 * 429 and 503 `overloaded` (with the origin's Retry-After, §10.2.3);
 * redirects, refusals and other failures `unavailable`.
 */
function failure(res: Response, method: string, key: string): StoreError {
  const where = `HTTP origin: ${method} ${key}: ${res.status}`;
  const status = res.status;
  if (status === 412) return new StoreError('changed', where);
  if (status === 429 || status === 503) {
    return new StoreError('overloaded', where, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
  }
  if (status >= 300 && status < 400) {
    // Never the Location itself in the log: it may carry a signature.
    const location = res.headers.get('location');
    const host = location ? hostOf(location) : 'nowhere';
    return new StoreError('unavailable', `${where}: redirected to ${host}; set ORIGIN_URL to where the objects are`);
  }
  if (status === 401 || status === 403) {
    return new StoreError('unavailable', `${where}: refused; check ORIGIN_HEADERS or the signature in ORIGIN_URL`);
  }
  return new StoreError('unavailable', where);
}

/** Retry-After (§10.2.3): delay-seconds or an HTTP-date, as milliseconds from now. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = parseHttpDate(trimmed);
  return date === null ? undefined : Math.max(0, date.getTime() - now);
}

function hostOf(location: string): string {
  try {
    return new URL(location).host || 'a relative location';
  } catch {
    return 'a malformed location';
  }
}

function bodyOf(res: Response, key: string): ReadableStream<Uint8Array> {
  if (res.body === null) throw new StoreError('unavailable', `HTTP origin: GET ${key}: no body`);
  return res.body;
}

/** Releases an answer's connection without reading what is left. */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

async function discarded<T>(res: Response, value: T): Promise<T> {
  await discard(res);
  return value;
}

/** The settings' fetch, or the runtime's (looked up per call, so a runtime's own stays in charge). */
function fetchOf(settings: HttpOriginSettings): typeof fetch {
  return settings.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
}

/** A fetch abandoned through its signal (our timeout, or the caller's). */
function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * `text` with the base URL's query (a SAS token, a signature) cut out: some
 * runtimes' fetch errors quote the whole URL (Deno: "error sending request
 * for url (…)"), and these texts go to the log.
 */
function withoutQuery(text: string, url: URL): string {
  return url.search === '' ? text : text.split(url.search).join('?…');
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/**
 * One HEAD of the base URL, for a start-up check: null when the origin
 * answers at all (any status: a base URL need not name an object), else why
 * it cannot be reached within `timeoutMs`.
 */
export async function checkOrigin(settings: HttpOriginSettings, timeoutMs = 5000): Promise<string | null> {
  try {
    const res = await fetchOf(settings)(settings.url, {
      method: 'HEAD',
      headers: { ...settings.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await discard(res);
    return null;
  } catch (err) {
    return isAbort(err) ? `no answer within ${timeoutMs} ms` : withoutQuery(errorText(err), settings.url);
  }
}
