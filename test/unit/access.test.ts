/** Signed URLs and CORS, through the app. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../lib/app.ts';
import { readAccess } from '../../lib/config.ts';
import { checkSignature, hmacKey, signPath } from '../../lib/signing.ts';
import { MemoryStore } from '../support/memory-store.ts';

const SECRET = 'a-long-enough-test-secret';
const now = () => Math.floor(Date.now() / 1000);

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
  store.objects.set('dir/a.bin', { bytes: new Uint8Array(100), etag: '"v1"' });
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

describe('signed URLs', () => {
  const app = () => createApp({ store, signingSecret: SECRET, log: false });
  const signed = async (path: string, expires: number, secret = SECRET) =>
    `${path}?${await signPath(await hmacKey(secret), path, expires)}`;

  it('serves a URL signed for its path until it expires', async () => {
    const res = await app().request(await signed('/dir/a.bin', now() + 60), { headers: { range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
  });

  it.for<[string, () => Promise<string>, string]>([
    ['unsigned', async () => '/dir/a.bin', 'this URL must be signed'],
    ['expired', () => signed('/dir/a.bin', now() - 1), 'signature expired'],
    ['signed with another secret', () => signed('/dir/a.bin', now() + 60, 'another-secret-of-length'), 'bad signature'],
    ['signed for another path', async () => (await signed('/dir/b.bin', now() + 60)).replace('/dir/b.bin', '/dir/a.bin'), 'bad signature'],
    ['expiry changed', async () => (await signed('/dir/a.bin', now() + 60)).replace(/expires=\d+/, `expires=${now() + 9999}`), 'bad signature'],
    ['signature cut short', async () => (await signed('/dir/a.bin', now() + 60)).slice(0, -4), 'bad signature'],
    ['signature not base64url', async () => `/dir/a.bin?expires=${now() + 60}&signature=@@@`, 'malformed signature'],
    ['expiry not a number', async () => '/dir/a.bin?expires=soon&signature=abc', 'malformed expiry'],
  ])('%s: 403', async ([, url, reason]) => {
    const res = await app().request(await url());
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(`Forbidden: ${reason}\n`);
    expect(store.calls).toEqual([]);
  });

  it('checks the path as the URL carries it', async () => {
    const key = await hmacKey(SECRET);
    const query = await signPath(key, '/a%20b.bin', now() + 60);
    expect(await checkSignature(key, new URL(`http://x/a%20b.bin?${query}`), now())).toEqual({ ok: true });
    expect((await checkSignature(key, new URL(`http://x/a b.bin?${query}`), now())).ok).toBe(true); // the URL parser encodes it
  });
});

describe('CORS', () => {
  const app = (corsOrigins: '*' | string[]) => createApp({ store, corsOrigins, log: false });

  it('lets any page read ranges and their headers with *', async () => {
    const res = await app('*').request('/dir/a.bin', { headers: { origin: 'https://player.example', range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')?.split(',')).toEqual(
      expect.arrayContaining(['Content-Range', 'Accept-Ranges', 'Content-Length', 'ETag']),
    );
  });

  it('answers the preflight of a multi-range request', async () => {
    const res = await app('*').request('/dir/a.bin', {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range, if-range' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,OPTIONS');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('range');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(store.calls).toEqual([]);
  });

  it.for<[string, string | null]>([
    ['https://a.example', 'https://a.example'],
    ['https://b.example', 'https://b.example'],
    ['https://evil.example', null],
  ])('with a list, origin %s gets %s', async ([origin, allowed]) => {
    const res = await app(['https://a.example', 'https://b.example']).request('/dir/a.bin', { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('is off unless configured', async () => {
    const res = await createApp({ store, log: false }).request('/dir/a.bin', { headers: { origin: 'https://x.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('readAccess', () => {
  it.for<[Record<string, string>, ReturnType<typeof readAccess>]>([
    [{}, { corsOrigins: '*' }],
    [{ CORS_ORIGINS: 'off' }, {}],
    [{ CORS_ORIGINS: 'https://a.example, http://b.example:8080' }, { corsOrigins: ['https://a.example', 'http://b.example:8080'] }],
    [{ SIGNING_SECRET: 'x'.repeat(16) }, { corsOrigins: '*', signingSecret: 'x'.repeat(16) }],
  ])('%j', ([env, want]) => {
    expect(readAccess(env)).toEqual(want);
  });

  it.for<[Record<string, string>, string]>([
    [{ SIGNING_SECRET: 'short' }, 'SIGNING_SECRET is malformed: use at least 16 characters'],
    [{ CORS_ORIGINS: 'a.example' }, 'CORS_ORIGINS is malformed'],
    [{ CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS is malformed'],
  ])('refuses %j', ([env, message]) => {
    expect(() => readAccess(env)).toThrow(message);
  });
});
