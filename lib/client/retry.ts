/**
 * The download client's one retry loop, used by the probe, the single
 * stream and every segment: each try gets its own AbortController and a
 * StallGuard; a failure worth another try backs off (lib/backoff.ts) and
 * counts against the budget only when the try made no progress.
 */
import { backoffMs, sleep, type Backoff } from '../backoff.ts';
import type { ByteRange } from '../range/byte-range.ts';
import { DownloadError, ObjectChanged } from './errors.ts';
import { StallGuard } from './stall.ts';

/** Backoff (lib/backoff.ts) plus the client's budget. */
export interface DownloadRetryPolicy extends Backoff {
  /** Tries in a row without progress before a request (probe, stream or segment) gives up. */
  readonly attempts: number;
}

/** 6 tries without progress; waits up to 250 ms, 500 ms, 1 s, … capped at 8 s. */
export const DEFAULT_DOWNLOAD_RETRY: DownloadRetryPolicy = { attempts: 6, baseMs: 250, maxMs: 8000 };

/**
 * A try that ended without its result in a way worth another try (a body
 * that ended short, an answer judged `retry`); its message is the reason
 * reported.
 */
export class TryAgain extends Error {
  override readonly name = 'TryAgain';
}

/** What one try is given. */
export interface Try {
  /** Aborts on the loop's signal, on a stall, or through `control`. */
  readonly signal: AbortSignal;
  /** This try's own abort: aborted by a stall and after a failed try, left alone after a successful one. */
  readonly control: AbortController;
  /** Kick it as bytes arrive. */
  readonly guard: StallGuard;
}

export interface RetryLoop {
  readonly policy: DownloadRetryPolicy;
  /** A try that moves no byte for this long is aborted (and retried), in ms. */
  readonly stallMs: number;
  /** The caller's stop: once aborted, the loop ends with the try's error. */
  readonly signal: AbortSignal;
  /** Names what is being fetched in the final error: a URL or `bytes a-b`. */
  readonly subject: () => string;
  /** The byte range a `retry` event names. */
  readonly range: () => ByteRange;
  /**
   * How far the work has got (bytes written, or the next position). A failed
   * try that moved it past every earlier try resets the count and is tried
   * again at once; without it, every failure counts.
   */
  readonly progress?: () => number;
  readonly onRetry?: (range: ByteRange, reason: string, waitMs: number) => void;
}

/**
 * Runs `tryOnce` until it returns, retrying what is worth it: network
 * errors, stalls, TryAgain, and DownloadErrors with a transient status
 * (408, 429, 5xx). ObjectChanged, other DownloadErrors and any error after
 * `loop.signal` aborted end the loop at once. After `policy.attempts` tries
 * in a row without progress it throws DownloadError('network').
 */
export async function withRetries<T>(loop: RetryLoop, tryOnce: (t: Try) => Promise<T>): Promise<T> {
  let failures = 0;
  let best = loop.progress?.() ?? 0;
  for (;;) {
    const control = new AbortController();
    const guard = new StallGuard(loop.stallMs, control);
    let problem: string;
    try {
      return await tryOnce({ signal: AbortSignal.any([loop.signal, control.signal]), control, guard });
    } catch (err) {
      control.abort(); // a failed try's connection is of no more use
      if (loop.signal.aborted || !worthRetrying(err)) throw err;
      problem = messageOf(err);
    } finally {
      guard.stop();
    }
    const now = loop.progress?.() ?? 0;
    failures = now > best ? 0 : failures + 1;
    best = Math.max(best, now);
    if (failures === 0) continue; // cut after progress: go on at once
    if (failures >= loop.policy.attempts) {
      throw new DownloadError('network', `${loop.subject()}: ${problem} (${failures} tries without progress)`);
    }
    const waitMs = backoffMs(failures, loop.policy);
    loop.onRetry?.(loop.range(), problem, waitMs);
    await sleep(waitMs, loop.signal);
  }
}

/** Statuses that say "try later" (RFC 9110 §15.5.9 408, RFC 6585 §4 429, §15.6 5xx). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function worthRetrying(err: unknown): boolean {
  if (err instanceof ObjectChanged) return false;
  if (err instanceof DownloadError) return err.status !== undefined && isTransientStatus(err.status);
  return true;
}

/** An error's message; undici puts the socket error in `cause`, and "fetch failed" alone says nothing. */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
