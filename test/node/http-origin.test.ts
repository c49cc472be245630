/**
 * The HTTP store (STORE=http) on Node against real origins: the HTTP table
 * through the Node entry over nginx and over radosgw's public-read URLs,
 * multi-range byte for byte, nginx's compressing locations, and the fault
 * proxy between store and origin (resets, truncation, 503/429, redirects,
 * an origin that ignores Range or preconditions, weak ETags, an object
 * replaced between HEAD and GET).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { utimesSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { createApp } from '../../lib/app.ts';
import { httpStore } from '../../lib/store/http.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { startFaultProxy, type FaultProxy, type Rule } from '../support/fault-proxy.ts';
import { FIXTURES, pathOf, type Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase, firstDifference } from '../support/http-cases.ts';
import { GUNZIP_KEY, GZIP_KEY, startNginxOrigin, writeObject, type NginxOrigin } from '../support/http-origin.ts';
import { bucketUrl, publicBucket, publicRead, validatorsAt } from '../support/origins.ts';
import { KEY, inProcess, multirangeTests } from '../support/multirange-cases.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import { startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';
import { readAcross } from '../support/streams.ts';

const N = FIXTURES.data.bytes.length;

async function startEntry(originUrl: string): Promise<Server> {
  return startTs(
    'functions/node/index.ts',
    { HOST: '127.0.0.1', PORT: '0', STORE: 'http', ORIGIN_URL: originUrl },
    /listening on (http:\S+)/,
  );
}

describe.each(SERVER_ENTRIES)('$name entry over nginx (STORE=http)', (entry) => {
  let origin: NginxOrigin;
  let server: Server;
  let validators: Map<string, Validators>;

  beforeAll(async () => {
    origin = await startNginxOrigin();
    validators = await validatorsAt(origin.nginx.url);
    server = await entry.start({ STORE: 'http', ORIGIN_URL: `${origin.nginx.url}/` });
  });
  afterAll(async () => {
    await server?.stop();
    await origin?.stop();
  });

  it('nginx sends strong ETags for static files (the premise of this table)', () => {
    for (const v of validators.values()) expect(v.etag).toMatch(/^"[^"]+"$/);
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await fetch(caseRequest(c, server.url, v)), v);
  });

  it("gzip location: the store asks identity, so nginx's gzip filter stays out and ranges work", async () => {
    const res = await fetch(`${server.url}/${GZIP_KEY}`, { headers: { range: 'bytes=100-199', 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(firstDifference(new Uint8Array(await res.arrayBuffer()), FIXTURES.data.bytes.subarray(100, 200))).toBe(-1);
  });

  it('gunzip location (weak ETag, no length): 502, never a body, and the log says why', async () => {
    const direct = await fetch(`${origin.nginx.url}/${GUNZIP_KEY}`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    expect(direct.headers.get('etag')).toMatch(/^W\//);
    expect(direct.headers.get('content-length')).toBeNull();
    for (const range of [undefined, 'bytes=0-99']) {
      const res = await fetch(`${server.url}/${GUNZIP_KEY}`, { headers: range ? { range } : {} });
      expect(res.status, range ?? 'whole').toBe(502);
      expect(await res.text()).not.toContain('Metadata');
    }
    expect(server.output()).toContain("no Content-Length, so the object's length is unknown");
  });
});

describe('Node entry over radosgw public-read URLs (STORE=http)', () => {
  let server: Server;
  let validators: Map<string, Validators>;
  const settings = { ...s3SettingsFrom(process.env), bucket: 'edge-ranges-http-node' };
  const client = createS3Client(settings);
  const base = bucketUrl(settings.endpoint!, settings.bucket);

  beforeAll(async () => {
    await publicBucket(client, settings.bucket);
    await seedS3(client, settings.bucket);
    await publicRead(client, settings.bucket, Object.values(FIXTURES).map((f) => f.key));
    // After the ACLs: radosgw's PutObjectAcl moves Last-Modified (by a second, when one turns over).
    validators = await validatorsAt(bucketUrl(settings.endpoint!, settings.bucket).replace(/\/$/, ''));
    server = await startEntry(base);
  });
  afterAll(() => server?.stop());

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await fetch(caseRequest(c, server.url, v)), v);
  });

  describe('multi-range, byte for byte', () => {
    const put = async (bytes: Uint8Array) => {
      await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: bytes, ACL: 'public-read' }));
    };
    multirangeTests(() => inProcess(httpStore({ url: new URL(base) }), put));
  });
});

describe('the HTTP store through the fault proxy, over nginx', () => {
  const V1 = pseudoRandomBytes(256 * 1024, 21);
  const V2 = pseudoRandomBytes(256 * 1024, 22);
  const key = 'faults/object.bin';
  let origin: NginxOrigin;
  let proxy: FaultProxy;
  let clock = Math.floor(Date.now() / 1000) - 1000;

  /** Replaces the object on disk with a later mtime (nginx's ETag is mtime-size: same length, new tag). */
  const put = (bytes: Uint8Array) => {
    writeObject(origin.root, key, bytes);
    clock += 10;
    utimesSync(`${origin.root}/${key}`, clock, clock);
  };
  const app = () =>
    createApp({
      store: httpStore({ url: new URL(`${proxy.url}/`) }),
      retry: { attempts: 3, baseMs: 1, maxMs: 5, timeoutMs: 500, budgetMs: 5000 },
      log: false,
    });
  const ask = (headers: Record<string, string> = {}) => app().request(pathOf(key), { headers });

  beforeAll(async () => {
    origin = await startNginxOrigin();
    proxy = await startFaultProxy(origin.nginx.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await origin?.stop();
  });
  afterEach(() => {
    proxy.rules = [];
    proxy.log.length = 0;
  });

  async function bytesOf(res: Response): Promise<Uint8Array> {
    return new Uint8Array(await res.arrayBuffer());
  }

  it.for<[string, Rule[], string | undefined, number, [number, number] | null]>([
    ['503 once: retried, then served', [{ method: 'GET', fault: { kind: 'status', status: 503 }, times: 1 }], 'bytes=10-99', 206, [10, 100]],
    ['429 on every GET: 503 to the client', [{ method: 'GET', fault: { kind: 'status', status: 429 } }], 'bytes=10-99', 503, null],
    ['500 on HEAD: 502', [{ method: 'HEAD', fault: { kind: 'status', status: 500 } }], 'bytes=0-9,100-109', 502, null],
    ['a redirect: 502, not followed', [{ method: 'GET', fault: { kind: 'status', status: 301, headers: { location: 'http://elsewhere.test/x' } } }], 'bytes=0-9', 502, null],
    ['403: 502', [{ method: 'GET', fault: { kind: 'status', status: 403 } }, { method: 'HEAD', fault: { kind: 'status', status: 403 } }], undefined, 502, null],
    ['404: 404', [{ method: 'GET', fault: { kind: 'status', status: 404 } }, { method: 'HEAD', fault: { kind: 'status', status: 404 } }], 'bytes=0-9', 404, null],
    ['truncated with a rewritten Content-Length, once: refused before a byte, retried', [{ method: 'GET', fault: { kind: 'truncate', afterBytes: 50 }, times: 1 }], 'bytes=0-999', 206, [0, 1000]],
    ['truncated on every GET: 502, no short body', [{ method: 'GET', fault: { kind: 'truncate', afterBytes: 50 } }], 'bytes=0-999', 502, null],
    ['an origin that answers 200 to ranges: 502 for a range', [{ method: 'GET', fault: { kind: 'ignore-range' } }], 'bytes=0-999', 502, null],
    ['an origin that answers 200 to ranges: the whole object still works', [{ method: 'GET', fault: { kind: 'ignore-range' } }], undefined, 200, [0, 256 * 1024]],
    ['an origin that answers 200 to ranges: multi-range 502', [{ method: 'GET', fault: { kind: 'ignore-range' } }], 'bytes=0-9,5000-5009', 502, null],
    ['no answer in time: 504', [{ method: 'GET', fault: { kind: 'delay', ms: 2000 } }], 'bytes=0-9', 504, null],
  ])('%s', async ([, rules, range, status, slice]) => {
    put(V1);
    proxy.rules = rules;
    const res = await ask(range ? { range } : {});
    const body = await bytesOf(res);
    expect(res.status).toBe(status);
    if (slice) expect(firstDifference(body, V1.subarray(slice[0], slice[1]))).toBe(-1);
    else expect(body.length).toBeLessThan(200); // an error text, no object bytes
  });

  it("429 with Retry-After: the store waits as long as the origin asked", async () => {
    put(V1);
    proxy.rules = [{ method: 'GET', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 }];
    const started = Date.now();
    const res = await ask({ range: 'bytes=0-9' });
    expect(res.status).toBe(206);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('503 with a Retry-After past the retry budget: not retried', async () => {
    put(V1);
    proxy.rules = [{ method: 'GET', fault: { kind: 'status', status: 503, headers: { 'retry-after': '3600' } } }];
    const res = await ask({ range: 'bytes=0-9' });
    expect(res.status).toBe(503);
    expect(proxy.log.filter((r) => r.method === 'GET')).toHaveLength(1); // the one-call read, not retried
  });

  it('a connection reset mid-body: the transfer fails, every byte before it is right', async () => {
    put(V1);
    proxy.rules = [{ method: 'GET', fault: { kind: 'reset', afterBytes: 100_000 } }];
    const res = await ask({ range: 'bytes=1000-200999' });
    expect(res.status).toBe(206);
    const { bytes, error } = await readAcross(res.body!, () => {});
    expect(error).toBeDefined();
    expect(bytes.length).toBeLessThan(200_000);
    expect(firstDifference(bytes, V1.subarray(1000, 1000 + bytes.length))).toBe(-1);
  });

  it('every ranged GET carries If-Match with the strong ETag', async () => {
    put(V1);
    const res = await ask({ range: 'bytes=0-9,200000-200009' }); // too far apart to share a GET
    expect(res.status).toBe(206);
    await res.arrayBuffer();
    const gets = proxy.log.filter((r) => r.method === 'GET');
    expect(gets.length).toBe(2);
    for (const g of gets) {
      expect(g.headers['if-match']).toBe(res.headers.get('etag'));
      // (Node's fetch appends its own `identity` to a ranged request: a list of the one coding.)
      expect(String(g.headers['accept-encoding']).split(/\s*,\s*/)).toEqual(expect.arrayContaining(['identity']));
      expect(String(g.headers['accept-encoding'])).not.toMatch(/gzip|br|deflate/);
    }
  });

  /** The answer's bytes hold V2's copy of 5000-5009 and not V1's: one version, never spliced. */
  function expectOnlyV2(body: Uint8Array): void {
    const text = new TextDecoder('latin1').decode(body);
    expect(text).toContain(new TextDecoder('latin1').decode(V2.subarray(5000, 5010)));
    expect(text).not.toContain(new TextDecoder('latin1').decode(V1.subarray(5000, 5010)));
    expect(text).toContain(new TextDecoder('latin1').decode(V2.subarray(100_000, 100_010)));
  }
  const MULTI = 'bytes=5000-5009,100000-100009';

  it.for<[string, Rule['fault']]>([
    ['the object replaced between HEAD and GET: 412 to the guard, served from the new version', undefined],
    ['…and an origin that ignores If-Match: its new ETag gives it away', { kind: 'ignore-guard' }],
  ])('%s', async ([, fault]) => {
    put(V1);
    const etag1 = (await fetch(`${origin.nginx.url}/${key}`, { method: 'HEAD' })).headers.get('etag');
    // A multi-range request takes the long way: HEAD (V1), then the guarded GETs, the first of which finds V2.
    proxy.rules = [{ method: 'GET', ...(fault && { fault }), before: () => put(V2), times: 1 }];
    const res = await ask({ range: MULTI });
    const body = await bytesOf(res);
    expect(res.status).toBe(206);
    expect(res.headers.get('etag')).not.toBe(etag1);
    expectOnlyV2(body);
    expect(proxy.log.filter((r) => r.method === 'HEAD')).toHaveLength(2); // started over once, on fresh metadata
  });

  it('replaced while a multi-range body streams: the body errors, never two versions in one answer', async () => {
    put(V1);
    // Two GETs (the parts are far apart); the second finds V2 after the first part went out.
    const far = 'bytes=0-9999,200000-209999';
    let gets = 0;
    proxy.rules = [{ method: 'GET', fault: { kind: 'ignore-guard' }, before: () => void (++gets === 2 && put(V2)) }];
    const res = await createApp({
      store: httpStore({ url: new URL(`${proxy.url}/`) }),
      concurrency: 1,
      limits: { upstreamGap: 0 },
      log: false,
    }).request(pathOf(key), { headers: { range: far } });
    expect(res.status).toBe(206);
    const { bytes, error } = await readAcross(res.body!, () => {});
    expect(error).toBeDefined();
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).toContain(new TextDecoder('latin1').decode(V1.subarray(0, 9999)));
    expect(text).not.toContain(new TextDecoder('latin1').decode(V2.subarray(200000, 200100)));
  });

  describe('an origin with weak ETags only', () => {
    const weak: Rule[] = [
      { method: 'HEAD', fault: { kind: 'weak-etag' } },
      { method: 'GET', fault: { kind: 'weak-etag' } },
    ];

    it('announces the weak ETag as weak, and guards ranges with If-Unmodified-Since', async () => {
      put(V1);
      proxy.rules = [...weak];
      const res = await ask({ range: MULTI });
      expect(res.status).toBe(206);
      await res.arrayBuffer();
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^W\/"/);
      const get = proxy.log.filter((r) => r.method === 'GET').at(-1)!;
      expect(get.headers['if-match']).toBeUndefined();
      expect(get.headers['if-unmodified-since']).toBe(res.headers.get('last-modified'));

      // If-Range needs a strong validator (§13.1.5): with the weak tag, the whole object.
      const ifRange = await ask({ range: 'bytes=0-9', 'if-range': etag });
      expect(ifRange.status).toBe(200);
      expect((await bytesOf(ifRange)).length).toBe(V1.length);
      // If-None-Match compares weakly (§13.1.2): 304.
      expect((await ask({ 'if-none-match': etag })).status).toBe(304);
      // If-Match compares strongly (§13.1.1): 412.
      expect((await ask({ 'if-match': etag })).status).toBe(412);
    });

    it('replaced between HEAD and GET: the date guard fails (412), served from the new version', async () => {
      put(V1);
      proxy.rules = [{ method: 'GET', fault: { kind: 'weak-etag' }, before: () => put(V2), times: 1 }, ...weak];
      const res = await ask({ range: MULTI });
      expect(res.status).toBe(206);
      expectOnlyV2(await bytesOf(res));
    });
  });
});
