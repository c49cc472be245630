/** Retry pacing for the download client: exponential backoff with full jitter. */

export interface RetryPolicy {
  /** Attempts in a row without progress before a segment gives up. */
  readonly attempts: number;
  /** The first backoff's upper bound; it doubles per failure. */
  readonly baseMs: number;
  /** No backoff longer than this. */
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 250, maxMs: 8000 };

/**
 * The wait after the `failures`-th failure in a row: uniformly random in
 * [0, min(maxMs, baseMs·2^(failures-1))] ("full jitter"), so connections that
 * failed together do not come back together.
 */
export function backoffMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (failures - 1));
  return Math.round(random() * cap);
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
