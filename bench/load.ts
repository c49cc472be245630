/**
 * `npm run load [-- seconds [connections]]`: 256 connections for 60 s of
 * mixed single- and multi-range GETs at the Node entry over radosgw.
 * Reports errors, latency p50/p99 and the entry's peak RSS in each half of
 * the run (the goal: 0 errors, no growth from the first half to the second).
 * A benchmark, not a test: it asserts nothing and always runs to its end.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ROOT } from '../test/support/processes.ts';
import { ensureFile, putS3, type BenchObject } from './objects.ts';
import { rss } from './procs.ts';
import { startNodeEntry, startStore } from './targets.ts';

const seconds = Number(process.argv[2] ?? 60);
const connections = Number(process.argv[3] ?? 256);
const MiB = 1024 * 1024;
const OBJECT: BenchObject = { key: 'load-64m.bin', size: 64 * MiB };

/** A mix like a player, a downloader and a data reader at once. */
function randomRange(): string {
  const at = (span: number) => Math.floor(Math.random() * (OBJECT.size - span));
  const roll = Math.random();
  if (roll < 0.5) {
    const a = at(64 * 1024);
    return `bytes=${a}-${a + 64 * 1024 - 1}`; // a seek
  }
  if (roll < 0.7) {
    const a = at(MiB);
    return `bytes=${a}-${a + MiB - 1}`; // a downloader's segment
  }
  const starts = Array.from({ length: 4 }, () => at(16 * 1024)).sort((x, y) => x - y);
  return 'bytes=' + starts.map((a) => `${a}-${a + 16 * 1024 - 1}`).join(','); // tiles
}

const store = await startStore(join(ROOT, '.local', 'ceph-load'), 1024);
try {
  const file = await ensureFile(join(ROOT, '.local', 'bench-data'), OBJECT);
  await putS3(store.settings, file, OBJECT);
  const entry = await startNodeEntry(store.env, { NODE_NO_WARNINGS: '1' });
  try {
    const idle = rss(entry.pid);
    const peaks = [0, 0];
    const started = Date.now();
    const sampler = setInterval(() => {
      const half = Date.now() - started < (seconds * 1000) / 2 ? 0 : 1;
      peaks[half] = Math.max(peaks[half]!, rss(entry.pid));
    }, 250);
    const result = await autocannon({
      url: `${entry.url}/${OBJECT.key}`,
      connections,
      duration: seconds,
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, range: randomRange() } }) }],
    });
    clearInterval(sampler);

    const errors = result.errors + result.timeouts + result.non2xx;
    const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
    console.log(
      [
        `load: ${connections} connections, ${seconds} s, mixed single/multi-range, Node entry over radosgw`,
        `requests: ${result.requests.total} (${result.requests.average.toFixed(0)}/s), ${mb(result.throughput.total)} received`,
        `errors: ${errors} (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`,
        `latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
        `RSS: idle ${mb(idle)}, peak first half ${mb(peaks[0]!)}, peak second half ${mb(peaks[1]!)}`,
      ].join('\n'),
    );
  } finally {
    await entry.stop();
  }
} finally {
  await store.stop();
}
