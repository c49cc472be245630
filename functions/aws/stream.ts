/**
 * AWS Lambda entry with response streaming (Function URL, invoke mode
 * RESPONSE_STREAM): the full app over S3. Settings as on Node (S3_BUCKET,
 * S3_REGION, KEY_PREFIX, the Range limits, the edge cache...), plus ORIGIN_SECRET; without
 * S3 keys the execution role's credentials are used.
 */
import { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import { streamOriginApp } from '../../lib/aws/stream-origin.ts';
import { plain } from '../../lib/answers.ts';
import { memoryCache } from '../../lib/cache/memory.ts';
import { ConfigError, readAccess, readCache, readKeyPrefix, readRetry, readS3Settings, readServerRangeOptions } from '../../lib/config.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';

function configure(env: NodeJS.ProcessEnv): Hono {
  try {
    const s3 = readS3Settings(env, { roleCredentials: true });
    const secret = env.ORIGIN_SECRET;
    // The edge cache lives as long as the container (CACHE_MAX_BYTES of its memory).
    const cache = readCache(env);
    return streamOriginApp({
      store: s3Store(createS3Client(s3), s3.bucket),
      keyPrefix: readKeyPrefix(env),
      ...readServerRangeOptions(env),
      ...readAccess(env),
      ...readRetry(env),
      ...(cache && { cache: memoryCache(cache) }),
      ...(secret !== undefined && secret !== '' && { originSecret: secret }),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Every request says what is wrong, as on Workers.
    console.error(`edge-ranges: ${err.message}`);
    return new Hono().all('*', () => plain(500, `edge-ranges is misconfigured: ${err.message}`));
  }
}

export const handler = streamHandle(configure(process.env));
