/**
 * The metadata cache: an object's metadata (size, ETag, HTTP fields) kept
 * for METADATA_TTL seconds, in memory (per process on Node, per isolate on
 * Workers, per container on Lambda). Within the TTL a lookup costs no store
 * call; the ETag it returns may be up to TTL old, which the slice keys and
 * the If-Match guard on every store GET keep consistent (README, "Caching
 * ranges"). Past the TTL an entry is kept, stale, until evicted: it tells
 * the decorator that slices of that version are probably cached.
 */
import { LRUCache } from 'lru-cache';
import type { ObjectMeta, ObjectStore } from '../store/types.ts';

export class MetadataCache {
  private readonly entries: LRUCache<string, ObjectMeta> | undefined;

  /**
   * @param ttlSeconds how long an entry answers without a store call; 0 turns the cache off.
   * @param maxEntries objects remembered at most (least recently used go first).
   * @param now the clock in milliseconds (tests move it; default `Date.now`, which on Workers moves with I/O).
   */
  constructor(
    readonly ttlSeconds: number,
    { maxEntries = 10_000, now }: { maxEntries?: number; now?: () => number } = {},
  ) {
    if (!(ttlSeconds >= 0)) throw new RangeError(`metadata TTL must be >= 0 seconds, got ${ttlSeconds}`);
    this.entries =
      ttlSeconds > 0
        ? new LRUCache<string, ObjectMeta>({
            max: maxEntries,
            ttl: ttlSeconds * 1000,
            noDeleteOnStaleGet: true,
            perf: { now: now ?? Date.now },
            // Read the clock on every lookup. lru-cache otherwise keeps one
            // reading until a 1 ms setTimeout clears it, and in workerd a timer
            // set by a request that has ended never fires: the isolate's clock
            // stood still and nothing ever went stale (an overwritten object
            // was served old for the isolate's life).
            ttlResolution: 0,
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  /** The metadata stored less than TTL ago, or undefined. */
  fresh(key: string): ObjectMeta | undefined {
    return this.entries?.get(key);
  }

  /** The metadata last stored for `key`, however old. */
  last(key: string): ObjectMeta | undefined {
    return this.entries?.peek(key, { allowStale: true });
  }

  set(key: string, meta: ObjectMeta): void {
    this.entries?.set(key, meta);
  }

  /** Forgets `key` (its version was replaced or deleted). */
  drop(key: string): void {
    this.entries?.delete(key);
  }
}

/**
 * The object's metadata through the cache: within the TTL no store call
 * (`onHit` is told), otherwise `store.head`, whose answer is remembered (a
 * missing object is forgotten, never remembered as missing).
 */
export async function cachedHead(
  metadata: MetadataCache,
  store: Pick<ObjectStore, 'head'>,
  key: string,
  onHit: () => void = () => {},
): Promise<ObjectMeta | null> {
  const cached = metadata.fresh(key);
  if (cached) {
    onHit();
    return cached;
  }
  const meta = await store.head(key);
  if (meta) metadata.set(key, meta);
  else metadata.drop(key);
  return meta;
}
