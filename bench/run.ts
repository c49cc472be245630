/**
 * `npm run bench [-- --quick]`: starts radosgw, nginx, the Node entry (twice:
 * once straight to the store, once through the delay proxy), the Deno and
 * Bun entries, a byte-level TCP proxy to radosgw (the ceiling of a Node
 * hop), the Workers entry, and the Worker over an in-isolate store; checks
 * that each answers correctly, runs scenarios a–g of issue 6, h of issue 8
 * (the download client against a rate-limited nginx) and i of issue 12
 * (4 KiB ranges), prints the table and rewrites bench/RESULTS.md.
 * Whatever happens (an error, Ctrl-C), everything started is stopped by PID.
 */
import { join } from 'node:path';
import { ROOT } from '../test/support/processes.ts';
import { edgeCacheCallsBytesAndRss } from './cache.ts';
import { DOWNLOAD, downloadClientSpeed } from './download.ts';
import { BIG, HUGE, ensureFile, putR2Once, putS3 } from './objects.ts';
import { commOf } from './procs.ts';
import { startDelayProxy } from './proxy.ts';
import { consoleTable, environment, writeResults } from './report.ts';
import { rangeThroughputAt16Connections, largeRangeSpeedAndRss, sixteenRangeLatency, sixteenRangeLatencyStoreFarAway, rangeParserSpeed, sparseReadBytes, cpuPerRequestOfEntries, sequentialSmallRangeLatency, verify, type Results, type Setup } from './scenarios.ts';
import { startNginx, startNodeEntry, startRuntimeEntry, startStore, startTcpProxy, startWorkersEntry } from './targets.ts';

