/** Lambda@Edge viewer-request entry; the logic is lib/aws/viewer-request.ts. */
import { handle } from 'hono/lambda-edge';
import { viewerRequestApp } from '../../lib/aws/viewer-request.ts';
import { MetadataCache } from '../../lib/cache/metadata.ts';
import { DEFAULT_METADATA_TTL } from '../../lib/cache/types.ts';
import { createS3Client, s3Store } from '../../lib/store/s3.ts';
import { bundledConfig, s3Settings } from './edge-config.ts';

const config = bundledConfig();
export const handler = handle(
  viewerRequestApp({
    store: s3Store(createS3Client(s3Settings(config)), config.bucket),
    keyPrefix: config.keyPrefix ?? '',
    ...(config.corsOrigins !== 'off' && { corsOrigins: config.corsOrigins ?? '*' }),
    ...(config.signingSecret !== undefined && { signingSecret: config.signingSecret }),
    // One per container: requests within METADATA_TTL make no HeadObject.
    metadata: new MetadataCache(config.metadataTtl ?? DEFAULT_METADATA_TTL),
  }),
);
