/**
 * The object store as the handler sees it: a metadata lookup and a ranged,
 * If-Match-guarded streaming read. Adapters translate, they never decide a
 * status code; their failures are `StoreError`s for the handler to map.
 */
import type { RangeSpec } from '../range/parse.ts';
import type { ByteRange } from '../range/byte-range.ts';

/** What the store knows of an object. */
export interface ObjectMeta {
  readonly size: number;
  /** Strong entity-tag, quoted, as sent in `ETag`. */
  readonly etag: string;
  readonly lastModified?: Date | undefined;
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

/** What a one-GET read returns: metadata and bytes of the same version. */
export interface Read {
  readonly meta: ObjectMeta;
  readonly body: ReadableStream<Uint8Array>;
  /** The range the store served, or undefined for the whole object. */
  readonly range: ByteRange | undefined;
}

/** A span of the object: `length` bytes from `offset`. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

export interface ObjectStore {
  /** The object's metadata, or null when there is no such object. */
  head(key: string, signal?: AbortSignal): Promise<ObjectMeta | null>;
  /**
   * Streams `span` of the object (the whole object when absent), only if its
   * current ETag is still `etag`; otherwise rejects with kind `changed`.
   * `signal` abandons the call (adapters that cannot abort may ignore it).
   */
  get(key: string, etag: string, span?: Span, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /**
   * Optional: one unguarded GET that answers metadata and bytes at once —
   * `range` as the client wrote it (`a-b`, `a-`, `-n`), resolved by the
   * store, or the whole object. null when there
   * is no such object; 'unsatisfiable' when the store refused the range.
   * Saves the metadata round trip of plain (unconditional) requests.
   */
  read?(key: string, range: RangeSpec | undefined, signal?: AbortSignal): Promise<Read | null | 'unsatisfiable'>;
}

export type StoreErrorKind =
  /** The object is gone. */
  | 'not-found'
  /** The object is no longer the version the response announced (If-Match failed). */
  | 'changed'
  /** The store failed, refused us, or could not be reached. */
  | 'unavailable'
  /** The store asked us to slow down (503 SlowDown). */
  | 'overloaded'
  /** The store did not answer in time. */
  | 'timeout';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
