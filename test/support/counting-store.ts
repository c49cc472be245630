/** Wraps a real store to count what a request asked of it. Runtime-neutral. */
import type { ObjectStore, Span } from '../../lib/store/types.ts';

export interface CountingStore extends ObjectStore {
  /** The span of every `get`, in order (undefined: the whole object). */
  readonly gets: Array<Span | undefined>;
  /** Every call, in order. */
  readonly calls: Array<'head' | 'get' | 'read'>;
}

/** The same store, its one-call `read` and the conditions it takes included. */
export function counting(store: ObjectStore): CountingStore {
  const gets: Array<Span | undefined> = [];
  const calls: CountingStore['calls'] = [];
  const { read, readConditions } = store;
  return {
    gets,
    calls,
    head: (key, signal) => {
      calls.push('head');
      return store.head(key, signal);
    },
    get: (key, version, span, signal) => {
      calls.push('get');
      gets.push(span);
      return store.get(key, version, span, signal);
    },
    ...(read && {
      readConditions,
      read: (key, ask, signal) => {
        calls.push('read');
        return read.call(store, key, ask, signal);
      },
    }),
  };
}
