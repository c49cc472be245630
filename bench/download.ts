/**
 * h. Segmented download (issue 8): a whole object from nginx with a
 * per-connection rate limit (`limit_rate`, as many CDNs and origins pace
 * each connection), fetched by `edge-ranges get -c 8`, by `aria2c -x8 -s8`
 * and by a single-connection curl. Each tool runs as a process, as a user
 * runs it, and is timed from start to exit; every file is compared with the
 * source before its figure counts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startNginx } from '../test/support/nginx.ts';
import { CLI, ROOT, run } from '../test/support/processes.ts';
import { percentile } from './http.ts';
import type { BenchObject } from './objects.ts';
import type { Results } from './scenarios.ts';

const MiB = 1024 * 1024;

/** The object of h: 128 MiB, so a start-up of a fraction of a second weighs little. */
export const DOWNLOAD: BenchObject = { key: 'download-128m.bin', size: 128 * MiB };

/** Per-connection limit: 8 connections may move 8× this. */
function settings(quick: boolean) {
  return quick ? { limitMiB: 8, runs: 1, curlSeconds: 3 } : { limitMiB: 2, runs: 3, curlSeconds: 8 };
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs a command, checks the file it wrote, and returns its wall time in seconds. */
async function timed(name: string, command: string, args: string[], file: string, expected: string): Promise<{ seconds: number; stdout: string }> {
  rmSync(file, { force: true });
  const started = performance.now();
  const r = await run(command, args);
  const seconds = (performance.now() - started) / 1000;
  if (r.code !== 0) throw new Error(`h: ${name} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
  if ((await sha256(file)) !== expected) throw new Error(`h: ${name} wrote a file that differs from the source`);
  return { seconds, stdout: r.stdout };
}

/** h: MB/s of `edge-ranges get -c 8`, aria2c -x8 -s8 and curl from a rate-limited nginx; check: ours ≥ 1× aria2c. */
export async function downloadClientSpeed(quick: boolean, dataDir: string, source: string, out: Results): Promise<void> {
  const { limitMiB, runs, curlSeconds } = settings(quick);
  const nginx = await startNginx(dataDir, { limitRate: `${limitMiB}m` });
  const dir = join(ROOT, '.local', 'bench', 'h');
  mkdirSync(dir, { recursive: true });
  try {
    const url = `${nginx.url}/${DOWNLOAD.key}`;
    const expected = await sha256(source);
    const file = join(dir, 'out.bin');
    const ours: number[] = [];
    const inside: number[] = [];
    const aria: number[] = [];
    // The CLI is compiled JavaScript (npm run build), as users run it.
    const built = await run('npm', ['run', '-s', 'build']);
    if (built.code !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
    // Alternate the two, so drift in machine load hits both alike.
    for (let i = 0; i < runs; i++) {
      const r = await timed('edge-ranges get', process.execPath, [CLI, 'get', url, '-o', file, '-c', '8', '--json'], file, expected);
      ours.push(r.seconds);
      const done = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number };
      inside.push(done.seconds);
      const a = await timed('aria2c', 'aria2c', ['-x8', '-s8', '--min-split-size=1M', '--file-allocation=none', '--allow-overwrite=true', '--auto-file-renaming=false', '--summary-interval=0', '--console-log-level=warn', '-d', dir, '-o', 'out.bin', url], file, expected);
      aria.push(a.seconds);
    }
    // curl over one connection moves limit_rate at most: measured over a bounded time, not the whole file.
    const curl = await run('curl', ['-sS', '-o', '/dev/null', '--max-time', String(curlSeconds), '-w', '%{size_download} %{time_total}', url]);
    const [curlBytes, curlTime] = curl.stdout.trim().split(' ').map(Number) as [number, number];
    if (!(curlBytes > 0)) throw new Error(`h: curl moved nothing (${curl.code}: ${curl.stderr})`);

    const mbps = (seconds: number) => DOWNLOAD.size / 1e6 / seconds;
    const oursMBps = mbps(percentile(ours, 0.5));
    const ariaMBps = mbps(percentile(aria, 0.5));
    const curlMBps = curlBytes / 1e6 / curlTime;
    const limit = (8 * limitMiB * MiB) / 1e6;
    const metric = `MB/s (${DOWNLOAD.size / MiB} MiB, nginx limit_rate ${limitMiB}m per connection${runs > 1 ? `, median of ${runs}` : ''})`;
    out.rows.push({ scenario: 'h', target: 'edge-ranges get -c 8', metric, value: oursMBps, unit: 'MB/s', ratio: { value: oursMBps / ariaMBps, to: 'aria2c' } });
    out.rows.push({ scenario: 'h', target: 'aria2c -x8 -s8', metric, value: ariaMBps, unit: 'MB/s', ratio: { value: ariaMBps / limit, to: '8 × limit_rate' } });
    out.rows.push({ scenario: 'h', target: 'curl (one connection)', metric: `MB/s (over ${curlSeconds} s)`, value: curlMBps, unit: 'MB/s', ratio: { value: curlMBps / oursMBps, to: 'edge-ranges get' } });
    out.rows.push({ scenario: 'h', target: 'edge-ranges get -c 8', metric: 'MB/s inside the process (without Node start-up)', value: mbps(percentile(inside, 0.5)), unit: 'MB/s', ratio: { value: mbps(percentile(inside, 0.5)) / limit, to: '8 × limit_rate' } });
    out.rows.push({ scenario: 'h', target: '8 × limit_rate', metric: 'MB/s (the most 8 connections may move)', value: limit, unit: 'MB/s' });
    out.checks.push({ scenario: 'h', goal: 'edge-ranges get -c 8: MB/s ≥ 1× aria2c -x8 -s8 (median of the runs)', measured: `${(oursMBps / ariaMBps).toFixed(2)}× (${oursMBps.toFixed(1)} against ${ariaMBps.toFixed(1)} MB/s)`, met: oursMBps >= ariaMBps });
  } finally {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
