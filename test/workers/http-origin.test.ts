/**
 * The HTTP store inside workerd: the HTTP table over nginx (started by the
 * project's global setup) and over radosgw's public-read URLs, the Workers
 * entry itself with STORE=http, and multi-range byte for byte.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';
import { createApp } from '../../lib/app.ts';
import { httpStore } from '../../lib/store/http.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { FIXTURES, pathOf, type Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase, firstDifference } from '../support/http-cases.ts';
import { KEY, inProcess, multirangeTests } from '../support/multirange-cases.ts';
import { bucketUrl, publicBucket, publicRead, validatorsAt } from '../support/origins.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';

const BASE = 'http://edge-ranges.test';
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
/** A test's Request as the entry's fetch takes it (an incoming request, whose `cf` we do not set). */
const incoming = (request: Request) => request as Parameters<typeof worker.fetch>[0];

describe('the Workers entry over nginx (STORE=http) inside workerd', () => {
  const origin = inject('nginxOrigin');
  const bindings = { STORE: 'http', ORIGIN_URL: `${origin}/` };
  let validators: Map<string, Validators>;
  beforeAll(async () => {
    validators = await validatorsAt(origin);
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await worker.fetch(incoming(caseRequest(c, BASE, v)), bindings, ctx), v);
  });

  it('nginx strong ETags pass through as strong; the guarded GET is checked', async () => {
    const v = validators.get('data')!;
    expect(v.etag).toMatch(/^"[^"]+"$/);
    const request = new Request(`${BASE}${pathOf(FIXTURES.data.key)}`, { headers: { range: 'bytes=0-9,7000-7009' } });
    const res = await worker.fetch(incoming(request), bindings, ctx);
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).toBe(v.etag);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(20);
  });
});

describe('the app over radosgw public-read URLs (HTTP store) inside workerd', () => {
  const settings = { ...s3SettingsFrom(env), bucket: 'edge-ranges-http-workers' };
  const client = createS3Client(settings);
  const store = httpStore({ url: new URL(bucketUrl(settings.endpoint!, settings.bucket)) });
  const app = createApp({ store });
  let validators: Map<string, Validators>;
  beforeAll(async () => {
    await publicBucket(client, settings.bucket);
    await seedS3(client, settings.bucket);
    await publicRead(client, settings.bucket, Object.values(FIXTURES).map((f) => f.key));
    // After the ACLs: radosgw's PutObjectAcl moves Last-Modified (by a second, when one turns over).
    validators = await validatorsAt(bucketUrl(settings.endpoint!, settings.bucket).replace(/\/$/, ''));
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await app.fetch(caseRequest(c, BASE, v)), v);
  });

  describe('multi-range, byte for byte', () => {
    const put = async (bytes: Uint8Array) => {
      await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: bytes, ACL: 'public-read' }));
    };
    multirangeTests(() => inProcess(store, put), ['16 scattered ranges: byte-exact parts, 16 GETs', 'overwritten mid-response: aborted, never mixed']);
  });

  it('a plain range is one origin request (the one-call read)', async () => {
    const v = validators.get('data')!;
    const res = await app.fetch(new Request(`${BASE}${pathOf(FIXTURES.data.key)}`, { headers: { range: 'bytes=100-199' } }));
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).toBe(v.etag);
    expect(res.headers.get('server-timing')).toContain('desc="1 calls, 0 retries"');
    expect(firstDifference(new Uint8Array(await res.arrayBuffer()), FIXTURES.data.bytes.subarray(100, 200))).toBe(-1);
  });
});
