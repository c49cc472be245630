/** Lambda@Edge origin-request entry; the logic is lib/aws/origin-request.ts. */
import { handle } from 'hono/lambda-edge';
import { originRequestApp } from '../../lib/aws/origin-request.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import { bundledConfig, s3Settings } from './edge-config.ts';

const config = bundledConfig();
export const handler = handle(
  originRequestApp({
    store: s3Store(createS3Client(s3Settings(config)), config.bucket),
    keyPrefix: config.keyPrefix ?? '',
    // Origin triggers run in a regional edge cache with no subrequest cap.
    concurrency: 16,
    limits: { maxUpstreamGets: 100 },
  }),
);
