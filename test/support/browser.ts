/**
 * A real browser as a client: Debian's chromium driven by playwright-core,
 * a page served from its own origin (test/browser/player.html), and a short
 * MP4 made with ffmpeg. A missing chromium or ffmpeg fails, never skips.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { ROOT, run } from './processes.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile in a temporary directory. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash infra/local/deps.sh\` as root`);
  const profile = mkdtempSync(join(tmpdir(), 'edge-ranges-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A 60 s, 320x240, 25 fps H.264 MP4 at 1.5 Mbit/s (~11 MB; moov first, a
 * keyframe every second). Noise keeps the bitrate up, so the middle lies far
 * beyond what Chromium buffers ahead (about 10 s) and a seek there needs a
 * new range.
 */
export async function makeMp4(file: string): Promise<void> {
  const { code, stderr } = await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc=duration=60:size=320x240:rate=25',
    '-vf', 'noise=alls=20:allf=t',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k',
    '-pix_fmt', 'yuv420p', '-g', '25', '-movflags', '+faststart',
    file,
  ]);
  if (code !== 0) throw new Error(`ffmpeg failed (${code}):\n${stderr}`);
}

export interface PageServer {
  /** The page's origin, e.g. http://127.0.0.1:40123. */
  readonly origin: string;
  /** The player page with `src` as the video's source. */
  playerUrl(src: string): string;
  close(): Promise<void>;
}

/** Serves test/browser/ on 127.0.0.1 at a free port: an origin other than the function's. */
export async function startPageServer(): Promise<PageServer> {
  const player = readFileSync(join(ROOT, 'test/browser/player.html'));
  const server: HttpServer = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === '/player.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(player);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    playerUrl: (src) => `${origin}/player.html?src=${encodeURIComponent(src)}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
