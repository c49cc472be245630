/**
 * Each standalone entry's start-up (Node, Deno, Bun): a missing or
 * malformed setting, or a bucket it cannot read, stops it with one line
 * naming the problem.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkBucket, createS3Client } from '../../lib/store/s3.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import { ROOT, freePort, run } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const S3 = {
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_BUCKET: 'b',
  S3_ACCESS_KEY_ID: 'k',
  S3_SECRET_ACCESS_KEY: 's',
  S3_REGION: undefined,
  S3_FORCE_PATH_STYLE: undefined,
  HOST: '127.0.0.1',
  PORT: '0',
};

const HTTP = { STORE: 'http', ORIGIN_URL: 'http://127.0.0.1:9/', ORIGIN_HEADERS: undefined, HOST: '127.0.0.1', PORT: '0' };

describe.concurrent.each(SERVER_ENTRIES)('$name settings', (entry) => {
  it.for<[string, Record<string, string | undefined>, string]>([
    ['no bucket', { ...S3, S3_BUCKET: undefined }, 'edge-ranges: S3_BUCKET is missing: set it to the bucket name'],
    ['no key id', { ...S3, S3_ACCESS_KEY_ID: undefined }, 'edge-ranges: S3_ACCESS_KEY_ID is missing: set it to the access key id'],
    ['bad endpoint', { ...S3, S3_ENDPOINT: 'localhost:9000' },
      'edge-ranges: S3_ENDPOINT is malformed: expected an http(s) URL, got "localhost:9000"'],
    ['bad path style', { ...S3, S3_FORCE_PATH_STYLE: 'maybe' },
      'edge-ranges: S3_FORCE_PATH_STYLE is malformed: expected true or false, got "maybe"'],
    ['bad port', { ...S3, PORT: 'http' }, 'edge-ranges: PORT is malformed: expected 0-65535, got "http"'],
    ['R2 on a server', { ...S3, STORE: 'r2' }, 'edge-ranges: STORE is malformed: "r2" is a Workers binding; here use "s3" or "http"'],
    ['HTTP origin without a URL', { ...HTTP, ORIGIN_URL: undefined },
      'edge-ranges: ORIGIN_URL is missing: set it to the base URL of the objects, like https://bucket.example.com/prefix/'],
    ['HTTP origin with a bad URL (its query, a secret, left out)', { ...HTTP, ORIGIN_URL: 'bucket.example.com/objects?sig=SECRET' },
      'edge-ranges: ORIGIN_URL is malformed: expected an http(s) URL like https://bucket.example.com/prefix/, got "bucket.example.com/objects?…"'],
  ])('%s', async ([, env, line]) => {
    const { command, args } = entry.command();
    const { code, stdout, stderr } = await run(command, args, { env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\n`);
  });

  it('an HTTP origin nobody answers at: one line, naming the origin and never its signature', async () => {
    const port = await freePort(); // free: nobody listens there
    const env = { ...HTTP, ORIGIN_URL: `http://127.0.0.1:${port}/objects/?sig=SECRET` };
    const { command, args } = entry.command();
    const { code, stdout, stderr } = await run(command, args, { env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    // The runtime's own words follow (Node: `fetch failed: connect ECONNREFUSED …`).
    expect(stderr).toMatch(new RegExp(`^edge-ranges: cannot reach ORIGIN_URL http://127\\.0\\.0\\.1:${port}: .+\n$`));
    expect(stderr).not.toContain('SECRET');
  });
});

/**
 * Each entry checks the bucket once before it listens: bad credentials, a
 * wrong bucket or an endpoint nobody answers on stop it with one line,
 * instead of a `502` on every request. Against the suite's radosgw.
 */
