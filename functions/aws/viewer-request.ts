/** Lambda@Edge viewer-request entry; the logic is lib/aws/viewer-request.ts. */
import { handle } from 'hono/lambda-edge';
import { viewerRequestApp } from '../../lib/aws/viewer-request.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import { bundledConfig, s3Settings } from './edge-config.ts';

const config = bundledConfig();
export const handler = handle(
  viewerRequestApp({
    store: s3Store(createS3Client(s3Settings(config)), config.bucket),
    keyPrefix: config.keyPrefix ?? '',
    ...(config.corsOrigins !== 'off' && { corsOrigins: config.corsOrigins ?? '*' }),
    ...(config.signingSecret !== undefined && { signingSecret: config.signingSecret }),
  }),
);
