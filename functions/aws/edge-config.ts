/**
 * Lambda@Edge has no environment variables: its configuration is bundled.
 * The bundler (infra/aws/bundle.ts) replaces `process.env.EDGE_RANGES_CONFIG`
 * with a JSON string literal; tests build an EdgeConfig directly.
 */
import type { S3Settings } from '../../lib/store/s3.ts';

export interface EdgeConfig {
  /** The bucket the S3 origin reads (viewer-request needs it for HeadObject). */
  readonly bucket: string;
  /** The bucket's region. */
  readonly region: string;
  /** Prepended to every key, as KEY_PREFIX elsewhere (e.g. `public/`); the S3 origin's origin path must match (`/public`). */
  readonly keyPrefix?: string;
  /** An S3-compatible endpoint (tests: radosgw); absent on AWS. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Origins allowed to read objects from scripts: '*' (the default, as CORS_ORIGINS elsewhere), a list, or 'off'. */
  readonly corsOrigins?: '*' | 'off' | readonly string[];
  /** When set, URLs must be signed (`?expires=&signature=`, see lib/signing.ts); checked in viewer-request. */
  readonly signingSecret?: string;
  /** Seconds viewer-request reuses an object's metadata (METADATA_TTL elsewhere; default 10; 0: a HeadObject per request). */
  readonly metadataTtl?: number;
  /** Static credentials (tests); absent on AWS, where the execution role's are used. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export class EdgeConfigError extends Error {
  override readonly name = 'EdgeConfigError';
}

/** The configuration the bundler inlined, checked once at cold start. */
export function bundledConfig(): EdgeConfig {
  const raw = process.env.EDGE_RANGES_CONFIG;
  if (raw === undefined) throw new EdgeConfigError('EDGE_RANGES_CONFIG was not bundled: build with infra/aws/bundle.ts');
  const config = JSON.parse(raw) as Partial<EdgeConfig>;
  if (typeof config.bucket !== 'string' || config.bucket === '') throw new EdgeConfigError('EDGE_RANGES_CONFIG: bucket is missing');
  if (typeof config.region !== 'string' || config.region === '') throw new EdgeConfigError('EDGE_RANGES_CONFIG: region is missing');
  if (config.metadataTtl !== undefined && !(Number.isInteger(config.metadataTtl) && config.metadataTtl >= 0)) {
    throw new EdgeConfigError('EDGE_RANGES_CONFIG: metadataTtl must be an integer >= 0 (seconds)');
  }
  return config as EdgeConfig;
}

/** The S3 client settings of a bundled configuration. */
export function s3Settings(config: EdgeConfig): S3Settings {
  return {
    endpoint: config.endpoint,
    region: config.region,
    bucket: config.bucket,
    forcePathStyle: config.forcePathStyle ?? false,
    accessKeyId: config.credentials?.accessKeyId,
    secretAccessKey: config.credentials?.secretAccessKey,
  };
}
