/**
 * The edge cache of the Node entry over radosgw: what repeated ranges cost
 * the store (read from Server-Timing), byte-exact answers from slices, an
 * object replaced under the cache, and a client that aborts while slices
 * are being stored.
 */
import { request as httpRequest } from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { answerOf, expectExact, type Answer } from '../support/cache-answers.ts';
import { startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const SLICE = 4096;
const N = 64 * SLICE + 123; // 64 whole slices and a partial one
const settings = s3SettingsFrom(process.env);
const client = createS3Client(settings);

async function put(key: string, bytes: Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: bytes }));
}

function start(env: Record<string, string>): Promise<Server> {
  return startTs(
    'functions/node/index.ts',
    { HOST: '127.0.0.1', PORT: '0', CACHE: 'on', SLICE_SIZE: String(SLICE), ...env },
    /listening on (http:\S+)/,
  );
}

async function get(server: Server, key: string, range?: string): Promise<Answer> {
  return answerOf(await fetch(`${server.url}/${key}`, { headers: range ? { range } : {} }));
}

const RANGES: ReadonlyArray<{ name: string; range: string; parts: Array<[number, number]> }> = [
  { name: 'inside one slice', range: 'bytes=5000-6000', parts: [[5000, 6000]] },
  { name: 'starting and ending inside slices, across boundaries', range: 'bytes=10000-30000', parts: [[10000, 30000]] },
  { name: 'exactly one slice', range: `bytes=${2 * SLICE}-${3 * SLICE - 1}`, parts: [[2 * SLICE, 3 * SLICE - 1]] },
  { name: 'suffix', range: 'bytes=-7000', parts: [[N - 7000, N - 1]] },
  { name: 'open range', range: 'bytes=200000-', parts: [[200000, N - 1]] },
  { name: 'the last, partial slice', range: `bytes=${64 * SLICE}-`, parts: [[64 * SLICE, N - 1]] },
  { name: 'multipart', range: 'bytes=0-99,40000-50000,-10', parts: [[0, 99], [40000, 50000], [N - 10, N - 1]] },
];

describe('Node entry, CACHE=on, METADATA_TTL=30', () => {
  let server: Server;
  const object = pseudoRandomBytes(N, 21);
  beforeAll(async () => {
    for (const { name } of RANGES) await put(`cache-node/${name}.bin`, object);
    await put('cache-node/mixed.bin', object);
    server = await start({ METADATA_TTL: '30' });
  });
  afterAll(() => server?.stop());

  it.for(RANGES)('$name: byte-exact, and asked again, no store call', async (c) => {
    const key = `cache-node/${c.name}.bin`;
    const cold = await get(server, key, c.range);
    expectExact(cold, object, c.parts);
    expect(cold.calls).toBeGreaterThanOrEqual(1);
    const warm = await get(server, key, c.range);
    expectExact(warm, object, c.parts);
    expect(warm.calls).toBe(0);
    expect(warm.cache.misses).toBe(0);
  });

  it('a multipart answer mixing cached and missing slices', async () => {
    await get(server, 'cache-node/mixed.bin', 'bytes=100-200'); // slice 0
    // Farther apart than UPSTREAM_GAP: two spans, one from the cache, one from the store.
    const mixed = await get(server, 'cache-node/mixed.bin', 'bytes=150-160,200000-200100');
    expectExact(mixed, object, [[150, 160], [200000, 200100]]);
    expect(mixed.cache).toEqual({ hits: 1, misses: 1 });
    expect(mixed.calls).toBe(1); // the missing slice's GET; metadata from the cache
  });

  it('an object replaced: the previous version whole within the TTL; a missing slice starts over on the new one', async () => {
    const key = 'cache-node/replaced.bin';
    const v1 = pseudoRandomBytes(N, 1);
    const v2 = pseudoRandomBytes(N + 5000, 2);
    await put(key, v1);
    const first = await get(server, key, 'bytes=0-8191');
    const etag1 = first.res.headers.get('etag');
    await put(key, v2);

    const cached = await get(server, key, 'bytes=100-5000');
    expect(cached.res.headers.get('etag')).toBe(etag1);
    expectExact(cached, v1, [[100, 5000]]);
    expect(cached.calls).toBe(0);

    const missing = await get(server, key, 'bytes=100-20000');
    expect(missing.res.headers.get('etag')).not.toBe(etag1);
    expect(missing.res.headers.get('content-range')).toBe(`bytes 100-20000/${N + 5000}`);
    expectExact(missing, v2, [[100, 20000]]);

    const after = await get(server, key, 'bytes=100-5000');
    expectExact(after, v2, [[100, 5000]]);
  });

  it('a client that aborts while slices are stored leaves no partial slice that is later served', async () => {
    const key = 'cache-node/abort.bin';
    const big = pseudoRandomBytes(2 * 1024 * 1024, 5);
    await put(key, big);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${server.url}/${key}`, { headers: { range: `bytes=${i * 1000}-` } }, (res) => {
          res.once('data', () => {
            res.destroy();
            resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
    }
    const again = await get(server, key, 'bytes=0-');
    expectExact(again, big, [[0, big.length - 1]]);
    const twice = await get(server, key, 'bytes=0-');
    expectExact(twice, big, [[0, big.length - 1]]);
    expect(twice.calls).toBe(0);
  });
});

describe('Node entry, CACHE=on, METADATA_TTL=0', () => {
  let server: Server;
  const object = pseudoRandomBytes(N, 22);
  beforeAll(async () => {
    await put('cache-node/ttl0.bin', object);
    server = await start({ METADATA_TTL: '0' });
  });
  afterAll(() => server?.stop());

  it('the same range twice: the second costs one HEAD and no GET', async () => {
    const cold = await get(server, 'cache-node/ttl0.bin', 'bytes=10000-30000');
    expectExact(cold, object, [[10000, 30000]]);
    expect(cold.calls).toBe(2);
    const warm = await get(server, 'cache-node/ttl0.bin', 'bytes=10000-30000');
    expectExact(warm, object, [[10000, 30000]]);
    expect(warm.calls).toBe(1);
    expect(warm.cache).toEqual({ hits: 6, misses: 0 }); // slices 2–7
  });
});

describe('Node entry, CACHE=on, METADATA_TTL=1', () => {
  let server: Server;
  beforeAll(async () => {
    server = await start({ METADATA_TTL: '1' });
  });
  afterAll(() => server?.stop());

  it('an object replaced: after the TTL the new version, never a mix', async () => {
    const key = 'cache-node/replaced-ttl.bin';
    const v1 = pseudoRandomBytes(N, 3);
    const v2 = pseudoRandomBytes(N, 4);
    await put(key, v1);
    expectExact(await get(server, key, 'bytes=0-8191'), v1, [[0, 8191]]);
    await put(key, v2);
    await new Promise((r) => setTimeout(r, 1100));
    expectExact(await get(server, key, 'bytes=0-8191'), v2, [[0, 8191]]);
  });
});
