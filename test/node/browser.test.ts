/**
 * Chromium as the client: a page on another origin plays an MP4 served by
 * the function, seeks to the middle, and gets there through 206 range
 * requests. Against the Node entry over radosgw and the Workers entry as
 * `npm start` runs it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putLocalObject } from '../../infra/local/wrangler.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { launchChromium, makeMp4, startPageServer, type Browser, type PageServer } from '../support/browser.ts';
import { freePort, startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const KEY = 'browser/testsrc.mp4';

interface Target {
  readonly name: string;
  start(work: string, mp4: string): Promise<Server>;
}

const TARGETS: Target[] = [
  {
    name: 'Node entry over radosgw',
    async start(_work, mp4) {
      const settings = s3SettingsFrom(process.env);
      await createS3Client(settings).send(
        new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: readFileSync(mp4), ContentType: 'video/mp4' }),
      );
      return startTs('functions/node/index.ts', { HOST: '127.0.0.1', PORT: '0' }, /listening on (http:\S+)/);
    },
  },
  {
    name: 'Workers entry (npm start) over local R2',
    async start(work, mp4) {
      const persistTo = join(work, 'wrangler-state');
      await putLocalObject(mp4, KEY, persistTo, { contentType: 'video/mp4' });
      const port = await freePort();
      return startTs('infra/local/dev.ts', { PORT: String(port), PERSIST_TO: persistTo, DEMO: 'off' }, /serving local R2 at (http:\S+)/);
    },
  },
];

let work: string;
let mp4: string;
let size: number;
let browser: Browser;
let pages: PageServer;
/** Both entries start at once, while chromium launches. */
const servers = new Map<string, Promise<Server>>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edge-ranges-browser-'));
  mp4 = join(work, 'testsrc.mp4');
  await makeMp4(mp4);
  size = statSync(mp4).size;
  for (const t of TARGETS) {
    const started = t.start(work, mp4);
    started.catch(() => {}); // reported by the test that awaits it
    servers.set(t.name, started);
  }
  [browser, pages] = await Promise.all([launchChromium(), startPageServer()]);
});
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  for (const started of servers.values()) await (await started.catch(() => undefined))?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Seen {
  readonly status: number;
  readonly range: string | undefined;
  readonly contentRange: string | undefined;
}

