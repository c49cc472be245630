/** The README's mounting example (example-app.ts), run inside workerd over the R2 binding. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import app from './example-app.ts';

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
const request = (path: string, init?: RequestInit) => app.request(path, init, env);

describe('edge-ranges mounted under /media/* in another Hono app', () => {
  beforeAll(async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {}); // the per-request log line
    await env.BUCKET.put('public/clips/a.bin', bytes, { httpMetadata: { contentType: 'application/octet-stream' } });
    await env.BUCKET.put('private.txt', 'not for the media route');
  });

  it("keeps the app's own routes", async () => {
    expect(await (await request('/')).text()).toBe('Welcome to my app\n');
    expect(await (await request('/api/health')).json()).toEqual({ ok: true });
    expect((await request('/elsewhere')).status).toBe(404);
  });

  it('serves a range of public/<path> for /media/<path>', async () => {
    const res = await request('/media/clips/a.bin', { headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(10, 20));
  });

  it('answers several ranges with multipart/byteranges', async () => {
    const res = await request('/media/clips/a.bin', { headers: { range: 'bytes=0-9, 500-509' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    const body = await res.text();
    expect(body).toContain('Content-Range: bytes 0-9/1000');
    expect(body).toContain('Content-Range: bytes 500-509/1000');
  });

  it('reads nothing outside the prefix, and refuses other methods', async () => {
    expect((await request('/media/private.txt')).status).toBe(404);
    expect((await request('/media/..%2fprivate.txt')).status).toBe(400);
    expect((await request('/media/no-such.bin', { method: 'HEAD' })).status).toBe(404);
    const post = await request('/media/clips/a.bin', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});
