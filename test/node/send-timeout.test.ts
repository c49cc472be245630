/**
 * SEND_TIMEOUT_MS on the Node, Deno and Bun entries over a real radosgw (the Node
 * entry's is in slow-clients.test.ts): a client that accepts no byte for
 * that long has the store connections of its response closed (Bun's
 * node:http server also hangs up; Deno.serve ends the connection once the
 * client takes what is buffered); a client that reads slowly but steadily
 * is served to the end.
 */
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const KEY = 'send-timeout/32mib.bin';
const SEND_TIMEOUT_MS = 2000;
const settings = s3SettingsFrom(process.env);
const client = createS3Client(settings);
const storePort = new URL(settings.endpoint!).port;

beforeAll(async () => {
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: pseudoRandomBytes(32 * 1024 * 1024, 5) }));
});
afterAll(async () => {
  await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: KEY }));
});

/** The entry's connections to radosgw with the store's bytes waiting on them (a GET not being read). */
function heldStoreConnections(): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${storePort} )`], { encoding: 'utf8' });
  return out.trim().split('\n').filter(Boolean).filter((line) => Number(line.trim().split(/\s+/)[0]) > 0).length;
}

/** A GET of the whole object on a raw socket; resolves at the first bytes, the socket paused. */
function stalledGet(url: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(`GET /${KEY} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
    socket.once('error', reject);
    socket.once('data', (chunk) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 200')) reject(new Error(`not a 200: ${chunk.subarray(0, 60)}`));
      socket.pause();
      resolve(socket);
    });
  });
}

describe.each(SERVER_ENTRIES)('$name: SEND_TIMEOUT_MS', (entry) => {
  it(`a client that accepts nothing for ${SEND_TIMEOUT_MS} ms: its response's store GETs are closed`, async () => {
    const server = await entry.start({ SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS) });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await stalledGet(new URL(server.url)));
      const started = Date.now();
      // Stalled: the store's bytes wait on the entry's connections to it.
      await vi.waitFor(() => expect(heldStoreConnections()).toBeGreaterThan(0), { timeout: 1500, interval: 50 });
      // Then they are closed, not before the timeout.
      await vi.waitFor(() => expect(heldStoreConnections()).toBe(0), { timeout: SEND_TIMEOUT_MS + 8000, interval: 100 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(SEND_TIMEOUT_MS - 500);
      expect(server.output()).not.toMatch(/Uncaught|panicked/);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  }, 60_000);

  it('a client that reads steadily, for longer than the timeout in all, is served to the end', async () => {
    const server = await entry.start({ SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS) });
    try {
      const res = await fetch(`${server.url}/${KEY}`);
      const reader = res.body!.getReader();
      let bytes = 0;
      const started = Date.now();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        // 8 MB/s: the 32 MiB take ~4 s, while what the sockets buffer at the end (a few MiB)
        // drains well within the timeout (a server has nothing left to write meanwhile).
        await new Promise((r) => setTimeout(r, value.byteLength / 8000));
      }
      expect(bytes).toBe(32 * 1024 * 1024);
      expect(Date.now() - started).toBeGreaterThan(SEND_TIMEOUT_MS);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
