/**
 * edge-ranges: byte-range delivery from object storage as a Hono app or middleware.
 * Stores are separate entry points (`edge-ranges/r2`, `edge-ranges/s3`,
 * `edge-ranges/http`), so an app over R2 never loads the AWS SDK.
 */
export { createApp, edgeRanges, corsFor, type AppOptions, type EdgeRangesOptions } from './app.ts';
// The edge cache (README, "Caching ranges"): pass one as `cache` to createApp or edgeRanges.
export { memoryCache } from './cache/memory.ts';
export { workersCache } from './cache/workers.ts';
export { MetadataCache } from './cache/metadata.ts';
export type { ObjectCache } from './cache/store.ts';
export type { CacheSettings, SliceCache } from './cache/types.ts';