const quick = process.argv.includes('--quick');
/** `--only=a,i`: those scenarios alone, printed and not written to RESULTS.md (for working on them). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const runs = (scenario: string) => only === undefined || only.includes(scenario);
const WORK = join(ROOT, '.local', 'bench');
const DATA = join(WORK, 'data');

/** Stop functions of everything started, run last-first at the end. */
const cleanup: { name: string; stop: () => Promise<void> }[] = [];
/** Starts under way: a failure elsewhere must wait for them, then stop them too. */
const pending: Promise<unknown>[] = [];
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await Promise.allSettled(pending);
    while (cleanup.length > 0) {
      const { name, stop } = cleanup.pop()!;
      try {
        await stop();
      } catch (err) {
        console.error(`bench: stopping ${name} failed: ${(err as Error).message}`);
      }
    }
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping everything`);
    void stopAll().then(() => process.exit(130));
  });
}

function log(message: string): void {
  console.error(`bench [${((performance.now() - t0) / 1000).toFixed(0)}s]: ${message}`);
}

function started<T extends { stop(): Promise<void> }>(name: string, start: Promise<T>): Promise<T> {
  const registered = start.then((t) => {
    cleanup.push({ name, stop: () => t.stop() });
    log(`${name} up`);
    return t;
  });
  pending.push(registered);
  return registered;
}

const t0 = performance.now();
try {
  const env = environment(ROOT);
  log(`${quick ? 'quick' : 'full'} run; ${env.machine}`);
  const results: Results = { rows: [], checks: [], notes: [] };

  // e runs in this process: first, while nothing else of ours is running.
  if (runs('e')) {
    log('e: parsers ...');
    rangeParserSpeed(quick, results);
  }

  // radosgw takes ~10 s to start: write the files meanwhile.
  const storeUp = started('radosgw', startStore(join(WORK, 'ceph'), quick ? 2048 : 4096));
  storeUp.catch(() => {}); // awaited below (and by stopAll)
  log('writing objects (once) ...');
  const bigFile = await ensureFile(DATA, BIG);
  const downloadFile = await ensureFile(DATA, DOWNLOAD);
  // The 1 GiB object takes ~25 s to upload: --quick computes f's reference instead (see sparseReadBytes).
  const hugeFile = quick ? undefined : await ensureFile(DATA, HUGE);
  const store = await storeUp;

  // Upload and seed while the servers start; nothing is measured yet.
  const persistTo = join(WORK, 'r2');
  const upload = (async () => {
    log('uploading to radosgw, seeding local R2 (once) ...');
    await putS3(store.settings, bigFile, BIG);
    if (hugeFile) await putS3(store.settings, hugeFile, HUGE);
    await putR2Once(persistTo, bigFile, BIG);
    log('objects in place');
  })();
  upload.catch(() => {});
  const proxy = await started('delay proxy', startDelayProxy(new URL(store.settings.endpoint!), 0));
  const [nginx, node, nodeBehindProxy, deno, bun, tcpProxy] = await Promise.all([
    started('nginx', startNginx(DATA)),
    // a–i measure the path without the edge cache (j measures the cache).
    started('node entry', startNodeEntry(store.env, { CACHE: 'off' })),
    started('node entry behind the proxy', startNodeEntry({ ...store.env, S3_ENDPOINT: proxy.url }, { CACHE: 'off' })),
    started('deno entry', startRuntimeEntry('deno', { ...store.env, CACHE: 'off' })),
    started('bun entry', startRuntimeEntry('bun', { ...store.env, CACHE: 'off' })),
    started('tcp proxy', startTcpProxy(store.settings.endpoint!)),
  ]);
  await upload;
  // After seeding: wrangler dev reads local R2 from the same directory.
  const workers = await started('workers entry', startWorkersEntry(persistTo, BIG.key));
  const isolateWorker = await started('workers entry over an in-isolate store', startWorkersEntry(persistTo, BIG.key, 'bench/isolate-worker.ts'));

  const setup: Setup = {
    quick,
    dataDir: DATA,
    node,
    workers,
    runtimes: { 'deno entry': deno, 'bun entry': bun },
    nginx,
    storeBase: `${store.settings.endpoint}/${store.settings.bucket}`,
    nodeBehindProxy,
    proxy,
    withHuge: hugeFile !== undefined,
    tcpProxy,
    tcpProxyBase: `${tcpProxy.url}/${store.settings.bucket}`,
    isolateWorker,
  };
  log('verifying answers ...');
  await verify(setup);
  if (runs('b')) {
    log('b: one 256 MiB range ...');
    await largeRangeSpeedAndRss(setup, results);
  }
  if (runs('a')) {
    log('a: 1 MiB ranges at 16 connections ...');
    await rangeThroughputAt16Connections(setup, results);
  }
  if (runs('c') || runs('d')) {
    log('c: 16 ranges ...');
    const { nodeP50 } = await sixteenRangeLatency(setup, results);
    if (runs('d')) {
      log('d: 16 ranges, store 20 ms away ...');
      await sixteenRangeLatencyStoreFarAway(setup, results, nodeP50);
    }
  }
  if (runs('f')) {
    log('f: 32 ranges of a 1 GiB object ...');
    await sparseReadBytes(setup, results);
  }
  if (runs('g')) {
    log('g: CPU per request ...');
    await cpuPerRequestOfEntries(setup, results);
  }
  if (runs('i')) {
    log('i: sequential 4 KiB ranges ...');
    await sequentialSmallRangeLatency(setup, results);
  }
  if (runs('h')) {
    log('h: segmented download from a rate-limited nginx ...');
    await downloadClientSpeed(quick, DATA, downloadFile, results);
  }
  if (runs('j')) {
    log('j: the edge cache, store 20 ms away ...');
    await edgeCacheCallsBytesAndRss(quick, DATA, store.settings, store.env, proxy, results);
  }

  // The PIDs measured must still be the processes found at start.
  if ([...workers.cpuPids, ...isolateWorker.cpuPids].some((pid) => commOf(pid) !== 'workerd')) {
    results.notes.push('a workerd process was replaced during the run: the Workers RSS and CPU figures are not valid.');
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(consoleTable(results));
  if (only === undefined) {
    writeResults(join(ROOT, 'bench'), env, results, quick, seconds);
    log('wrote bench/RESULTS.md');
  }
} catch (err) {
  console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  log('stopping ...');
  await stopAll();
  log('done');
}
