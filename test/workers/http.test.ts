/**
 * The HTTP table inside workerd: the Workers entry over R2 (the binding
 * from wrangler.toml) with the edge cache off, on (the Cache API, small
 * slices; asked cold, then warm), and over a cache that does nothing (as on
 * `*.workers.dev`); and the same app over S3 (radosgw) so the SDK's browser
 * build is exercised where it really runs.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../functions/cloudflare/index.ts';
import { createApp } from '../../lib/app.ts';
import { MetadataCache } from '../../lib/cache/metadata.ts';
import { cacheApiSlices } from '../../lib/cache/workers.ts';
import { r2Store } from '../../lib/store/r2.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { HttpMetadata } from '../../lib/store/types.ts';
import { FIXTURES, type Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase, type HttpCase } from '../support/http-cases.ts';
import { seedS3, s3SettingsFrom } from '../support/s3-seed.ts';

const BASE = 'http://edge-ranges.test';

/** The Cache API as on `*.workers.dev` and in the dashboard preview: every operation does nothing. */
const NO_OP_CACHE = {
  match: async () => undefined,
  put: async () => {},
  delete: async () => false,
};

type Fetch = (request: Request) => Promise<Response>;

/** The entry with these settings (one env object: one app, one cache, as in one isolate). */
function entry(settings: Record<string, string>): Fetch {
  const bindings = { ...env, ...settings } as Parameters<typeof worker.fetch>[1];
  return async (request) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], bindings, ctx);
    // Slices are stored with ctx.waitUntil: the next case sees them.
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(res.status === 304 || res.status === 204 ? null : body, res);
  };
}

const MODES: ReadonlyArray<{ mode: string; fetch: Fetch; passes: string[] }> = [
  { mode: 'CACHE=off', fetch: entry({ CACHE: 'off' }), passes: ['once'] },
  { mode: 'CACHE=on (Cache API), SLICE_SIZE=1024', fetch: entry({ CACHE: 'on', SLICE_SIZE: '1024' }), passes: ['cold', 'warm'] },
  {
    mode: 'a cache that does nothing (workers.dev)',
    fetch: async (request) =>
      createApp({
        store: r2Store(env.BUCKET),
        cache: { slices: cacheApiSlices(NO_OP_CACHE), metadata: new MetadataCache(10), sliceSize: 1024 },
        log: false,
      }).fetch(request),
    passes: ['once', 'again'],
  },
];

describe('Workers entry over R2', () => {
  const validators = new Map<string, Validators>();
  beforeAll(async () => {
    for (const [name, f] of Object.entries(FIXTURES)) {
      const put = await env.BUCKET.put(f.key, f.bytes, { httpMetadata: r2Metadata(f.http) });
      expect(put).not.toBeNull();
      validators.set(name, { etag: put!.httpEtag, lastModified: put!.uploaded });
    }
  });

  describe.for(MODES)('$mode', ({ fetch, passes }) => {
    describe.for(passes)('%s', () => {
      it.for(HTTP_CASES)('$name', async (c: HttpCase) => {
        const v = validators.get(c.fixture ?? 'data')!;
        await expectCase(c, await fetch(caseRequest(c, BASE, v)), v);
      });
    });
  });
});

/** R2's names for the fixture's metadata, leaving out what is not set. */
function r2Metadata(http: HttpMetadata): R2HTTPMetadata {
  const { expires, ...rest } = http;
  const fields = { ...rest, cacheExpiry: expires };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as R2HTTPMetadata;
}

describe('the app over S3 (radosgw) inside workerd', () => {
  const settings = s3SettingsFrom(env);
  const app = createApp({ store: s3Store(createS3Client(settings), settings.bucket) });
  let validators: Map<string, Validators>;
  beforeAll(async () => {
    validators = await seedS3(createS3Client(settings), settings.bucket);
  });

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await app.fetch(caseRequest(c, BASE, v)), v);
  });
});
