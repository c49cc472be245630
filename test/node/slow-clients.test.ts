/**
 * Clients that do not read, or read slowly, against the Node entry over a
 * real radosgw (issue 18): they cannot hold the store's connections from
 * everyone else, a fresh small range still answers at once, and a client
 * that accepts nothing for SEND_TIMEOUT_MS is disconnected, its store GETs
 * closed. Store connections are counted on the wire (ss): a connection to
 * radosgw with bytes queued on either side is held by a stalled response.
 */
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const MIB = 1024 * 1024;
/** Bytes per range the slow readers ask for. */
const RANGE = 256 * 1024;
const KEY = 'slow-clients/64mib.bin';
const SEND_TIMEOUT_MS = 4000;
/** The entry's default LOOKAHEAD_GETS. */
const LOOKAHEAD_GETS = 128;

const settings = s3SettingsFrom(process.env);
const client = createS3Client(settings);
const storePort = Number(new URL(settings.endpoint!).port);
let server: Server;
let origin: URL;

beforeAll(async () => {
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: pseudoRandomBytes(64 * MIB, 21) }));
  server = await startTs(
    'functions/node/index.ts',
    { HOST: '127.0.0.1', PORT: '0', SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS) },
    /listening on (http:\/\/\S+)/,
  );
  origin = new URL(server.url);
});

afterAll(async () => {
  await server?.stop();
  await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: KEY }));
});

/**
 * The entry's connections to radosgw: all of them (the S3 client's pool
 * grows only as far as it is used at once: this is its peak), and those
 * held, with bytes waiting on either side in two looks 500 ms apart (GETs
 * whose answer is not being read). One look also caught GETs that were
 * merely moving bytes at that moment — the rest of a slice the edge cache
 * reads to store it, at the store's own pace — and failed a CI run so.
 */
async function storeConnections(): Promise<{ total: number; held: number }> {
  const first = storeSockets();
  await sleep(500);
  const second = storeSockets();
  const held = [...second.waiting].filter((local) => first.waiting.has(local)).length;
  return { total: Math.max(first.total, second.total), held };
}

/** One look at the entry's connections to radosgw: how many, and which have bytes waiting. */
function storeSockets(): { total: number; waiting: Set<string> } {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${storePort} )`], { encoding: 'utf8' });
  const back = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${storePort} )`], { encoding: 'utf8' });
  const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
  const waiting = new Set<string>();
  // Named by the entry's end: the local address of the entry's side, the peer of radosgw's side.
  for (const [recvQ, sendQ, local] of lines(out)) if (Number(recvQ) > 0 || Number(sendQ) > 0) waiting.add(local!);
  for (const [recvQ, sendQ, , peer] of lines(back)) if (Number(recvQ) > 0 || Number(sendQ) > 0) waiting.add(peer!);
  return { total: lines(out).length, waiting };
}

/** Fresh connections a small request may add beside the held ones (its HEAD and GET, pool slack). */
const SLACK = 16;

