/**
 * Lambda@Edge has no environment variables: its configuration is bundled.
 * The bundler (infra/aws/bundle.ts) replaces `process.env.EDGE_RANGES_CONFIG`
 * with a JSON string literal; tests build an EdgeConfig directly.
 */
export interface EdgeConfig {
  /** The bucket the S3 origin reads (viewer-request needs it for HeadObject). */
  readonly bucket: string;
  /** The bucket's region. */
  readonly region: string;
  /** The origin path of the S3 origin, without slashes: keys live under `${keyPrefix}/`. */
  readonly keyPrefix?: string;
  /** An S3-compatible endpoint (tests: radosgw); absent on AWS. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
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
  return config as EdgeConfig;
}
