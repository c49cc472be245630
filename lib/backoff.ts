/**
 * Exponential backoff with full jitter, the one pacing rule for every retry
 * here: the store wrapper's (lib/store/resilient.ts, StoreRetryPolicy) and the
 * download client's (lib/client/retry.ts, DownloadRetryPolicy). "Full
 * jitter" is AWS's name for it (Architecture Blog, "Exponential Backoff And
 * Jitter", 2015): callers that failed together do not come back together.
 */

/** How long to wait between tries, in milliseconds. */
export interface Backoff {
  /** The upper bound of the wait after the first failure; it doubles per failure after that. */
  readonly baseMs: number;
  /** No wait longer than this. */
  readonly maxMs: number;
}

/**
 * The wait after the `failures`-th failure in a row, in whole milliseconds:
 * uniformly random in [0, min(maxMs, baseMs·2^(failures-1))]; 0 when
 * `failures` <= 0. `random` returns a number in [0, 1) (Math.random by default).
 */
export function backoffMs(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (failures - 1));
  return Math.round(random() * cap);
}

/** Resolves after `ms`; with a `signal`, rejects with its reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