describe.each(TARGETS)('$name', (target) => {
  let server: Server;

  beforeAll(async () => {
    server = await servers.get(target.name)!;
  });

  it('chromium plays the MP4, seeks to the middle, and gets there by 206 ranges', async () => {
    expect(size).toBeGreaterThan(8 * 1024 * 1024);
    const src = `${server.url}/${KEY}`;
    expect(new URL(src).origin).not.toBe(pages.origin);
    const page = await browser.context.newPage();
    // Chromium's HTTP cache would answer parts of later ranges itself (and
    // narrow what it asks for): every range must reach the function.
    await (await browser.context.newCDPSession(page)).send('Network.setCacheDisabled', { cacheDisabled: true });
    const seen: Seen[] = [];
    page.on('response', (res) => {
      if (res.url() !== src) return;
      // The Range the media loader asked for. (allHeaders() can report the
      // network layer's narrower request for an overlapping load instead.)
      const range = res.request().headers()['range'];
      seen.push({ status: res.status(), range, contentRange: res.headers()['content-range'] });
    });
    try {
      await page.goto(pages.playerUrl(src));
      const video = page.locator('#video');
      // HAVE_METADATA: the moov box came in, the duration is known.
      await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).readyState >= 1);
      const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
      expect(duration).toBeCloseTo(60, 0);

      await video.evaluate((v: HTMLVideoElement) => v.play());
      await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).currentTime > 0.2);

      const middle = duration / 2;
      await video.evaluate(
        (v: HTMLVideoElement, t: number) =>
          new Promise<void>((resolve) => {
            v.addEventListener('seeked', () => resolve(), { once: true });
            v.currentTime = t;
          }),
        middle,
      );
      // Playing on from the seek point: HAVE_FUTURE_DATA or better, time moving past it.
      await page.waitForFunction(
        (t: number) => {
          const v = document.getElementById('video') as HTMLVideoElement;
          return v.readyState >= 3 && v.currentTime > t + 0.2;
        },
        middle,
      );
      const state = await video.evaluate((v: HTMLVideoElement) => ({
        currentTime: v.currentTime,
        readyState: v.readyState,
        error: v.error?.code ?? null,
        paused: v.paused,
      }));
      console.log(`${target.name}: ${size} B video, state ${JSON.stringify(state)}, responses ${JSON.stringify(seen)}`);
      expect(state.error).toBeNull();
      expect(state.paused).toBe(false);
      expect(state.currentTime).toBeGreaterThan(middle);
      expect(state.currentTime).toBeLessThan(duration);

      // Every answer for the video was a 206 for exactly the range asked...
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const s of seen) {
        const [, first, last] = /^bytes=(\d+)-(\d*)$/.exec(s.range ?? '') ?? [];
        expect(first, `Range ${s.range}`).toBeDefined();
        const end = last ? Math.min(Number(last), size - 1) : size - 1;
        expect(s).toEqual({ status: 206, range: s.range, contentRange: `bytes ${first}-${end}/${size}` });
      }
      // ...and the seek was served by a range that starts well into the file.
      const starts = seen.map((s) => Number(/^bytes (\d+)-/.exec(s.contentRange ?? '')?.[1]));
      expect(Math.max(...starts)).toBeGreaterThan(size * 0.3);
    } finally {
      await page.close();
    }
  });

  // CORS (CORS_ORIGINS, default *): a script on the page's origin reads the
  // range headers. One range is CORS-safelisted; two need a preflight.
  it('fetch() from the page (another origin) reads Content-Range through CORS', async () => {
    const src = `${server.url}/${KEY}`;
    const page = await browser.context.newPage();
    try {
      await page.goto(pages.playerUrl(src));
      const got = await page.evaluate(async (url: string) => {
        const one = await fetch(url, { headers: { range: 'bytes=100-199' } });
        const two = await fetch(url, { headers: { range: 'bytes=0-9, 1000-1009' } });
        const pick = async (r: Response) => ({
          status: r.status,
          contentRange: r.headers.get('content-range'),
          contentLength: r.headers.get('content-length'),
          acceptRanges: r.headers.get('accept-ranges'),
          etag: r.headers.get('etag'),
          contentType: r.headers.get('content-type'),
          bytes: (await r.arrayBuffer()).byteLength,
        });
        return { one: await pick(one), two: await pick(two) };
      }, src);
      expect(got.one).toEqual({
        status: 206,
        contentRange: `bytes 100-199/${size}`,
        contentLength: '100',
        acceptRanges: 'bytes',
        etag: expect.stringMatching(/^"[^"]+"$/),
        contentType: 'video/mp4',
        bytes: 100,
      });
      expect(got.two).toMatchObject({ status: 206, contentRange: null, contentType: expect.stringMatching(/^multipart\/byteranges; boundary=/) });
      expect(got.two.bytes).toBe(Number(got.two.contentLength));
    } finally {
      await page.close();
    }
  });
});

describe('CORS_ORIGINS (Node entry)', () => {
  // The page's origin is listed, or not: the browser lets the script read
  // the answer, or refuses it.
  it.for<[string, (page: string) => string, boolean]>([
    ['the page origin listed', (page) => `https://example.com,${page}`, true],
    ['another origin only', () => 'https://example.com', false],
  ])('%s', async ([, origins, readable]) => {
    const server = await startTs(
      'functions/node/index.ts',
      { HOST: '127.0.0.1', PORT: '0', CORS_ORIGINS: origins(pages.origin) },
      /listening on (http:\S+)/,
    );
    const page = await browser.context.newPage();
    try {
      await page.goto(pages.playerUrl('about:blank'));
      const got = await page.evaluate(async (url: string) => {
        try {
          const r = await fetch(url, { headers: { range: 'bytes=0-9, 20-29' } });
          return { status: r.status, contentType: r.headers.get('content-type') };
        } catch (err) {
          return { failed: String(err) };
        }
      }, `${server.url}/${KEY}`);
      expect(got).toEqual(
        readable
          ? { status: 206, contentType: expect.stringMatching(/^multipart\/byteranges; boundary=/) }
          : { failed: 'TypeError: Failed to fetch' },
      );
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
