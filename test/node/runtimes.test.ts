/**
 * Why two runtimes are served the way they are, checked against the pinned
 * versions: when one of these fails, the runtime changed, and the choice
 * in the README ("Other runtimes") should be revisited.
 * - Bun: `Bun.serve` drops a handler's Content-Length for a streamed body
 *   (oven-sh/bun#10507), so the Bun entry runs node:http instead.
 * - Vercel Edge: its local runtime (`edge-runtime`) deletes Content-Length
 *   from every response and ends a body that failed midway as if complete,
 *   so there is no Vercel Edge entry.
 */
import { createServer } from 'node:http';
import { EdgeRuntime, createHandler } from 'edge-runtime';
import { describe, expect, it } from 'vitest';
import { runtimeBinary } from '../../infra/local/runtimes.ts';
import { LISTENING } from '../support/entries.ts';
import { run, startCommand } from '../support/processes.ts';

/** A handler whose 10,000-byte body is streamed, in 10 chunks with a pause between, under a Content-Length. */
const STREAMED = `
  const streamed = (fail) => {
    let n = 0;
    const body = new ReadableStream({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 2));
        if (fail && n === 5) return c.error(new Error('upstream failed'));
        if (n++ < 10) c.enqueue(new Uint8Array(1000));
        else c.close();
      },
    });
    return new Response(body, { headers: { 'content-length': '10000' } });
  };
`;

describe('Bun.serve', () => {
  it('drops the Content-Length of a streamed body and sends it chunked (oven-sh/bun#10507)', async () => {
    const script = `${STREAMED}
      const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => streamed(false) });
      console.log('listening on http://127.0.0.1:' + s.port);`;
    const server = await startCommand(runtimeBinary('bun'), ['--no-env-file', '-e', script], {}, LISTENING);
    try {
      const { code, stdout } = await run('curl', ['-sS', '-D', '-', '-o', '/dev/null', server.url]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^transfer-encoding: chunked\r$/im);
      expect(stdout).not.toMatch(/^content-length:/im);
    } finally {
      await server.stop();
    }
  });
});

describe('edge-runtime (Vercel Edge, locally)', () => {
  const runtime = new EdgeRuntime({
    initialCode: `${STREAMED}
      addEventListener('fetch', (e) => e.respondWith(streamed(new URL(e.request.url).pathname === '/fail')));`,
  });

  it('deletes Content-Length from the response', async () => {
    const res = await runtime.dispatchFetch('http://localhost/');
    expect(res.headers.get('content-length')).toBeNull();
    expect((await res.arrayBuffer()).byteLength).toBe(10_000);
  });

  it('ends a body that failed midway as if it were complete', async () => {
    // What its runServer does (createHandler on a node:http server), keeping the
    // handler's rejection, which runServer leaves unhandled.
    const { handler } = createHandler({ runtime });
    const failures: unknown[] = [];
    const server = createServer((req, res) => void handler(req, res).catch((err: unknown) => failures.push(err)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const { code, stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://127.0.0.1:${port}/fail`]);
      // curl sees a clean end (exit 0) after 5,000 of the 10,000 bytes.
      expect(code).toBe(0);
      expect(stdout).toBe('200 5000');
      expect(String(failures[0])).toContain('upstream failed');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('has no FixedLengthStream', () => {
    expect(runtime.evaluate('typeof FixedLengthStream')).toBe('undefined');
  });
});
