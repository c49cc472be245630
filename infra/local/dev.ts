/**
 * `npm start`: the Workers entry under `wrangler dev`, on local R2 seeded
 * with demo objects, at http://127.0.0.1:8787 (PORT overrides; PERSIST_TO
 * moves the local state; DEMO=off skips the demo objects; CACHE,
 * METADATA_TTL and SLICE_SIZE override wrangler.toml's).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readListen } from '../../lib/config.ts';
import { DEMO } from './demo.ts';
import { DEFAULT_PERSIST, ROOT, putLocalObjects, startWrangler } from './wrangler.ts';

async function seed(persistTo: string): Promise<void> {
  // The marker lives in the state itself, so wiping the state reseeds.
  const marker = join(persistTo, 'edge-ranges-demo-v1');
  if (existsSync(marker)) return;
  const dir = join(ROOT, '.local', 'demo');
  mkdirSync(dir, { recursive: true });
  const objects = DEMO.map((object) => {
    const file = join(dir, object.key.replace('/', '_'));
    writeFileSync(file, object.bytes());
    return { file, key: object.key, options: { contentType: object.contentType } };
  });
  console.error(`seeding ${DEMO.map((o) => o.key).join(', ')} ...`);
  await putLocalObjects(objects, persistTo);
  mkdirSync(persistTo, { recursive: true });
  writeFileSync(marker, new Date().toISOString());
}

async function waitUntilUp(url: string, child: { exitCode: number | null }): Promise<void> {
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`wrangler dev did not answer at ${url}`);
}

const { port } = readListen(process.env, { host: '127.0.0.1', port: 8787 });
const persistTo = process.env.PERSIST_TO ?? DEFAULT_PERSIST;
// DEMO=off leaves the demo objects out (a suite that brings its own objects).
if (process.env.DEMO !== 'off') await seed(persistTo);

// The edge cache's settings from the environment override wrangler.toml's vars
// (`CACHE=off npm start`: the Worker without its edge cache).
const vars = (['CACHE', 'METADATA_TTL', 'SLICE_SIZE'] as const).flatMap((name) => {
  const value = process.env[name];
  return value === undefined ? [] : ['--var', `${name}:${value}`];
});
const child = startWrangler(['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistTo, ...vars]);
// Passed on first: seeding ran Miniflare in this process, and its exit hook
// ends the process on SIGTERM, which left wrangler running without us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));

const base = `http://127.0.0.1:${port}`;
await waitUntilUp(`${base}/demo/hello.txt`, child);
console.log(`
edge-ranges is serving local R2 at ${base}
  curl -s -D - -o /dev/null -H 'Range: bytes=0-99' ${base}/demo/big.bin
  curl -s -D - -H 'Range: bytes=-20' ${base}/demo/hello.txt
  curl -s -I ${base}/demo/big.bin
Put your own file:  npm run put -- <file> <key>
`);
