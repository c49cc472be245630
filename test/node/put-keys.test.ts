/**
 * `npm run put` keys (issue 14.5): a key is stored exactly as written and
 * served back by the Workers entry as `npm start` runs it (wrangler dev over
 * the same local R2). The keys are the ones wrangler's own put mangled —
 * space, `#`, `%` — and their kin: `+`, `?`, non-ASCII, and segments that
 * look like dot segments but are not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putLocalObjects } from '../../infra/local/wrangler.ts';
import { pathOf } from '../support/fixtures.ts';
import { run, startNpmStart, type Server } from '../support/processes.ts';

/** Put with the CLI itself (`npm run put`): the three keys wrangler's put broke. */
const CLI_KEYS = ['keys/my clip.txt', 'keys/v#2.txt', 'keys/50%off.txt'];
/** Put through the same code in one go (each CLI run starts a local runtime). */
const MORE_KEYS = [
  'keys/a+b.txt',
  'keys/what?x=1.txt',
  'keys/日本語 ünï.txt',
  'keys/..hidden/x.txt',
  'keys/a..b/...txt',
  // A literal `%2e%2e` segment: served only if the path is decoded exactly once.
  'keys/%2e%2e/x.txt',
];

describe('npm run put: any key round-trips to the Workers entry', () => {
  let work: string;
  let server: Server;
  const body = (key: string) => `the object stored under ${key}\n`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-ranges-keys-'));
    const persistTo = join(work, 'wrangler-state');
    const fileOf = (key: string, i: number) => {
      const file = join(work, `object-${i}.txt`);
      writeFileSync(file, body(key));
      return file;
    };
    for (const [i, key] of CLI_KEYS.entries()) {
      const put = await run('npm', ['run', '-s', 'put', '--', fileOf(key, i), key, 'text/plain'], { env: { PERSIST_TO: persistTo } });
      expect(put.stderr + put.stdout).toContain(`-> ${key}`);
      expect(put.code).toBe(0);
    }
    await putLocalObjects(MORE_KEYS.map((key, i) => ({ file: fileOf(key, 100 + i), key, options: { contentType: 'text/plain' } })), persistTo);
    server = await startNpmStart(persistTo);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.for([...CLI_KEYS, ...MORE_KEYS])('%s', async (key) => {
    const res = await fetch(server.url + pathOf(key));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body(key));
    const ranged = await fetch(server.url + pathOf(key), { headers: { range: 'bytes=4-9' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe(body(key).slice(4, 10));
  });
});
