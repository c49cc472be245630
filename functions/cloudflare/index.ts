/**
 * Workers entry: the app over the R2 binding BUCKET, over S3 when STORE=s3
 * (S3_* vars and secrets), or over an HTTP origin when STORE=http
 * (ORIGIN_URL, ORIGIN_HEADERS as a secret). KEY_PREFIX confines keys; MAX_RANGES,
 * UPSTREAM_GAP, MAX_UPSTREAM_GETS and UPSTREAM_CONCURRENCY tune multi-range;
 * CACHE, SLICE_SIZE and METADATA_TTL the edge cache (slices in the Cache API).
 */
import type { Hono } from 'hono';
import { createApp } from '../../lib/app.ts';
import { workersCache } from '../../lib/cache/workers.ts';
import {
  ConfigError,
  readAccess,
  readCache,
  readHttpOriginSettings,
  readKeyPrefix,
  readRangeOptions,
  readRetry,
  readS3Settings,
  readStoreKind,
} from '../../lib/config.ts';
import { httpStore } from '../../lib/store/http.ts';
import { r2Store } from '../../lib/store/r2.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import type { ObjectStore } from '../../lib/store/types.ts';

export interface Bindings {
  BUCKET?: R2Bucket;
  STORE?: string;
  KEY_PREFIX?: string;
}

function storeFor(env: Bindings): ObjectStore {
  const kind = readStoreKind(env);
  if (kind === 'http') return httpStore(readHttpOriginSettings(env));
  if (kind === 's3') {
    const s3 = readS3Settings(env);
    return s3Store(createS3Client(s3), s3.bucket);
  }
  if (!env.BUCKET) throw new ConfigError('BUCKET is missing: bind an R2 bucket as BUCKET in wrangler.toml');
  return r2Store(env.BUCKET);
}

// One app per env object (one per isolate in practice), so the S3 client and
// its connections are reused across requests.
const apps = new WeakMap<object, Hono | ConfigError>();

function appFor(env: Bindings): Hono | ConfigError {
  let app = apps.get(env);
  if (app === undefined) {
    try {
      const cache = readCache(env);
      app = createApp({
        store: storeFor(env),
        keyPrefix: readKeyPrefix(env),
        ...readRangeOptions(env),
        ...readAccess(env),
        ...readRetry(env),
        ...(cache && { cache: workersCache(cache) }),
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      app = err;
    }
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request, env, ctx) {
    const app = appFor(env);
    if (app instanceof ConfigError) {
      // Workers have no start-up to stop: every request says what is wrong.
      console.error(`edge-ranges: ${app.message}`);
      return new Response(`edge-ranges is misconfigured: ${app.message}\n`, {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Bindings>;
