/**
 * The download client (lib/client, `edge-ranges get`) against real servers:
 * the Node entry over radosgw, nginx, and radosgw directly; through a link
 * that drops every connection after 2 MiB (where a single curl cannot
 * finish); with the object replaced mid-download; killed with SIGKILL and
 * run again; against a server without range support; and filling many small
 * holes with one multi-range request. Files are compared by sha256.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { download, type DownloadEvent, type DownloadOptions } from '../../lib/client/download.ts';
import { probe } from '../../lib/client/probe.ts';
import { holes } from '../../lib/client/segments.ts';
import { readState, stateFor } from '../../lib/client/state.ts';
import type { ByteRange } from '../../lib/range/byte-range.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startNginx, type Nginx } from '../support/nginx.ts';
import { CLI, ROOT, run, startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** 24 MiB: twelve connection drops' worth through the flaky link. */
const OBJECT = { key: 'download/object.bin', bytes: pseudoRandomBytes(24 * MiB, 0x5eed) };
/** Replaced mid-download by the same number of different bytes (only the ETag tells them apart). */
const REPLACED = { key: 'download/replaced.bin', before: pseudoRandomBytes(12 * MiB, 1), after: pseudoRandomBytes(12 * MiB, 2) };
/** Fetched slowly, so the CLI can be killed halfway. */
const SLOW = { key: 'download/slow.bin', bytes: pseudoRandomBytes(8 * MiB, 3) };

/** Short backoffs: the faults here are deliberate, and the suite must stay quick. */
const FAST_RETRY = { baseMs: 20, maxMs: 200 };

let work: string;
let node: Server;
let nginx: Nginx;
/** nginx with `max_ranges 1`: a multi-range request gets 200 with the whole object. */
let nginxOneRange: Nginx;
let storeBase: string;
const proxies: FaultProxy[] = [];

async function proxy(target: string): Promise<FaultProxy> {
  const p = await startFaultProxy(target);
  proxies.push(p);
  return p;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edge-ranges-download-'));
  const www = join(work, 'www');
  mkdirSync(join(www, 'download'), { recursive: true });
  for (const o of [OBJECT, SLOW]) writeFileSync(join(www, o.key), o.bytes);

  const settings = s3SettingsFrom(process.env);
  const s3 = createS3Client(settings);
  storeBase = `${settings.endpoint}/${settings.bucket}`;
  const put = (key: string, body: Uint8Array) => s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: body, ACL: 'public-read' }));
  [node, nginx, nginxOneRange] = await Promise.all([
    (async () => {
      await Promise.all([put(OBJECT.key, OBJECT.bytes), put(REPLACED.key, REPLACED.before)]);
      // METADATA_TTL=0: an object replaced mid-download is seen at once (within a TTL the
      // entry would serve the previous version, whole, as README's "Caching ranges" says).
      return startTs('functions/node/index.ts', { HOST: '127.0.0.1', PORT: '0', METADATA_TTL: '0' }, /listening on (http:\S+)/);
    })(),
    startNginx(www),
    startNginx(www, { maxRanges: 1 }),
  ]);
});