/** Connections the entry still has open with clients (a hung-up one leaves ESTABLISHED). */
function openClientConnections(): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${origin.port} )`], { encoding: 'utf8' });
  return out.trim().split('\n').filter(Boolean).length;
}

/**
 * `count` GETs sent on raw sockets, each resolved at its answer's first
 * bytes (a 206); `onData` decides how (and whether) the client reads on.
 * `sockets` gets every socket at once, so the caller can close them all.
 */
async function rawGets(count: number, range: string, onData: (socket: Socket, chunk: Buffer) => void, sockets: Socket[]): Promise<void> {
  const answers = await Promise.allSettled(Array.from({ length: count }, () => rawGet(range, onData, sockets)));
  const failed = answers.flatMap((a) => (a.status === 'rejected' ? [String(a.reason)] : []));
  expect(failed, 'every client gets its 206').toEqual([]);
}

function rawGet(range: string, onData: (socket: Socket, chunk: Buffer) => void, sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(origin.port), origin.hostname);
    sockets.push(socket);
    socket.once('error', reject);
    // Generous: how soon the attacking clients start is not the bound under test (on a loaded
    // machine radosgw takes seconds to start 40 answers); the fresh range's time is.
    socket.setTimeout(30_000, () => reject(new Error('no answer within 30 s')));
    socket.once('data', (chunk) => {
      socket.setTimeout(0);
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 206')) reject(new Error(`not a 206: ${chunk.subarray(0, 80)}`));
      resolve(socket);
    });
    socket.on('data', (chunk) => onData(socket, chunk));
    socket.write(`GET /${KEY} HTTP/1.1\r\nHost: ${origin.host}\r\nRange: ${range}\r\n\r\n`);
  });
}

/** A fresh one-range GET: how long until its whole (small) body arrived. */
async function smallRangeMs(): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(new URL(`/${KEY}`, origin), { headers: { range: 'bytes=1000-1999' }, signal: AbortSignal.timeout(FRESH_MS * 2) });
  const body = await res.arrayBuffer();
  expect(body.byteLength).toBe(1000);
  return { status: res.status, ms: Date.now() - started };
}

/**
 * A fresh small range answers within this even on a loaded machine; before
 * the bounds it waited for the store timeout (10 s, then 504).
 */
const FRESH_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds, checking every 100 ms; fails after `ms`. */
async function until(done: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(100);
  }
}

describe('Node entry under clients that do not read', () => {
  it('36 idle 16-range answers hold at most 36 + LOOKAHEAD_GETS store connections, and only for SEND_TIMEOUT_MS', async () => {
    // 16 ranges of 1 MiB, 4 MiB apart: 16 GETs per answer (was 16 connections each, 576 in all >
    // the 512 sockets). Large enough that a stalled GET keeps bytes queued on its connection, small
    // enough that radosgw reads them quickly on a loaded machine (the were 3 MiB).
    const range = 'bytes=' + Array.from({ length: 16 }, (_, i) => `${i * 4 * MIB}-${i * 4 * MIB + MIB - 1}`).join(',');
    const idle: Socket[] = [];
    try {
      await rawGets(36, range, (socket) => socket.pause(), idle);
      // Let the stalled answers fill the socket buffers and stop.
      await sleep(1000);
      const { total, held } = await storeConnections();
      expect(held).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(36 + LOOKAHEAD_GETS + SLACK);

      // A fresh small range is not queued behind them (was: 504 after 20 s).
      const fresh = await smallRangeMs();
      expect(fresh.status).toBe(206);
      expect(fresh.ms).toBeLessThan(FRESH_MS);

      // SEND_TIMEOUT_MS after their last accepted byte the server hangs up
      // (seen on the wire: a paused client socket never reads the FIN), and
      // the store connections of those answers are closed.
      expect(openClientConnections()).toBeGreaterThanOrEqual(36);
      await until(() => openClientConnections() === 0, SEND_TIMEOUT_MS + 6000, 'the server disconnects the idle clients');
      await until(async () => (await storeConnections()).held === 0, 3000, 'their store connections are closed');
    } finally {
      for (const socket of idle) socket.destroy();
    }
  }, 60_000);

  it('40 slow readers of 16-range answers leave room for a fresh small range', async () => {
    // 16 ranges of 256 KiB, 4 MiB apart: 16 GETs per answer, 640 in all > the S3 client's 512 sockets
    // (the form: 200 readers of 4 × 8 MiB; fewer, cheaper clients reach the same 640).
    const range = 'bytes=' + Array.from({ length: 16 }, (_, i) => `${i * 4 * MIB}-${i * 4 * MIB + RANGE - 1}`).join(',');
    // Each takes one chunk, then waits a second: a few dozen KB/s, never idle long enough to be cut off.
    const timers = new Set<NodeJS.Timeout>();
    const slow = (socket: Socket) => {
      socket.pause();
      const timer = setTimeout(() => (timers.delete(timer), socket.resume()), 1000);
      timers.add(timer);
    };
    const readers: Socket[] = [];
    try {
      await rawGets(40, range, slow, readers);
      await sleep(1000);
      // Held: GETs whose answers wait on a slow client; the rest of the pool is idle keep-alive
      // sockets, free for anyone, and the pool (512) is never used up.
      const { total, held } = await storeConnections();
      expect(held).toBeLessThanOrEqual(40 + LOOKAHEAD_GETS + SLACK);
      expect(total).toBeLessThan(512);
      const fresh = await smallRangeMs();
      expect(fresh.status).toBe(206);
      expect(fresh.ms).toBeLessThan(FRESH_MS);
      // They are still being served (reading slowly is not idle).
      expect(readers.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const t of timers) clearTimeout(t);
      for (const socket of readers) socket.destroy();
    }
  }, 60_000);
});
