/** The one backoff rule (lib/backoff.ts) and the two policies that use it. */
import { describe, expect, it } from 'vitest';
import { backoffMs, sleep } from '../../lib/backoff.ts';
import { DEFAULT_DOWNLOAD_RETRY } from '../../lib/client/retry.ts';
import { DEFAULT_STORE_RETRY } from '../../lib/store/resilient.ts';

describe('backoffMs: full jitter under a doubling cap', () => {
  it('full jitter under a doubling cap, bounded by maxMs', () => {
    const policy = { attempts: 5, baseMs: 100, maxMs: 1000 };
    expect(backoffMs(0, policy, () => 1)).toBe(0);
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffMs(f, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
  });

  // The upper bound of each wait, failure 1 to 6: what README states for each policy.
  it.for<[string, typeof DEFAULT_STORE_RETRY | typeof DEFAULT_DOWNLOAD_RETRY, number[]]>([
    ['store (resilient.ts)', DEFAULT_STORE_RETRY, [100, 200, 400, 800, 1000, 1000]],
    ['download client (client/retry.ts)', DEFAULT_DOWNLOAD_RETRY, [250, 500, 1000, 2000, 4000, 8000]],
  ])('%s policy caps', ([, policy, caps]) => {
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffMs(f, policy, () => 1))).toEqual(caps);
  });
});

describe('sleep', () => {
  it('resolves after the wait, rejects with the reason on abort', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(sleep(1, controller.signal)).rejects.toThrow('stop');
  });
});
