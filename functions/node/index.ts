/**
 * Node entry: the app over S3, listening on HOST:PORT.
 * Settings: S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE, KEY_PREFIX, HOST, PORT, and the
 * Range limits MAX_RANGES, UPSTREAM_GAP, MAX_UPSTREAM_GETS, UPSTREAM_CONCURRENCY.
 */
import { serve } from '@hono/node-server';
import { createApp } from '../../lib/app.ts';
import { ConfigError, readAccess, readKeyPrefix, readListen, readRetry, readServerRangeOptions, readS3Settings } from '../../lib/config.ts';
import { TitleCaseResponse } from './title-case.ts';
import { checkBucket, createS3Client, s3Store, type BucketProblem, type S3Settings } from '../../lib/store/s3.ts';

function configure() {
  try {
    const s3 = readS3Settings(process.env);
    const listen = readListen(process.env, { host: '127.0.0.1', port: 8080 });
    const client = createS3Client(s3);
    return {
      s3,
      client,
      listen,
      app: createApp({
        store: s3Store(client, s3.bucket),
        keyPrefix: readKeyPrefix(process.env),
        ...readServerRangeOptions(process.env),
        ...readAccess(process.env),
        ...readRetry(process.env),
      }),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`edge-ranges: ${err.message}`);
    process.exit(1);
  }
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

const { s3, client, listen, app } = configure();
// Checked once before listening: a wrong key or bucket stops here, with one
// line, rather than as a 502 on every request.
const problem = await checkBucket(client, s3.bucket);
if (problem) {
  console.error(`edge-ranges: ${explain(problem, s3)}`);
  process.exit(1);
}
const server = serve(
  {
    fetch: app.fetch,
    hostname: listen.host,
    port: listen.port,
    serverOptions: { ServerResponse: TitleCaseResponse },
  },
  (info) => {
    console.log(`edge-ranges listening on http://${listen.host}:${info.port}`);
  },
);
server.on('error', (err) => {
  console.error(`edge-ranges: cannot listen on ${listen.host}:${listen.port}: ${err.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
