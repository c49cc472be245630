/**
 * ObjectStore over a Cloudflare R2 bucket binding.
 *
 * R2 evaluates neither If-Range nor multi-range (a multi-range header gets
 * the whole object, silently), so we only ever ask it for one span: with
 * the ETag as an If-Match guard, or (read) with the request's own
 * preconditions in `onlyIf`.
 */
import { checksOwnLength } from '../body.ts';
import { byteLength } from '../range/byte-range.ts';
import { resolveRanges } from '../range/plan.ts';
import { sendableMetadata } from './metadata.ts';
import { StoreError, type ObjectMeta, type ObjectStore, type ReadAnswer, type ReadAsk, type ReadConditions, type Span, type Version } from './types.ts';

/** The part of the `R2Bucket` binding this adapter uses (workers-types has the full one). */
export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options: { onlyIf?: Headers; range?: R2RangeLike }): Promise<R2ObjectLike | null>;
}

type R2RangeLike = { offset: number; length?: number } | { suffix: number };

interface R2ObjectLike {
  readonly key: string;
  readonly size: number;
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly httpMetadata?: {
    contentType?: string;
    contentLanguage?: string;
    contentDisposition?: string;
    contentEncoding?: string;
    cacheControl?: string;
    cacheExpiry?: Date;
  };
  /** Present on a successful get; absent when `onlyIf` failed. */
  readonly body?: ReadableStream<Uint8Array>;
}

/**
 * An ObjectStore over an R2 bucket binding (Cloudflare docs, R2 Workers API
 * reference: `R2Bucket.head`, `R2Bucket.get` with `range` and `onlyIf`).
 *
 * - `head(key)`: ObjectMeta (`size` in bytes, `etag` = R2's quoted
 *   `httpEtag`, `lastModified` = `uploaded`, the stored HTTP metadata), or
 *   null when there is no such object.
 * - `get(key, version, span?)`: the body of `span` (`offset` and `length`
 *   in bytes; absent or empty: the whole object), guarded by `onlyIf:
 *   If-Match` with the version's ETag (R2's are strong). Throws StoreError `not-found` (no object), `changed` (the guard
 *   failed: R2 then returns the object without a body, not null).
 * - `read(key, { range, conditions })`: one get with the client's range
 *   spec (`a-b`, `a-`, `-n`) and all four ReadConditions as `onlyIf`
 *   (readConditions). Answers `bytes` (metadata and exactly the asked
 *   bytes), `refused` with the metadata (a failed onlyIf), `missing`, or
 *   `unsatisfiable` when R2 throws on a ranged get (it does past the end,
 *   error 10039, and for any range of an empty object locally), so the
 *   planned path decides.
 *
 * Anything the binding throws is StoreError `unavailable`. No retries or
 * timeouts here (lib/store/resilient.ts adds them); R2 calls cannot be
 * aborted, so the stores' `signal` is not taken.
 */
export function r2Store(bucket: R2BucketLike): ObjectStore {
  return {
    readConditions: R2_CONDITIONS,

    async head(key) {
      const object = await call(() => bucket.head(key));
      return object === null ? null : toMeta(object);
    },

    async get(key, { etag }: Version, span?: Span) {
      const options = {
        onlyIf: new Headers({ 'if-match': etag }),
        // A zero-length span cannot be expressed to R2; the whole (empty) object is the same bytes.
        ...(span && span.length > 0 ? { range: { offset: span.offset, length: span.length } } : {}),
      };
      const object = await call(() => bucket.get(key, options));
      if (object === null) throw new StoreError('not-found', `R2: no object ${key}`);
      // A failed onlyIf returns the object without a body (not null).
      if (object.body === undefined) throw new StoreError('changed', `R2: ${key} is no longer ${etag}`);
      return heldTo(object.body, options.range?.length ?? object.size);
    },

    async read(key, { range, conditions }: ReadAsk): Promise<ReadAnswer> {
      const r2Range: R2RangeLike | undefined =
        range === undefined
          ? undefined
          : 'suffix' in range
            ? { suffix: range.suffix }
            : range.last === Infinity
              ? { offset: range.first }
              : { offset: range.first, length: range.last - range.first + 1 };
      const onlyIf = conditions && onlyIfHeaders(conditions);
      let object;
      try {
        object = await bucket.get(key, { ...(r2Range && { range: r2Range }), ...(onlyIf && { onlyIf }) });
      } catch (cause) {
        // R2 refuses some ranges (past the end: error 10039; any range of an
        // empty object, locally) with errors we cannot tell from others:
        // the long way (metadata, then a planned read) decides.
        if (r2Range) return { kind: 'unsatisfiable' };
        throw new StoreError('unavailable', `R2: ${String(cause)}`, { cause });
      }
      if (object === null) return { kind: 'missing' };
      // A failed onlyIf returns the object's metadata without a body (not null).
      if (object.body === undefined) return { kind: 'refused', meta: toMeta(object) };
      // The bytes are what was asked, resolved against the size; R2's own
      // `range` field is not read (its `suffix` key can be present and
      // undefined, which once made every answer look like a misfit).
      const meta = toMeta(object);
      // R2 holds the body to the length it answers: the whole object, or the range resolved against its size.
      const served = range === undefined ? { start: 0, end: meta.size - 1 } : resolveRanges([range], meta.size)[0];
      return { kind: 'bytes', meta, body: served ? heldTo(object.body, byteLength(served)) : object.body };
    },
  };
}

/** R2 takes every precondition: a refusal still carries the object's metadata. */
const R2_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set([
  'ifMatch',
  'ifNoneMatch',
  'ifModifiedSince',
  'ifUnmodifiedSince',
]);

/** The conditions as the HTTP fields R2's `onlyIf` evaluates (Workers R2 API, R2GetOptions). */
function onlyIfHeaders(c: ReadConditions): Headers | undefined {
  const h = new Headers();
  if (c.ifMatch !== undefined) h.set('if-match', c.ifMatch);
  if (c.ifNoneMatch !== undefined) h.set('if-none-match', c.ifNoneMatch);
  if (c.ifModifiedSince !== undefined) h.set('if-modified-since', c.ifModifiedSince.toUTCString());
  if (c.ifUnmodifiedSince !== undefined) h.set('if-unmodified-since', c.ifUnmodifiedSince.toUTCString());
  return [...h.keys()].length > 0 ? h : undefined;
}

async function call<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (cause) {
    throw new StoreError('unavailable', `R2: ${String(cause)}`, { cause });
  }
}

function toMeta(object: R2ObjectLike): ObjectMeta {
  const m = object.httpMetadata ?? {};
  return {
    size: object.size,
    etag: object.httpEtag,
    lastModified: object.uploaded,
    http: sendableMetadata({
      contentType: m.contentType,
      cacheControl: m.cacheControl,
      contentDisposition: m.contentDisposition,
      contentEncoding: m.contentEncoding,
      contentLanguage: m.contentLanguage,
      expires: m.cacheExpiry,
    }, object.key),
  };
}

/**
 * An R2 body, which workerd holds to its length (Content-Length, and an
 * aborted transfer if the store sends more or less): when that is the
 * length promised, it goes to the Response as it is (lib/body.ts).
 */
function heldTo(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  return checksOwnLength(body, (promised) => (promised === length ? body : undefined));
}
