/**
 * Closed-loop load with wrk (Debian's `wrk`, C and LuaJIT): at 16
 * connections it costs a small fraction of the CPU of a Node load client
 * (autocannon spent 12–15 ms per MiB here), so the fastest targets — the
 * direct store, the TCP proxy — are not starved by their own load client on
 * two shared cores. The Range header of the i-th request comes from a list,
 * cycled; wrk's `done` hook prints exact counts as JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../test/support/processes.ts';

export interface WrkResult {
  readonly requests: number;
  /** Non-2xx/3xx answers, socket errors and timeouts. */
  readonly errors: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  /** Megabytes (10^6) per second, headers included (wrk counts all bytes read). */
  readonly mbPerSec: number;
  /** Bytes read per request, headers included. */
  readonly bytesPerRequest: number;
  readonly p50: number;
  readonly p99: number;
}

/** Lua: each connection's requests cycle through `ranges`; `done` prints the figures as one JSON line. */
function script(ranges: readonly string[]): string {
  return `
local ranges = { ${ranges.map((r) => JSON.stringify(r)).join(', ')} }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", nil, { ["Range"] = ranges[(i % #ranges) + 1] })
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"bytes":%d,"us":%d,"status":%d,"socket":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

/**
 * `connections` connections on one wrk thread for `seconds` against `url`,
 * each request with the next of `ranges` as its Range header. Fails loudly
 * when wrk is missing (infra/local/deps.sh installs it).
 */
export async function wrk(url: string, connections: number, seconds: number, ranges: readonly string[]): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-ranges-wrk-'));
  try {
    const lua = join(dir, 'ranges.lua');
    writeFileSync(lua, script(ranges));
    // wrk takes whole seconds.
    const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '30s', '-s', lua, url];
    const out = await run('wrk', args);
    const line = /^WRK (\{.*\})$/m.exec(out.stdout)?.[1];
    if (out.code !== 0 || line === undefined) throw new Error(`wrk ${args.join(' ')} failed (${out.code}):\n${out.stdout}${out.stderr}`);
    const r = JSON.parse(line) as { requests: number; bytes: number; us: number; status: number; socket: number; p50: number; p99: number };
    const seconds_ = r.us / 1e6;
    return {
      requests: r.requests,
      errors: r.status + r.socket,
      seconds: seconds_,
      reqPerSec: r.requests / seconds_,
      mbPerSec: r.bytes / seconds_ / 1e6,
      bytesPerRequest: r.requests ? r.bytes / r.requests : NaN,
      p50: r.p50 / 1000,
      p99: r.p99 / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
