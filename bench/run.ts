/**
 * `npm run bench [-- --quick]`: starts radosgw, nginx, the Node entry (twice:
 * once straight to the store, once through the delay proxy) and the Workers
 * entry, checks that each answers correctly, runs scenarios a–g of issue 6
 * against all of them, prints the table and rewrites bench/RESULTS.md.
 * Whatever happens (an error, Ctrl-C), everything started is stopped by PID.
 */
import { join } from 'node:path';
import { ROOT } from '../test/support/processes.ts';
import { BIG, HUGE, ensureFile, putR2Once, putS3 } from './objects.ts';
import { startDelayProxy } from './proxy.ts';
import { consoleTable, environment, writeResults } from './report.ts';
import { scenarioA, scenarioB, scenarioC, scenarioD, scenarioE, scenarioF, scenarioG, verify, type Results, type Setup } from './scenarios.ts';
import { startNginx, startNodeEntry, startStore, startWorkersEntry } from './targets.ts';

const quick = process.argv.includes('--quick');
const WORK = join(ROOT, '.local', 'bench');
const DATA = join(WORK, 'data');

/** Stop functions of everything started, run last-first at the end. */
const cleanup: { name: string; stop: () => Promise<void> }[] = [];
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
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

async function started<T extends { stop(): Promise<void> }>(name: string, start: Promise<T>): Promise<T> {
  const t = await start;
  cleanup.push({ name, stop: () => t.stop() });
  log(`${name} up`);
  return t;
}

const t0 = performance.now();
try {
  const env = environment(ROOT);
  log(`${quick ? 'quick' : 'full'} run; ${env.machine}`);

  log('writing objects (once) ...');
  const bigFile = await ensureFile(DATA, BIG);
  const hugeFile = await ensureFile(DATA, HUGE);

  // The 1 GiB object lives twice over in the OSD's memory: give memstore room.
  const store = await started('radosgw', startStore(join(WORK, 'ceph'), 4096));
  log('uploading to radosgw ...');
  await putS3(store.settings, bigFile, BIG);
  await putS3(store.settings, hugeFile, HUGE);
  log('seeding local R2 (once) ...');
  const persistTo = join(WORK, 'r2');
  await putR2Once(persistTo, bigFile, BIG);

  const nginx = await started('nginx', startNginx(DATA));
  const node = await started('node entry', startNodeEntry(store.env));
  const proxy = await started('delay proxy', startDelayProxy(new URL(store.settings.endpoint!), 0));
  const nodeBehindProxy = await started('node entry behind the proxy', startNodeEntry({ ...store.env, S3_ENDPOINT: proxy.url }));
  const workers = await started('workers entry', startWorkersEntry(persistTo));

  const setup: Setup = {
    quick,
    dataDir: DATA,
    node,
    workers,
    nginx,
    storeBase: `${store.settings.endpoint}/${store.settings.bucket}`,
    nodeBehindProxy,
    proxy,
    withHuge: true,
  };
  const results: Results = { rows: [], checks: [], notes: [] };
  log('verifying answers ...');
  await verify(setup);
  log('e: parsers ...');
  scenarioE(quick, results);
  log('b: one 256 MiB range ...');
  await scenarioB(setup, results);
  log('a: 1 MiB ranges at 16 connections ...');
  await scenarioA(setup, results);
  log('c: 16 ranges ...');
  const { nodeP50 } = await scenarioC(setup, results);
  log('d: 16 ranges, store 20 ms away ...');
  await scenarioD(setup, results, nodeP50);
  log('f: 32 ranges of a 1 GiB object ...');
  await scenarioF(setup, results);
  log('g: CPU per request ...');
  await scenarioG(setup, results);

  const seconds = (performance.now() - t0) / 1000;
  console.log(consoleTable(results));
  writeResults(join(ROOT, 'bench'), env, results, quick, seconds);
  log('wrote bench/RESULTS.md');
} catch (err) {
  console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  log('stopping ...');
  await stopAll();
  log('done');
}
