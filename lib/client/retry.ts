/** The download client's retry policy: how often and how fast a request is tried again. */
import type { Backoff } from '../backoff.ts';

/** Backoff (lib/backoff.ts) plus the client's budget. */
export interface DownloadRetryPolicy extends Backoff {
  /** Attempts in a row without progress before a segment (or the probe) gives up. */
  readonly attempts: number;
}

/** 6 tries without progress; waits up to 250 ms, 500 ms, 1 s, … capped at 8 s. */
export const DEFAULT_DOWNLOAD_RETRY: DownloadRetryPolicy = { attempts: 6, baseMs: 250, maxMs: 8000 };
