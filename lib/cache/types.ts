/**
 * The edge cache's parts, runtime-neutral: a slice cache (adapters in
 * memory.ts and workers.ts) and what one request counts of it. The
 * decorator that serves ranges from slices is store.ts.
 */
import { parseETag } from '../conditional.ts';
import type { Version } from '../store/types.ts';

/** One slice of one version of an object: the cache key names all of it, so versions never mix. */
export interface SliceId {
  /** The store key (KEY_PREFIX included). */
  readonly key: string;
  /** The version's ETag as the store announced it, quoted: strong, or weak (`W/"…"`, an HTTP origin's). */
  readonly etag: string;
  /** The object's length in bytes (a second guard beside the ETag). */
  readonly size: number;
  /**
   * With a weak ETag only: the version's Last-Modified, in seconds since the
   * epoch. A weak tag does not vouch for the bytes (RFC 9110 §8.8.1), and the
   * HTTP store guards such a version by this date (If-Unmodified-Since), so
   * the slice key names what the guard names. Absent for a strong ETag.
   */
  readonly lastModified?: number | undefined;
  /** Bytes per slice; slice `index` covers [index × sliceSize, min((index + 1) × sliceSize, size)). */
  readonly sliceSize: number;
  readonly index: number;
}

/** A slice found in the cache: its stated length, and its bytes when read. */
export interface CachedSlice {
  /** Length in bytes as the cache states it (checked before any byte is served). */
  readonly length: number;
  /** The bytes, at most one slice in memory; rejects if the cache cannot deliver them. */
  read(): Promise<Uint8Array>;
}

/**
 * Where slices live. Every operation may fail or do nothing (the Workers
 * Cache API on `*.workers.dev` does nothing): the decorator then reads from
 * the store, so an empty cache only costs store calls, never correctness.
 */
export interface SliceCache {
  match(id: SliceId): Promise<CachedSlice | undefined>;
  /** Stores a complete slice; `bytes` is not written to afterwards. */
  put(id: SliceId, bytes: Uint8Array): Promise<void>;
  delete(id: SliceId): Promise<void>;
}

/** What the cache did for one request (the log line and Server-Timing). */
export interface CacheStats {
  /** Slices served from the cache. */
  hits: number;
  /** Slices read from the store (and stored on their way to the client). */
  misses: number;
  /** Metadata lookups answered by the metadata cache (no store call). */
  metadataHits: number;
  /** Store GETs planned for missing slices and not opened yet when the response started. */
  getsAhead: number;
}

export const newCacheStats = (): CacheStats => ({ hits: 0, misses: 0, metadataHits: 0, getsAhead: 0 });

/** The cache's settings as configured (CACHE, SLICE_SIZE, METADATA_TTL, CACHE_MAX_BYTES). */
export interface CacheSettings {
  /** Bytes per slice. */
  readonly sliceSize: number;
  /** Seconds the metadata of an object is used without asking the store; 0: always ask. */
  readonly metadataTtl: number;
  /** The in-memory slice cache's byte budget (Node, the streaming Lambda; unused on Workers). */
  readonly maxBytes: number;
}

/** The default slice size: 1 MiB, nginx's `slice 1m` (see README, "Caching ranges"). */
export const DEFAULT_SLICE_SIZE = 1024 * 1024;

/** The default METADATA_TTL in seconds (see README, "Caching ranges"). */
export const DEFAULT_METADATA_TTL = 10;

/** The default byte budget of the in-memory slice cache (Node, the streaming Lambda). */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * The part of a slice id naming `version`: its ETag and size, and for a weak
 * ETag its Last-Modified (see SliceId.lastModified).
 */
export function sliceVersion(version: Version): Pick<SliceId, 'etag' | 'size' | 'lastModified'> {
  const weak = parseETag(version.etag)?.weak ?? true;
  const lastModified = weak && version.lastModified ? Math.floor(version.lastModified.getTime() / 1000) : undefined;
  return { etag: version.etag, size: version.size, lastModified };
}

/** Whether two versions name the same slices (the same sliceVersion). */
export function sameVersion(a: Version, b: Version): boolean {
  const x = sliceVersion(a);
  const y = sliceVersion(b);
  return x.etag === y.etag && x.size === y.size && x.lastModified === y.lastModified;
}

/**
 * The version part of a slice id as text: the ETag, then `@` and the
 * Last-Modified seconds when it is weak. An ETag ends with its closing
 * quote, so what follows it cannot be forged.
 */
export function versionText(id: SliceId): string {
  return id.lastModified === undefined ? id.etag : `${id.etag}@${id.lastModified}`;
}

/** The one text form of a slice id, for in-memory keys; the key comes last, so no delimiter can be forged. */
export function sliceKey(id: SliceId): string {
  return `${id.sliceSize}/${id.index}/${id.size}/${versionText(id)}/${id.key}`;
}
