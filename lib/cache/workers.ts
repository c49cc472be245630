/**
 * Slices in the Workers Cache API (Cloudflare docs, runtime-apis/cache):
 * per data center, not global. `put` refuses a 206, so a slice is stored as
 * a 200 with an explicit `Cache-Control: max-age`; on `*.workers.dev` and in
 * the dashboard preview every operation does nothing, which the decorator
 * treats as an empty cache.
 */
import { MetadataCache } from './metadata.ts';
import type { ObjectCache } from './store.ts';
import { versionText, type CacheSettings, type SliceCache, type SliceId } from './types.ts';

/**
 * The edge cache of a Worker: slices in the Cache API (`caches.open`, per
 * data center), metadata in the isolate's memory.
 */
export function workersCache(settings: CacheSettings, storage: CacheStorage = caches): ObjectCache {
  return {
    slices: cacheApiSlices(storage.open(SLICE_CACHE_NAME)),
    metadata: new MetadataCache(settings.metadataTtl),
    sliceSize: settings.sliceSize,
    callsPerRequest: CACHE_API_CALLS_PER_REQUEST,
  };
}

/**
 * Cache API calls one request makes at most (lookups and stores of slices):
 * Workers limit what one invocation may call (50 subrequests on the free
 * plan), and R2 or S3 GETs need their share.
 */
export const CACHE_API_CALLS_PER_REQUEST = 40;

/**
 * How long a slice may stay: slices are keyed by ETag and never go stale,
 * so this only bounds how long a replaced version's slices take space.
 */
export const SLICE_MAX_AGE_SECONDS = 86_400;

/** The part of the Cache API this adapter uses (workers-types has the full one). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
}

/**
 * @param cache the cache, or the promise of one (`caches.open(name)` is
 * asynchronous, the app is built synchronously).
 */
export function cacheApiSlices(opened: CacheLike | Promise<CacheLike>): SliceCache {
  return {
    async match(id) {
      const cache = await opened;
      const res = await cache.match(sliceUrl(id));
      if (!res) return undefined;
      const length = Number(res.headers.get('content-length') ?? NaN);
      if (res.status !== 200 || !Number.isSafeInteger(length)) {
        await res.body?.cancel().catch(() => {});
        return undefined;
      }
      return { length, read: async () => new Uint8Array(await res.arrayBuffer()) };
    },
    async put(id, bytes) {
      const cache = await opened;
      await cache.put(
        sliceUrl(id),
        // Fresh bytes of a slice (never a view into a shared buffer): the cast only widens the buffer type.
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          status: 200,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(bytes.length),
            'cache-control': `public, max-age=${SLICE_MAX_AGE_SECONDS}`,
          },
        }),
      );
    },
    async delete(id) {
      await (await opened).delete(sliceUrl(id));
    },
  };
}

/** The cache name the Workers entry opens (apart from the zone's default cache). */
export const SLICE_CACHE_NAME = 'edge-ranges-slices';

/** A GET URL naming the slice; the host is reserved (RFC 2606), so it never meets a real one. */
export function sliceUrl(id: SliceId): string {
  const e = encodeURIComponent;
  return `https://slices.edge-ranges.invalid/${id.sliceSize}/${id.index}/${id.size}/${e(versionText(id))}/${e(id.key)}`;
}
