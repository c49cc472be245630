/**
 * Where workerd differs from Node: WebCrypto for signed URLs, timers for
 * store timeouts, and the Workers entry's defaults (CORS on, Server-Timing).
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';
import { createApp } from '../../lib/app.ts';
import { hmacKey, signPath } from '../../lib/signing.ts';
import { r2Store } from '../../lib/store/r2.ts';
import { StoreError, type ObjectStore, type Version } from '../../lib/store/types.ts';

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const KEY = 'access/a.bin';
const BASE = 'http://edge-ranges.test';
/** The entry's fetch with a plain Request and any env. */
const fetchEntry = (req: Request, bindings: object) =>
  worker.fetch(req as Parameters<typeof worker.fetch>[0], bindings as Parameters<typeof worker.fetch>[1], ctx);

beforeAll(async () => {
  await env.BUCKET.put(KEY, new Uint8Array(1000).fill(5));
});

describe('Workers entry: signed URLs (SIGNING_SECRET)', () => {
  const secret = 'a-secret-for-workerd-tests';
  const entry = (url: string, init: RequestInit = {}) =>
    fetchEntry(new Request(`${BASE}${url}`, init), { ...env, SIGNING_SECRET: secret });

  it('refuses an unsigned URL with 403', async () => {
    const res = await entry(`/${KEY}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('Forbidden: this URL must be signed\n');
  });

  it('serves a signed one, and refuses it expired', async () => {
    const key = await hmacKey(secret);
    const now = Math.floor(Date.now() / 1000);
    const good = await entry(`/${KEY}?${await signPath(key, `/${KEY}`, now + 60)}`, { headers: { range: 'bytes=0-9' } });
    expect(good.status).toBe(206);
    expect((await good.arrayBuffer()).byteLength).toBe(10);
    const old = await entry(`/${KEY}?${await signPath(key, `/${KEY}`, now - 60)}`);
    expect(old.status).toBe(403);
    expect(await old.text()).toBe('Forbidden: signature expired\n');
  });
});

describe('Workers entry defaults', () => {
  it('CORS for any origin, with the range headers exposed, and Server-Timing', async () => {
    const res = await fetchEntry(new Request(`${BASE}/${KEY}`, { headers: { origin: 'https://p.example', range: 'bytes=0-0' } }), env);
    expect(res.status).toBe(206);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('Content-Range');
    expect(res.headers.get('server-timing')).toMatch(/^store;dur=\d+/);
  });

  it('answers a preflight for a multi-range request', async () => {
    const res = await fetchEntry(
      new Request(`${BASE}/${KEY}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://p.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
      }),
      env,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toContain('Range');
  });
});

describe('store trouble inside workerd', () => {
  /** R2, with the first `n` GETs failing, or every GET hanging. */
  function troubled(mode: { failFirst: number } | 'hang'): ObjectStore & { gets: number } {
    const r2 = r2Store(env.BUCKET);
    const store = {
      gets: 0,
      head: (key: string) => r2.head(key),
      get: (key: string, version: Version, span?: { offset: number; length: number }) => {
        store.gets++;
        if (mode === 'hang') return new Promise<never>(() => {});
        if (store.gets <= mode.failFirst) return Promise.reject(new StoreError('unavailable', 'injected'));
        return r2.get(key, version, span);
      },
    };
    return store;
  }
  const retry = { attempts: 3, baseMs: 2, maxMs: 5, timeoutMs: 100, budgetMs: 2000 };

  it('a failing GET is retried', async () => {
    const store = troubled({ failFirst: 2 });
    const res = await createApp({ store, retry, log: false }).request(`/${KEY}`, { headers: { range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect(store.gets).toBe(3);
  });

  it('a GET that never answers times out: 504', async () => {
    const store = troubled('hang');
    const res = await createApp({ store, retry, log: false }).request(`/${KEY}`);
    expect(res.status).toBe(504);
    expect(store.gets).toBe(3);
  });
});

describe('client aborts inside workerd', () => {
  it('cancelling a multi-range body closes every upstream body over R2', async () => {
    const big = new Uint8Array(8 * 1024 * 1024).fill(9);
    await env.BUCKET.put('access/big.bin', big);
    const r2 = r2Store(env.BUCKET);
    let open = 0;
    let opened = 0;
    // R2, with each body watched: wrapped in a stream that knows when it is done or cancelled.
    const store: ObjectStore = {
      head: (key) => r2.head(key),
      get: async (key, version, span) => {
        const reader = (await r2.get(key, version, span)).getReader();
        open++;
        opened++;
        let closed = false;
        const close = () => {
          if (!closed) open--;
          closed = true;
        };
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) {
              close();
              controller.close();
            } else controller.enqueue(value);
          },
          async cancel(reason) {
            close();
            await reader.cancel(reason);
          },
        });
      },
    };
    const range = 'bytes=' + Array.from({ length: 8 }, (_, i) => `${i * 1048576}-${i * 1048576 + 524287}`).join(',');
    const res = await createApp({ store, concurrency: 4, limits: { upstreamGap: 0 }, log: false }).request('/access/big.bin', {
      headers: { range },
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel('client gone');
    await vi.waitFor(() => expect(open).toBe(0));
    expect(opened).toBeLessThanOrEqual(4);
  });
});
