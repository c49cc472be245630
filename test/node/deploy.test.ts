/**
 * The Workers deploy, offline: `wrangler deploy --dry-run` bundles the entry
 * exactly as a real deploy would upload it, and the bundle stays under the
 * Workers size limits (measured after gzip, as Cloudflare counts it).
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWrangler } from '../../infra/local/wrangler.ts';

const MB = 1_000_000;
/** developers.cloudflare.com/workers/platform/limits: Worker size after compression. */
const FREE_PLAN_GZIP = 3 * MB;
const PAID_PLAN_GZIP = 10 * MB;
/** Same page: before compression. */
const UNCOMPRESSED = 64 * 1024 * 1024;

describe('wrangler deploy --dry-run', () => {
  let out: string;
  let bundle: Buffer;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'edge-ranges-deploy-'));
    await runWrangler(['deploy', '--dry-run', '--outdir', out]);
    bundle = readFileSync(join(out, 'index.js'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes one Worker module (and its source map)', () => {
    expect(readdirSync(out).filter((f) => f.endsWith('.js'))).toEqual(['index.js']);
    expect(bundle.toString('utf8')).toMatch(/export\s*\{[^}]*\bdefault\b/);
  });

  it('fits the free plan (3 MB gzipped), so also the paid one (10 MB)', () => {
    const raw = bundle.length;
    const gzipped = gzipSync(bundle).length;
    console.log(`worker bundle: ${(raw / 1024).toFixed(1)} KiB raw, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(gzipped).toBeLessThan(FREE_PLAN_GZIP);
    expect(gzipped).toBeLessThan(PAID_PLAN_GZIP);
    expect(raw).toBeLessThan(UNCOMPRESSED);
  });
});
