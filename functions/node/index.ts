/**
 * Node entry: the app over S3, listening on HOST:PORT.
 * Settings: S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE, KEY_PREFIX, HOST, PORT, and the
 * Range limits MAX_RANGES, UPSTREAM_GAP, MAX_UPSTREAM_GETS, UPSTREAM_CONCURRENCY.
 */
import { serve } from '@hono/node-server';
import { createApp } from '../../lib/app.ts';
import { ConfigError, readKeyPrefix, readListen, readRangeOptions, readS3Settings } from '../../lib/config.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';

function configure() {
  try {
    const s3 = readS3Settings(process.env);
    return {
      listen: readListen(process.env, { host: '127.0.0.1', port: 8080 }),
      app: createApp({
        store: s3Store(createS3Client(s3), s3.bucket),
        keyPrefix: readKeyPrefix(process.env),
        // Node has no per-request connection cap: fetch a 16-range answer in one round trip.
        concurrency: 16,
        ...readRangeOptions(process.env),
      }),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`edge-ranges: ${err.message}`);
    process.exit(1);
  }
}

const { listen, app } = configure();
const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, (info) => {
  console.log(`edge-ranges listening on http://${listen.host}:${info.port}`);
});
server.on('error', (err) => {
  console.error(`edge-ranges: cannot listen on ${listen.host}:${listen.port}: ${err.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
