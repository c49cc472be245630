/** Wraps a real store to count what a request asked of it. Runtime-neutral. */
import type { ObjectStore, Span } from '../../lib/store/types.ts';

export interface CountingStore extends ObjectStore {
  readonly gets: Array<Span | undefined>;
}

export function counting(store: ObjectStore): CountingStore {
  const gets: Array<Span | undefined> = [];
  return {
    gets,
    head: (key) => store.head(key),
    get: (key, etag, span) => {
      gets.push(span);
      return store.get(key, etag, span);
    },
  };
}
