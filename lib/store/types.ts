/**
 * The object store as the handler sees it: a metadata lookup, a ranged,
 * If-Match-guarded streaming read, and optionally one call that answers
 * both (the request's preconditions evaluated at the store). Adapters
 * translate, they never decide a status code; their failures are
 * `StoreError`s for the handler to map.
 */
import type { RangeSpec } from '../range/parse.ts';

/**
 * One version of an object, as `head` or `read` reported it: what a guarded
 * `get` must find again.
 */
export interface Version {
  /** Bytes in the object. */
  readonly size: number;
  /**
   * The entity-tag as sent in `ETag` (RFC 9110 §8.8.3), quoted: strong
   * (`"…"`) when the store vouches for byte-for-byte identity (R2, S3, an
   * HTTP origin with a strong ETag), weak (`W/"…"`) otherwise. A weak tag
   * never satisfies If-Match or If-Range (strong comparison, §8.8.3.2).
   */
  readonly etag: string;
  readonly lastModified?: Date | undefined;
}

/** What the store knows of an object. */
export interface ObjectMeta extends Version {
  /** Stored HTTP metadata, sent with the object as they are. */
  readonly http: HttpMetadata;
}

export interface HttpMetadata {
  readonly contentType?: string | undefined;
  readonly cacheControl?: string | undefined;
  readonly contentDisposition?: string | undefined;
  readonly contentEncoding?: string | undefined;
  readonly contentLanguage?: string | undefined;
  readonly expires?: Date | undefined;
}

/**
 * Preconditions a store may evaluate in the same GET as the bytes (RFC 9110
 * §13.1), each in one normal form. The handler evaluates every precondition
 * again on the metadata the answer carries (§13.2.2's order is the
 * handler's, not the store's); the store's evaluation saves the bytes.
 */
export interface ReadConditions {
  /** If-Match with one strong entity-tag, quoted (§13.1.1). */
  readonly ifMatch?: string | undefined;
  /** If-None-Match with one entity-tag, quoted; compared weakly (§13.1.2). */
  readonly ifNoneMatch?: string | undefined;
  /** If-Modified-Since (§13.1.3); HTTP-dates have whole seconds. */
  readonly ifModifiedSince?: Date | undefined;
  /** If-Unmodified-Since (§13.1.4). */
  readonly ifUnmodifiedSince?: Date | undefined;
}

/** What a one-call read asks for. */
export interface ReadAsk {
  /** One range as the client wrote it (`a-b`, `a-`, `-n`, never `-0`); absent for the whole object. */
  readonly range?: RangeSpec | undefined;
  /** Only fields named in the store's `readConditions`. */
  readonly conditions?: ReadConditions | undefined;
}

/** What a one-call read answers. */
export type ReadAnswer =
  /**
   * The object's metadata and exactly the asked bytes: the range resolved
   * against `meta.size` as §14.1.1 says (`resolveRanges`), or the whole object.
   */
  | { readonly kind: 'bytes'; readonly meta: ObjectMeta; readonly body: ReadableStream<Uint8Array> }
  /** A condition failed at the store: with the metadata when the store sends it (R2), without (S3's 412). */
  | { readonly kind: 'refused'; readonly meta: ObjectMeta | undefined }
  /** No such object. */
  | { readonly kind: 'missing' }
  /** The store refused the range (past the end; any range of an empty object). */
  | { readonly kind: 'unsatisfiable' };

/** A span of the object: `length` bytes from `offset`. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

export interface ObjectStore {
  /** The object's metadata, or null when there is no such object. */
  head(key: string, signal?: AbortSignal): Promise<ObjectMeta | null>;
  /**
   * Streams `span` of the object (the whole object when absent), only if it
   * is still `version` (its ETag, or for a store with only weak validators
   * its Last-Modified and size); otherwise rejects with kind `changed`.
   * `signal` abandons the call (adapters that cannot abort may ignore it).
   */
  get(key: string, version: Version, span?: Span, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /**
   * Optional: one GET that answers metadata and bytes of one version at once,
   * evaluating `ask.conditions` at the store. Saves the metadata round trip
   * of requests whose answer is the whole object or one range.
   */
  read?(key: string, ask: ReadAsk, signal?: AbortSignal): Promise<ReadAnswer>;
  /**
   * The conditions `read` takes (default: none). A store whose refusals
   * carry no metadata takes only §13.2.2's step-1 fields (If-Match,
   * If-Unmodified-Since): their failure is a 412 whatever else was asked.
   */
  readonly readConditions?: ReadonlySet<keyof ReadConditions>;
}

export type StoreErrorKind =
  /** The object is gone. */
  | 'not-found'
  /** The object is no longer the version the response announced (If-Match failed). */
  | 'changed'
  /** The store failed, refused us, or could not be reached. */
  | 'unavailable'
  /** The store asked us to slow down (503 SlowDown, an HTTP origin's 429 or 503). */
  | 'overloaded'
  /** The store did not answer in time. */
  | 'timeout';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** How long the store asked us to wait before trying again (its Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}