afterAll(async () => {
  await Promise.all([node?.stop(), nginx?.stop(), nginxOneRange?.stop(), ...proxies.map((p) => p.close())]);
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A fresh output path. */
const outPath = () => join(work, `out-${++n}.bin`);

function get(url: string, options: Partial<DownloadOptions> = {}) {
  const output = options.output ?? outPath();
  return download({ url, output, retry: FAST_RETRY, ...options }).then((result) => ({ result, bytes: readFileSync(output) }));
}

const TARGETS = [
  { name: 'the Node entry over radosgw', base: () => node.url, verified: 'md5' },
  { name: 'nginx', base: () => nginx.url, verified: 'size' },
  { name: 'radosgw directly', base: () => storeBase, verified: 'md5' },
] as const;

describe.each(TARGETS)('$name', ({ base, verified }) => {
  it('-c 4: the exact file, verified, renamed into place, nothing left beside it', async () => {
    const output = outPath();
    const { result, bytes } = await get(`${base()}/${OBJECT.key}`, { output, connections: 4 });
    expect(sha256(bytes)).toBe(sha256(OBJECT.bytes));
    expect(result).toMatchObject({ mode: 'segmented', verified, size: OBJECT.bytes.length, restarts: 0, resumedBytes: 0 });
    expect(() => readFileSync(`${output}.part`)).toThrow();
    expect(() => readFileSync(`${output}.part.json`)).toThrow();
  });

  it('a link that drops every connection after 2 MiB: curl fails, the client finishes byte-exact', async () => {
    const flaky = await proxy(base());
    flaky.rules = [{ method: 'GET', fault: { kind: 'reset', afterBytes: 2 * MiB } }];
    const url = `${flaky.url}${new URL(base()).pathname.replace(/\/$/, '')}/${OBJECT.key}`;

    const curlOut = outPath();
    const curl = await run('curl', ['-sS', '-o', curlOut, url]);
    expect(curl.code).not.toBe(0);
    expect(readFileSync(curlOut).length).toBeLessThan(OBJECT.bytes.length);

    // Two tries in a row without progress would fail it: a cut after progress is no failure,
    // so twelve and more cuts do not exhaust the budget.
    const { result, bytes } = await get(url, { connections: 4, retry: { ...FAST_RETRY, attempts: 2 } });
    expect(sha256(bytes)).toBe(sha256(OBJECT.bytes));
    // Every connection was cut: at least one request per 2 MiB.
    expect(result.requests).toBeGreaterThanOrEqual(OBJECT.bytes.length / (2 * MiB));
  });
});

describe('many small holes: one multi-range request', () => {
  /** 20 holes of 8 KiB, 1 MiB apart, in a partial file otherwise complete. */
  const HOLES: ByteRange[] = Array.from({ length: 20 }, (_, i) => ({ start: i * MiB + 1000 + i, end: i * MiB + 1000 + i + 8191 }));
  const missing = HOLES.reduce((sum, h) => sum + h.end - h.start + 1, 0);

  it.for([
    ['the Node entry: multipart/byteranges', () => `${node.url}/${OBJECT.key}`, 'multipart', 1],
    ['nginx: multipart/byteranges', () => `${nginx.url}/${OBJECT.key}`, 'multipart', 1],
    // radosgw answers the first range only; the other 19 holes become segments.
    ['radosgw: the first range only', () => `${storeBase}/${OBJECT.key}`, 'single', 20],
    // max_ranges 1: 200 with the whole object (same ETag): refused, then segments.
    ['nginx max_ranges 1: 200', () => `${nginxOneRange.url}/${OBJECT.key}`, 'refused', 21],
  ] as const)('%s', async ([, url, answer, requestsAfterProbe]) => {
    const output = outPath();
    const first = await probe(url(), { fetch, signal: new AbortController().signal, headers: {} });
    if (first.kind !== 'ranges') throw new Error('expected a range-capable server');
    const partial = Uint8Array.from(OBJECT.bytes);
    for (const h of HOLES) partial.fill(0, h.start, h.end + 1);
    writeFileSync(`${output}.part`, partial);
    writeFileSync(`${output}.part.json`, JSON.stringify(stateFor(first.object, holes(HOLES, OBJECT.bytes.length))));

    const ranges: string[] = [];
    const counting: typeof fetch = (input, init) => {
      ranges.push(new Headers(init?.headers).get('range') ?? '');
      return fetch(input, init);
    };
    const events: DownloadEvent[] = [];
    const { result, bytes } = await get(url(), { output, fetch: counting, onEvent: (e) => events.push(e) });
    expect(sha256(bytes)).toBe(sha256(OBJECT.bytes));
    expect(events).toContainEqual({ kind: 'multi-range', ranges: 20, answer });
    expect(ranges.filter((r) => r.includes(','))).toHaveLength(1);
    expect(ranges).toHaveLength(1 + requestsAfterProbe);
    expect(result.multipartAnswers).toBe(answer === 'multipart' ? 1 : 0);
    expect(result.resumedBytes).toBe(OBJECT.bytes.length - missing);
    // Only the holes (and, after a 200, what was read of it before it was dropped) come over the wire.
    if (answer !== 'refused') expect(result.fetchedBytes).toBe(missing);
  });
});

describe('faults', () => {
  // Connections already streaming may go on with the old bytes (radosgw keeps serving the version
  // a GET began with): that alone is a consistent old file. The link then drops, and every resumed
  // segment carries If-Match/If-Range: the change shows, and the download starts over.
  it('the object replaced mid-download, then the link drops: detected, started over, the new object byte-exact', async () => {
    const settings = s3SettingsFrom(process.env);
    const slow = await proxy(node.url);
    slow.rules = [{ method: 'GET', fault: { kind: 'throttle', bytesPerSecond: 2 * MiB } }];
    const events: DownloadEvent[] = [];
    const running = get(`${slow.url}/${REPLACED.key}`, { connections: 4, onEvent: (e) => events.push(e) });
    while (slow.bytes() < 2 * MiB) await new Promise((r) => setTimeout(r, 20));
    await createS3Client(settings).send(new PutObjectCommand({ Bucket: settings.bucket, Key: REPLACED.key, Body: REPLACED.after }));
    slow.rules = []; // full speed for the second pass
    slow.dropConnections();
    const { result, bytes } = await running;
    expect(sha256(bytes)).toBe(sha256(REPLACED.after));
    expect(result.restarts).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.kind === 'restart').length).toBe(result.restarts);
  });

  it('the CLI killed with SIGKILL and run again: resumes, fetching only what was missing', async () => {
    const slow = await proxy(nginx.url);
    slow.rules = [{ method: 'GET', fault: { kind: 'throttle', bytesPerSecond: MiB } }];
    const output = outPath();
    const args = [CLI, 'get', `${slow.url}/${SLOW.key}`, '-o', output, '-c', '4', '--json'];
    const first = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    let recorded = 0;
    while (recorded < 0.3 * SLOW.bytes.length) {
      await new Promise((r) => setTimeout(r, 50));
      const state = await readState(`${output}.part.json`);
      recorded = state?.done.reduce((sum, [a, b]) => sum + b - a + 1, 0) ?? 0;
    }
    first.kill('SIGKILL');
    await exited;
    expect(first.signalCode).toBe('SIGKILL');

    // The same slow link: unthrottled on localhost, a connection cut when its segment is split
    // would have megabytes in socket buffers that the proxy counts but the client never reads.
    slow.resetBytes();
    const again = await run(process.execPath, args);
    expect(again.code, again.stderr).toBe(0);
    const done = JSON.parse(again.stdout.trim().split('\n').pop()!) as { event: string; resumedBytes: number };
    expect(done.event).toBe('done');
    expect(done.resumedBytes).toBeGreaterThanOrEqual(recorded);
    expect(sha256(readFileSync(output))).toBe(sha256(SLOW.bytes));
    // The second run fetched the missing part only (plus at most a little a cut connection had in flight).
    expect(slow.bytes(), `resumed ${done.resumedBytes} of ${SLOW.bytes.length}`).toBeLessThanOrEqual(SLOW.bytes.length - done.resumedBytes + 256 * 1024);
    expect(slow.bytes()).toBeLessThan(SLOW.bytes.length * 0.75);
  });

  it('connections that stall (no byte for 300 ms): abandoned and retried, probe included', async () => {
    const stalling = await proxy(nginx.url);
    // The probe, its retry and one segment hold their answers back for 5 s.
    stalling.rules = [{ method: 'GET', fault: { kind: 'delay', ms: 5000 }, times: 3 }];
    const events: DownloadEvent[] = [];
    const started = performance.now();
    const { bytes } = await get(`${stalling.url}/${OBJECT.key}`, { connections: 4, stallMs: 300, onEvent: (e) => events.push(e) });
    expect(sha256(bytes)).toBe(sha256(OBJECT.bytes));
    expect(performance.now() - started).toBeLessThan(4000);
    const stalls = events.filter((e) => e.kind === 'retry' && /no data for 300 ms/.test(e.reason));
    expect(stalls.length).toBe(3);
  });

  it('SIGTERM: exit 130, the partial file and its state kept for the next run', async () => {
    const slow = await proxy(nginx.url);
    slow.rules = [{ method: 'GET', fault: { kind: 'throttle', bytesPerSecond: MiB } }];
    const output = outPath();
    const child = spawn(process.execPath, [CLI, 'get', `${slow.url}/${SLOW.key}`, '-o', output, '-q'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve)); // stderr drained too
    while ((await readState(`${output}.part.json`)) === null) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toBe('edge-ranges: interrupted; run the same command again to resume\n');
    expect((await readState(`${output}.part.json`))?.size).toBe(SLOW.bytes.length);
    expect(() => readFileSync(output)).toThrow();
  });

  it('an ETag that is the MD5 of other bytes: a verification failure, nothing left behind', async () => {
    const bytes = OBJECT.bytes.subarray(0, MiB);
    const other = createHash('md5').update(OBJECT.bytes.subarray(1, MiB + 1)).digest('hex');
    const server: HttpServer = createServer((req, res) => {
      res.writeHead(200, { 'content-length': bytes.length, etag: `"${other}"` });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const output = outPath();
      const { port } = server.address() as { port: number };
      await expect(get(`http://127.0.0.1:${port}/file`, { output })).rejects.toMatchObject({ failure: 'verify', message: expect.stringMatching(/^MD5 [0-9a-f]{32}, the ETag states [0-9a-f]{32}$/) });
      for (const f of [output, `${output}.part`, `${output}.part.json`]) expect(() => readFileSync(f)).toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a server without range support: one streamed download from the probe itself', async () => {
    const bytes = OBJECT.bytes.subarray(0, 5 * MiB);
    let seen = 0;
    const server: HttpServer = createServer((req, res) => {
      seen++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const { result, bytes: got } = await get(`http://127.0.0.1:${port}/file`, { connections: 4 });
      expect(sha256(got)).toBe(sha256(bytes));
      expect(result).toMatchObject({ mode: 'single', verified: 'size', requests: 1 });
      expect(seen).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('`npx edge-ranges get`', () => {
  it('downloads from the repository root, exit 0', async () => {
    const output = outPath();
    const r = await run('npx', ['--no-install', 'edge-ranges', 'get', `${nginx.url}/${SLOW.key}`, '-o', output, '-c', '8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/size verified/);
    expect(sha256(readFileSync(output))).toBe(sha256(SLOW.bytes));
  });

  describe.concurrent('usage errors and failures', () => {
    it.for([
      { name: 'no -o', code: 2, args: ['get', 'http://127.0.0.1:9/x'], message: /-o <file> is required/ },
      { name: 'not a URL', code: 2, args: ['get', 'nope', '-o', 'x'], message: /not a URL/ },
      { name: '-c 0', code: 2, args: ['get', 'http://127.0.0.1:9/x', '-o', 'x', '-c', '0'], message: /-c: a whole number/ },
      { name: 'an unknown option', code: 2, args: ['get', 'http://127.0.0.1:9/x', '-o', 'x', '--fast'], message: /Unknown option '--fast'/ },
      { name: '404', code: 1, args: ['get', 'NGINX/missing.bin', '-o', 'OUT'], message: /HTTP 404/ },
    ] as const)('$name: exit $code, one clear line, no stack trace', async ({ args, code, message }) => {
      const r = await run(process.execPath, [CLI, ...args.map((a) => a.replace('NGINX', nginx.url).replace('OUT', outPath()))]);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  });
});
