/**
 * Bounded retries and timeouts around any ObjectStore, with per-request
 * counts for the log line. Only calls retry: a call is the wait for an
 * answer (metadata, or a body's first byte), so nothing has been sent to the
 * client from it yet. A body that breaks mid-stream is not retried: the
 * response stream errors instead.
 */
import type { CacheStats } from '../cache/types.ts';
import { backoffMs, sleep, type Backoff } from '../backoff.ts';
import { StoreError, type ObjectStore, type ReadAsk, type Span, type StoreErrorKind } from './types.ts';

/** The store's retry policy: Backoff (lib/backoff.ts) plus its budget and timeout. */
export interface StoreRetryPolicy extends Backoff {
  /** Tries per call, the first included. */
  readonly attempts: number;
  /** A call that has not answered after this long is abandoned (and retried). */
  readonly timeoutMs: number;
  /** No retry starts once this much time has gone on one call. */
  readonly budgetMs: number;
}

/** 3 tries; waits up to 100 ms then 200 ms; 10 s per call, no retry after 15 s. */
export const DEFAULT_STORE_RETRY: StoreRetryPolicy = {
  attempts: 3,
  baseMs: 100,
  maxMs: 1000,
  timeoutMs: 10_000,
  budgetMs: 15_000,
};

/** What one request asked of the store. */
export interface UpstreamStats {
  heads: number;
  gets: number;
  retries: number;
  /** Time spent waiting for the store's answers (not for bodies). */
  waitMs: number;
  /** Bytes the request's store GETs ask for, counted by the edge cache when it plans them (0 without it). */
  bytesRead: number;
  /** What the edge cache did; absent when it is off. */
  cache?: CacheStats;
}

export const newUpstreamStats = (): UpstreamStats => ({ heads: 0, gets: 0, retries: 0, waitMs: 0, bytesRead: 0 });

const RETRYABLE: ReadonlySet<StoreErrorKind> = new Set(['unavailable', 'overloaded', 'timeout']);

/**
 * `store`, with every call bounded and retried: each try is abandoned after
 * `policy.timeoutMs` (its signal fires; a late answer's body is cancelled)
 * as StoreError `timeout`; kinds `unavailable`, `overloaded` and `timeout`
 * are retried up to `policy.attempts` tries in all, after a backoff
 * (lib/backoff.ts, full jitter: up to `baseMs`·2^(n-1) ms, at most `maxMs`),
 * and no retry starts once `policy.budgetMs` have gone on the call. Other
 * kinds (`not-found`, `changed`) and non-StoreErrors pass through at once.
 * Counts heads, gets, retries and the time waited (ms) into `stats`.
 * Defaults: DEFAULT_STORE_RETRY.
 */
export function resilient(store: ObjectStore, policy: StoreRetryPolicy, stats: UpstreamStats): ObjectStore {
  async function call<T>(op: (signal: AbortSignal) => Promise<T>, discard: (value: T) => void): Promise<T> {
    const started = Date.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await withTimeout(op, policy.timeoutMs, discard);
        } catch (err) {
          const spent = Date.now() - started;
          if (!(err instanceof StoreError) || !RETRYABLE.has(err.kind)) throw err;
          if (attempt >= policy.attempts || spent >= policy.budgetMs) throw err;
          // A store that says when to come back (Retry-After) is not asked
          // sooner; if that is past the budget, there is no point waiting.
          const asked = err.retryAfterMs ?? 0;
          if (asked > policy.budgetMs - spent) throw err;
          await sleep(Math.min(Math.max(asked, backoffMs(attempt, policy)), policy.budgetMs - spent));
          stats.retries++;
        }
      }
    } finally {
      stats.waitMs += Date.now() - started;
    }
  }

  const { read, readConditions } = store;
  return {
    ...(read && {
      readConditions,
      read(key: string, ask: ReadAsk) {
        return call(
          (signal) => (stats.gets++, read.call(store, key, ask, signal)),
          (answer) => void (answer.kind === 'bytes' && answer.body.cancel().catch(() => {})),
        );
      },
    }),
    head(key) {
      return call(
        (signal) => (stats.heads++, store.head(key, signal)),
        () => {},
      );
    },
    get(key, version, span?: Span) {
      return call(
        (signal) => (stats.gets++, store.get(key, version, span, signal)),
        (body) => void body.cancel().catch(() => {}),
      );
    },
  };
}

/**
 * Runs `op`, abandoning it after `ms`: its signal fires, and should it
 * answer anyway, `discard` releases what it returned (an open body).
 */
function withTimeout<T>(op: (signal: AbortSignal) => Promise<T>, ms: number, discard: (value: T) => void): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      reject(new StoreError('timeout', `no answer from the store within ${ms} ms`));
    }, ms);
    op(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) discard(value);
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(err);
      },
    );
  });
}
