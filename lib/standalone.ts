/**
 * The app of a standalone server (the Node, Deno and Bun entries), from an
 * environment of settings: the S3 store (STORE=s3, the default) or an HTTP
 * origin (STORE=http), checked once before listening.
 * Runtime-neutral: each entry passes its own environment, prints the
 * one-line problem and exits 1, or listens.
 *
 * Settings: STORE; S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE, or ORIGIN_URL and
 * ORIGIN_HEADERS; KEY_PREFIX, HOST, PORT, the
 * Range limits MAX_RANGES, UPSTREAM_GAP, MAX_UPSTREAM_GETS,
 * UPSTREAM_CONCURRENCY, LOOKAHEAD_GETS, CORS_ORIGINS, SIGNING_SECRET,
 * STORE_ATTEMPTS, STORE_TIMEOUT_MS, SEND_TIMEOUT_MS and the edge cache CACHE,
 * SLICE_SIZE, METADATA_TTL, CACHE_MAX_BYTES, in the process's memory (see
 * lib/config.ts).
 */
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { memoryCache } from './cache/memory.ts';
import {
  ConfigError,
  readAccess,
  readCache,
  readHttpOriginSettings,
  readKeyPrefix,
  readListen,
  readRetry,
  readSendTimeout,
  readServerRangeOptions,
  readS3Settings,
  readStoreKind,
  type Env,
} from './config.ts';
import { checkOrigin, httpStore } from './store/http.ts';
import { checkBucket, createS3Client, s3Store, type BucketProblem, type GetObject, type NodeAgents, type S3Settings } from './store/s3.ts';
import type { ObjectStore } from './store/types.ts';

/** Where a standalone server listens unless HOST and PORT say otherwise. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 8080 } as const;

/** How an entry wants its S3 store made (default: all through the SDK client, its own pools). */
export interface StandaloneS3 {
  /** Connection pools for the SDK client (the Node entry shares them with its GETs). */
  readonly agents?: NodeAgents;
  /** The store's GetObject, from the client and bucket (the Node entry: functions/node/get-object.ts). */
  readonly getObject?: (client: S3Client, bucket: string) => GetObject;
}

export type Standalone =
  | {
      readonly ok: true;
      readonly app: Hono;
      readonly listen: { host: string; port: number };
      /** SEND_TIMEOUT_MS: the server's socket inactivity timeout, for an entry that can set one. */
      readonly sendTimeoutMs: number;
    }
  /** `problem` is one line, naming the setting to look at (no prefix, no newline). */
  | { readonly ok: false; readonly problem: string };

/**
 * Reads the settings and checks the store once (at most `bucketTimeoutMs`,
 * default 5000): S3 with one HeadBucket, an HTTP origin with one HEAD of
 * ORIGIN_URL (any answer will do). A wrong key, bucket or origin stops the
 * server here, with one line, rather than as a 502 on every request. Never
 * throws for bad settings or an unreadable store; rethrows anything else.
 */
export async function standaloneApp(env: Env, bucketTimeoutMs?: number, s3Options: StandaloneS3 = {}): Promise<Standalone> {
  let configured: ReturnType<typeof configure>;
  try {
    configured = configure(env, s3Options);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problem: err.message };
    throw err;
  }
  const { check, listen, sendTimeoutMs, app } = configured;
  const problem = await check(bucketTimeoutMs);
  return problem ? { ok: false, problem } : { ok: true, app, listen, sendTimeoutMs };
}

/** The store, and its one start-up check: null, or the line saying what is wrong. */
function storeFor(env: Env, s3Options: StandaloneS3): { store: ObjectStore; check: (timeoutMs?: number) => Promise<string | null> } {
  const kind = readStoreKind(env, 's3');
  if (kind === 'r2') throw new ConfigError('STORE is malformed: "r2" is a Workers binding; here use "s3" or "http"');
  if (kind === 'http') {
    const origin = readHttpOriginSettings(env);
    return {
      store: httpStore(origin),
      check: async (timeoutMs) => {
        const problem = await checkOrigin(origin, timeoutMs);
        // The origin only: ORIGIN_URL's path and query may hold a signature.
        return problem && `cannot reach ORIGIN_URL ${origin.url.origin}: ${problem}`;
      },
    };
  }
  const s3 = readS3Settings(env);
  const client = createS3Client(s3, s3Options.agents);
  const getObject = s3Options.getObject?.(client, s3.bucket);
  return {
    store: s3Store(client, s3.bucket, getObject ? { getObject } : {}),
    check: async (timeoutMs) => {
      const problem = await checkBucket(client, s3.bucket, timeoutMs);
      return problem && explain(problem, s3);
    },
  };
}

/** The settings read and the app built; throws ConfigError for a missing or malformed setting. */
function configure(env: Env, s3Options: StandaloneS3) {
  const { store, check } = storeFor(env, s3Options);
  const listen = readListen(env, DEFAULT_LISTEN);
  const sendTimeoutMs = readSendTimeout(env);
  const cache = readCache(env);
  const app = createApp({
    store,
    keyPrefix: readKeyPrefix(env),
    ...readServerRangeOptions(env),
    ...readAccess(env),
    ...readRetry(env),
    ...(cache && { cache: memoryCache(cache) }),
  });
  return { check, listen, sendTimeoutMs, app };
}

/** One line for a bucket that cannot be read, naming the settings to look at. */
function explain(problem: BucketProblem, s3: S3Settings): string {
  const where = `bucket "${s3.bucket}" at ${s3.endpoint ?? 'AWS S3'}`;
  switch (problem.kind) {
    case 'credentials-refused':
      return `S3 refused the credentials for ${where}: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (${problem.detail})`;
    case 'no-such-bucket':
      return `S3 has no ${where}: check S3_BUCKET (and S3_REGION, S3_FORCE_PATH_STYLE) (${problem.detail})`;
    case 'unreachable':
      return `cannot reach S3_ENDPOINT ${s3.endpoint ?? '(AWS S3)'}: ${problem.detail}`;
    case 'failed':
      return `S3 failed to answer for ${where}: ${problem.detail}`;
  }
}
