/**
 * The store adapters' own behaviour inside workerd: the S3 client's error
 * paths (its browser build has no DOMParser here, so errors must be told
 * apart by status), R2's onlyIf guard, and the HTTP store's If-Match.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpStore } from '../../lib/store/http.ts';
import { r2Store } from '../../lib/store/r2.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import { StoreError, type ObjectStore, type Version } from '../../lib/store/types.ts';
import { bucketUrl, publicBucket } from '../support/origins.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const KEY = 'stores/ten.txt';
const TEXT = '0123456789';

async function read(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

async function failure(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

function storeContract(name: string, make: () => Promise<ObjectStore>) {
  describe(name, () => {
    let store: ObjectStore;
    let version: Version;
    beforeAll(async () => {
      store = await make();
      const meta = await store.head(KEY);
      expect(meta).not.toBeNull();
      version = meta!;
    });

    it('reports metadata: size and a quoted strong ETag', async () => {
      const meta = await store.head(KEY);
      expect(meta?.size).toBe(10);
      expect(meta?.etag).toMatch(/^"[^"]+"$/);
      expect(meta?.lastModified).toBeInstanceOf(Date);
    });

    it('streams a span, and the whole object', async () => {
      expect(await read(await store.get(KEY, version, { offset: 3, length: 4 }))).toBe('3456');
      expect(await read(await store.get(KEY, version))).toBe(TEXT);
    });

    it('a missing key: head is null, get is not-found', async () => {
      expect(await store.head('stores/missing')).toBeNull();
      expect((await failure(store.get('stores/missing', version))).kind).toBe('not-found');
    });

    it('a stale ETag (412 upstream) is `changed`', async () => {
      expect((await failure(store.get(KEY, { ...version, etag: '"stale"' }, { offset: 0, length: 2 }))).kind).toBe('changed');
    });
  });
}

storeContract('r2Store over the R2 binding', async () => {
  await env.BUCKET.put(KEY, TEXT);
  return r2Store(env.BUCKET);
});

storeContract('s3Store over radosgw', async () => {
  const settings = s3SettingsFrom(env);
  const client = createS3Client(settings);
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: TEXT }));
  return s3Store(client, settings.bucket);
});

storeContract('httpStore over radosgw public-read URLs', async () => {
  const settings = { ...s3SettingsFrom(env), bucket: 'edge-ranges-http-workers' };
  const client = createS3Client(settings);
  await publicBucket(client, settings.bucket);
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: TEXT, ACL: 'public-read' }));
  return httpStore({ url: new URL(bucketUrl(settings.endpoint!, settings.bucket)) });
});

describe('s3Store failures inside workerd', () => {
  it('a 416 from S3 is `unavailable`, carrying the status', async () => {
    const settings = s3SettingsFrom(env);
    const client = createS3Client(settings);
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: TEXT }));
    const store = s3Store(client, settings.bucket);
    const version = (await store.head(KEY))!;
    const err = await failure(store.get(KEY, version, { offset: 100, length: 5 }));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('416');
  });

  it('bad credentials are `unavailable`', async () => {
    const settings = { ...s3SettingsFrom(env), secretAccessKey: 'wrong' };
    const store = s3Store(createS3Client(settings), settings.bucket);
    expect((await failure(store.head(KEY))).kind).toBe('unavailable');
  });

  it('an unreachable endpoint is `unavailable`', async () => {
    const settings = { ...s3SettingsFrom(env), endpoint: 'http://127.0.0.1:9' };
    const store = s3Store(createS3Client(settings), settings.bucket);
    expect((await failure(store.head(KEY))).kind).toBe('unavailable');
  });
});
