/**
 * ObjectStore over a Cloudflare R2 bucket binding.
 *
 * R2 evaluates neither If-Range nor multi-range (a multi-range header gets
 * the whole object, silently), so we only ever ask it for one span, with
 * the ETag as an If-Match guard.
 */
import type { RangeSpec } from '../range/parse.ts';
import { StoreError, type ObjectMeta, type ObjectStore, type Span } from './types.ts';

/** The part of the `R2Bucket` binding this adapter uses (workers-types has the full one). */
export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options: { onlyIf?: Headers; range?: R2RangeLike }): Promise<R2ObjectLike | null>;
}

type R2RangeLike = { offset: number; length?: number } | { suffix: number };

interface R2ObjectLike {
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
  /** The range a ranged get answered. */
  readonly range?: { offset?: number; length?: number } | { suffix: number };
}

export function r2Store(bucket: R2BucketLike): ObjectStore {
  return {
    async head(key) {
      const object = await call(() => bucket.head(key));
      return object === null ? null : toMeta(object);
    },

    async get(key, etag, span?: Span) {
      const options = {
        onlyIf: new Headers({ 'if-match': etag }),
        // A zero-length span cannot be expressed to R2; the whole (empty) object is the same bytes.
        ...(span && span.length > 0 ? { range: { offset: span.offset, length: span.length } } : {}),
      };
      const object = await call(() => bucket.get(key, options));
      if (object === null) throw new StoreError('not-found', `R2: no object ${key}`);
      // A failed onlyIf returns the object without a body (not null).
      if (object.body === undefined) throw new StoreError('changed', `R2: ${key} is no longer ${etag}`);
      return object.body;
    },

    async read(key, range: RangeSpec | undefined) {
      const r2Range: R2RangeLike | undefined =
        range === undefined
          ? undefined
          : 'suffix' in range
            ? { suffix: range.suffix }
            : range.last === Infinity
              ? { offset: range.first }
              : { offset: range.first, length: range.last - range.first + 1 };
      let object;
      try {
        object = await bucket.get(key, r2Range ? { range: r2Range } : {});
      } catch (cause) {
        // R2 refuses some ranges (past the end: error 10039; any range of an
        // empty object, locally) with errors we cannot tell from others:
        // the long way (metadata, then a planned read) decides.
        if (r2Range) return 'unsatisfiable';
        throw new StoreError('unavailable', `R2: ${String(cause)}`, { cause });
      }
      if (object === null) return null;
      if (object.body === undefined) throw new StoreError('unavailable', `R2: GET ${key} returned no body`);
      return { meta: toMeta(object), body: object.body, range: served(object.range, object.size) };
    },
  };
}

/** The inclusive byte range R2 says it served, clamped to the object. */
function served(range: R2ObjectLike['range'], size: number): { start: number; end: number } | undefined {
  if (range === undefined) return undefined;
  if ('suffix' in range) return { start: Math.max(0, size - range.suffix), end: size - 1 };
  const start = range.offset ?? 0;
  return { start, end: range.length === undefined ? size - 1 : Math.min(size - 1, start + range.length - 1) };
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
    http: {
      contentType: m.contentType,
      cacheControl: m.cacheControl,
      contentDisposition: m.contentDisposition,
      contentEncoding: m.contentEncoding,
      contentLanguage: m.contentLanguage,
      expires: m.cacheExpiry,
    },
  };
}