describe.concurrent.each(SERVER_ENTRIES)('$name start-up check of the bucket', (entry) => {
  const real = () => ({ ...s3SettingsOrThrow(), HOST: '127.0.0.1', PORT: '0' });

  it.for<[string, (env: ReturnType<typeof real>) => Record<string, string | undefined>, (env: ReturnType<typeof real>) => string]>([
    ['wrong secret key', (e) => ({ ...e, S3_SECRET_ACCESS_KEY: 'not-the-secret' }),
      (e) => `edge-ranges: S3 refused the credentials for bucket "${e.S3_BUCKET}" at ${e.S3_ENDPOINT}: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (HTTP 403)`],
    ['unknown access key id', (e) => ({ ...e, S3_ACCESS_KEY_ID: 'NOBODY' }),
      (e) => `edge-ranges: S3 refused the credentials for bucket "${e.S3_BUCKET}" at ${e.S3_ENDPOINT}: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (HTTP 403)`],
    ['no such bucket', (e) => ({ ...e, S3_BUCKET: 'no-such-bucket' }),
      (e) => `edge-ranges: S3 has no bucket "no-such-bucket" at ${e.S3_ENDPOINT}: check S3_BUCKET (and S3_REGION, S3_FORCE_PATH_STYLE) (HTTP 404)`],
    ['nothing listens at the endpoint', (e) => ({ ...e, S3_ENDPOINT: 'http://127.0.0.1:9' }),
      () => 'edge-ranges: cannot reach S3_ENDPOINT http://127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9'],
  ])('%s', async ([, bad, line]) => {
    const env = real();
    const { command, args } = entry.command();
    const { code, stdout, stderr } = await run(command, args, { env: bad(env) });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    // The AWS SDK may print its own Node version warning first; ours is the last line.
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(line(env));
  });

  it('the right settings start it', async () => {
    const server = await entry.start(real());
    try {
      expect((await fetch(`${server.url}/no-such-object`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('a port already taken: one line naming it, exit 1', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;
    try {
      const { command, args } = entry.command();
      const { code, stdout, stderr } = await run(command, args, { env: { ...real(), PORT: String(port) } });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      // The reason is each runtime's own wording (EADDRINUSE, "Address already in use").
      expect(stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^edge-ranges: cannot listen on 127\\.0\\.0\\.1:${port}: .*(EADDRINUSE|in use)`, 'i'));
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('an endpoint that accepts but never answers: unreachable after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const client = createS3Client({
        endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'b',
        accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true,
      });
      expect(await checkBucket(client, 'b', 300)).toEqual({ kind: 'unreachable', detail: 'no answer within 300 ms' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

/**
 * The README's start commands, stopped as a service manager or `kill`
 * stops them: SIGTERM to the npm process alone. Nothing of the server may
 * outlive it (npm signals its script's shell, which did not pass the
 * signal on: the server kept running, orphaned).
 */
describe.concurrent('npm run start:*, stopped with SIGTERM to npm', () => {
  it.for([
    ['npm run start:node', 'start:node', /listening on http:/, {}],
    ['npm run start:deno', 'start:deno', /listening on http:/, {}],
    ['npm run start:bun', 'start:bun', /listening on http:/, {}],
    ['npm start', 'start', /serving local R2 at http:/, {}],
    // The first run seeds the demo objects (through Miniflare, in the same process).
    ['npm start on a fresh state, seeding the demo objects', 'start', /serving local R2 at http:/, { DEMO: 'on' }],
  ] as const)('%s: the server stops with it', async ([, script, ready, settings], { expect }) => {
    const state = mkdtempSync(join(tmpdir(), 'edge-ranges-stop-'));
    const env = { ...process.env, ...s3SettingsOrThrow(), HOST: '127.0.0.1', PORT: String(await freePort()), PERSIST_TO: state, DEMO: 'off', ...settings };
    // Its own process group, to see every process it started (and to clean up whatever happens).
    const npm = spawn('npm', ['run', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = npm.pid!;
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => ((output += d), ready.test(output) && resolve());
        npm.stdout.on('data', onData);
        npm.stderr.on('data', onData);
        npm.on('exit', (code) => reject(new Error(`npm run ${script} exited (${code}):\n${output}`)));
      });
      const exited = new Promise((resolve) => npm.once('exit', resolve));
      process.kill(npm.pid!, 'SIGTERM');
      await exited;
      await vi.waitFor(() => expect(groupAlive(group), `still running after npm run ${script} stopped`).toBe(false), { timeout: 15_000, interval: 100 });
    } finally {
      if (groupAlive(group)) process.kill(-group, 'SIGKILL');
      rmSync(state, { recursive: true, force: true });
    }
  });
});

/** Whether any process of the process group `pgid` is still running. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The suite's radosgw settings, from the environment. */
function s3SettingsOrThrow() {
  const env = process.env;
  s3SettingsFrom(env); // fails loudly without a radosgw
  const { S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_FORCE_PATH_STYLE } = env;
  return { S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_FORCE_PATH_STYLE };
}
