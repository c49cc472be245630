/**
 * Slices in memory, least recently used evicted first, within a byte budget
 * (lru-cache's `maxSize`): the slice cache of the Node entry and the
 * streaming Lambda (one per process or container).
 */
import { LRUCache } from 'lru-cache';
import { MetadataCache } from './metadata.ts';
import type { ObjectCache } from './store.ts';
import { sliceKey, type CacheSettings, type SliceCache } from './types.ts';

/** The edge cache of a Node process or a Lambda container: slices and metadata in memory. */
export function memoryCache(settings: CacheSettings): ObjectCache {
  return {
    slices: memorySlices(settings.maxBytes),
    metadata: new MetadataCache(settings.metadataTtl),
    sliceSize: settings.sliceSize,
  };
}

/** @param maxBytes the budget: slices held add up to at most this many bytes. */
export function memorySlices(maxBytes: number): SliceCache & { readonly bytes: () => number } {
  const slices = new LRUCache<string, Uint8Array>({
    maxSize: maxBytes,
    sizeCalculation: (bytes) => Math.max(1, bytes.length),
  });
  return {
    async match(id) {
      const bytes = slices.get(sliceKey(id));
      return bytes && { length: bytes.length, read: async () => bytes };
    },
    async put(id, bytes) {
      // A slice larger than the budget is refused by lru-cache (no throw, nothing stored).
      if (bytes.length <= maxBytes) slices.set(sliceKey(id), bytes);
    },
    async delete(id) {
      slices.delete(sliceKey(id));
    },
    bytes: () => slices.calculatedSize,
  };
}
