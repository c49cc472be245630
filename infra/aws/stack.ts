/**
 * The AWS deployment: an S3 bucket behind a CloudFront distribution, with two
 * Lambda@Edge functions on the default behaviour (viewer-request, origin-request)
 * and a regional streaming Lambda (Function URL) as a second origin.
 *
 * Everything here synthesizes offline: no lookups, no account needed (the
 * account stays a token); only the region is fixed, to us-east-1, because
 * Lambda@Edge functions live there and EdgeFunction then builds them in this
 * same stack instead of a separate cross-region one.
 */
import { createHash } from 'node:crypto';
import { App, CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { EdgeConfig } from '../../functions/aws/edge-config.ts';
// The header names the functions read (x-ranges-etag, x-ranges-stream-origin, x-ranges-origin-secret)
// and the path the streaming Lambda serves objects under (/stream), from the functions themselves.
import { ETAG_KEY_HEADER, ORIGIN_SECRET_HEADER, STREAM_ORIGIN_HEADER } from '../../lib/aws/cloudfront.ts';
import { STREAM_PATH } from '../../lib/aws/origin-request.ts';
import { CORS_ALLOWED, CORS_EXPOSED, type AppOptions } from '../../lib/app.ts';
import { ALLOW } from '../../lib/gate.ts';
import { ConfigError, readAccess } from '../../lib/config.ts';
import { type BuiltBundle, type BundleName, buildBundles } from './bundle.ts';

/** Lambda@Edge functions must be created here; the bucket and the stack live here too. */
export const REGION = 'us-east-1';
export const STACK_NAME = 'EdgeRanges';
/** A valid bucket name for offline synth; deploy with `-c bucketName=…` (names are global). */
export const PLACEHOLDER_BUCKET = 'edge-ranges-placeholder';

/** CloudFront's behaviour for the streaming Lambda: the paths it serves objects under. */
export const STREAM_BEHAVIOUR = `${STREAM_PATH}/*`;

/** Lambda@Edge (Node.js 22 is its newest) and the streaming Lambda; nodejs20.x functions can no longer be created (blocked since 2026-06-01). */
const RUNTIME = lambda.Runtime.NODEJS_22_X;

export interface DeploySettings {
  /** The bucket to create and serve. */
  readonly bucketName: string;
  /** Keys are served from under `${keyPrefix}/`, without slashes at either end; empty: the whole bucket. */
  readonly keyPrefix: string;
  /** The value of x-ranges-origin-secret. */
  readonly originSecret: string;
  /** Whether originSecret was derived from the bucket name rather than given. */
  readonly originSecretDerived: boolean;
  /** CORS_ORIGINS and SIGNING_SECRET, as the other entries read them (corsOrigins absent: off). */
  readonly access: Pick<AppOptions, 'corsOrigins' | 'signingSecret'>;
}

/**
 * Reads `-c bucketName=… -c keyPrefix=… -c originSecret=… -c corsOrigins=… -c signingSecret=…`.
 * Without an originSecret the value is derived from the bucket name: stable across deploys,
 * but anyone who knows the bucket name can compute it, so it only keeps casual
 * callers off the public Function URL; pass a random one for a real deployment.
 * corsOrigins and signingSecret mean what CORS_ORIGINS and SIGNING_SECRET mean elsewhere
 * (`*` by default; a comma-separated list or `off`) and are checked the same way.
 */
export function readSettings(context: (key: string) => unknown): DeploySettings {
  const text = (key: string): string | undefined => {
    const value = context(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const bucketName = text('bucketName') ?? PLACEHOLDER_BUCKET;
  const keyPrefix = (text('keyPrefix') ?? '').replace(/^\/+|\/+$/g, '');
  const given = text('originSecret');
  const originSecret = given ?? createHash('sha256').update(`edge-ranges origin secret\n${bucketName}`).digest('hex');
  let access: DeploySettings['access'];
  try {
    access = readAccess({ CORS_ORIGINS: text('corsOrigins'), SIGNING_SECRET: text('signingSecret') });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(`infra/aws context (-c corsOrigins=…, -c signingSecret=…): ${err.message}`);
  }
  return { bucketName, keyPrefix, originSecret, originSecretDerived: given === undefined, access };
}

/** CORS_ORIGINS for the streaming Lambda, in the form readAccess reads. */
function corsOriginsEnv(access: DeploySettings['access']): string {
  const { corsOrigins } = access;
  return corsOrigins === undefined ? 'off' : corsOrigins === '*' ? '*' : corsOrigins.join(',');
}

/**
 * The prefix as the functions prepend it to keys (KEY_PREFIX, EdgeConfig.keyPrefix: `media/`),
 * and the S3 origin's origin path that must match it (`/media`), or undefined for none.
 */
export function prefixForms(settings: DeploySettings): { keyPrefix: string; originPath: string } | undefined {
  return settings.keyPrefix === '' ? undefined : { keyPrefix: `${settings.keyPrefix}/`, originPath: `/${settings.keyPrefix}` };
}

/** What the Lambda@Edge bundles get inlined (they cannot have environment variables). */
export function edgeConfigFor(settings: DeploySettings): EdgeConfig {
  const prefix = prefixForms(settings);
  const { corsOrigins, signingSecret } = settings.access;
  return {
    bucket: settings.bucketName,
    region: REGION,
    ...(prefix && { keyPrefix: prefix.keyPrefix }),
    corsOrigins: corsOrigins ?? 'off',
    ...(signingSecret !== undefined && { signingSecret }),
  };
}

export interface EdgeRangesStackProps extends StackProps {
  readonly settings: DeploySettings;
  /** Directories built by buildBundles with edgeConfigFor(settings). */
  readonly bundles: Readonly<Record<BundleName, Pick<BuiltBundle, 'dir'>>>;
}

export class EdgeRangesStack extends Stack {
  constructor(scope: Construct, id: string, props: EdgeRangesStackProps) {
    super(scope, id, { ...props, env: { region: REGION, ...(props.env?.account ? { account: props.env.account } : {}) } });
    const { settings, bundles } = props;
    const prefix = prefixForms(settings);

    const bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: settings.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
    });

    // The streaming Lambda: the whole app, streamed multipart bodies up to Lambda's streaming limit.
    const streamFn = new lambda.Function(this, 'StreamFunction', {
      description: 'edge-ranges: the full app with streamed responses (CloudFront origin)',
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundles.stream.dir),
      memorySize: 1024,
      // Past the first 6 MB a streamed response is capped at 2 MB/s: 200 MB takes ~100 s.
      timeout: Duration.minutes(5),
      environment: {
        S3_BUCKET: bucket.bucketName,
        S3_REGION: REGION,
        ORIGIN_SECRET: settings.originSecret,
        ...(prefix && { KEY_PREFIX: prefix.keyPrefix }),
        CORS_ORIGINS: corsOriginsEnv(settings.access),
        // No SIGNING_SECRET: with signing on, this function is reached only through origin-request's
        // fallback, after viewer-request checked the signature (the query string is not forwarded).
      },
    });
    bucket.grantRead(streamFn);
    // Public URL (CloudFront reaches it as a custom origin, also when origin-request re-routes
    // to it, which an OAC could not sign); the function checks ORIGIN_SECRET instead.
    const streamUrl = streamFn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });
    // https://<id>.lambda-url.<region>.on.aws/ -> <id>.lambda-url.<region>.on.aws
    const streamDomain = Fn.select(2, Fn.split('/', streamUrl.url));

    // Lambda@Edge: no environment variables (the bundles carry edgeConfigFor(settings)), x86_64 only.
    // s3:ListBucket as well as s3:GetObject so that HeadObject on a missing key is a 404, not a 403.
    const edgeS3Read = [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    ];
    const viewerRequest = new cloudfront.experimental.EdgeFunction(this, 'ViewerRequest', {
      description: 'edge-ranges viewer-request: preconditions and If-Range against HeadObject, Range normalized',
      runtime: RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundles['viewer-request'].dir),
      memorySize: 128, // viewer triggers: at most 128 MB and 5 s
      timeout: Duration.seconds(5),
      initialPolicy: edgeS3Read,
    });
    const originRequest = new cloudfront.experimental.EdgeFunction(this, 'OriginRequest', {
      description: 'edge-ranges origin-request: single ranges to S3, small multi-range sets answered, large ones re-routed',
      runtime: RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundles['origin-request'].dir),
      memorySize: 512, // builds responses of up to 1 MB (base64 included)
      timeout: Duration.seconds(30), // origin triggers: at most 30 s
      initialPolicy: edgeS3Read,
    });

    // The cache key is Range as viewer-request rewrote it (absolute, resolved ranges, so equal
    // asks share an entry) plus the object version it decided against (x-ranges-etag). Every
    // answer that reaches the cache (a 206 from S3, a multipart body generated in origin-request,
    // a streamed one from the Lambda origin, a fallback 200) is then the answer to exactly that
    // range set of exactly that version, so caching it is correct and an overwritten object is
    // never served from a stale entry. Range is used directly: CDK passes it through, and
    // CloudFront refuses only Connection, Host (S3 origins), Proxy-Authorization, TE and Upgrade
    // as cache-key headers (checked against the documentation, not a deployment). Cache-key
    // headers are forwarded, so both reach the origin-request function (which turns the ETag
    // into If-Match) without an origin request policy. minTtl 0: an origin's no-store wins.
    // No Accept-Encoding in the key and no compression: ranges are of the stored bytes.
    const rangeCache = new cloudfront.CachePolicy(this, 'RangeCachePolicy', {
      comment: 'edge-ranges: Range and the object version (x-ranges-etag) in the cache key',
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Range', ETAG_KEY_HEADER),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    // Objects S3 (or the cache) serves carry no CORS headers of their own: CloudFront adds them,
    // for the origins viewer-request allows. originOverride false keeps the headers of the
    // responses viewer-request generates (its preflights, 304s, 412s…) as corsFor made them.
    const { corsOrigins, signingSecret } = settings.access;
    const cors =
      corsOrigins === undefined
        ? undefined
        : new cloudfront.ResponseHeadersPolicy(this, 'CorsPolicy', {
            comment: 'edge-ranges: CORS on objects, as CORS_ORIGINS',
            corsBehavior: {
              accessControlAllowOrigins: corsOrigins === '*' ? ['*'] : [...corsOrigins],
              accessControlAllowMethods: ALLOW.split(', '),
              accessControlAllowHeaders: CORS_ALLOWED,
              accessControlExposeHeaders: CORS_EXPOSED,
              accessControlAllowCredentials: false,
              accessControlMaxAge: Duration.days(1),
              originOverride: false,
            },
          });

    // The streaming Lambda directly: it evaluates Range, If-Range and the preconditions
    // itself, so nothing is cached and every viewer header but Host is forwarded. Not with
    // signed URLs: it would have to check signatures the fallback cannot pass on (above).
    const streamBehaviour: Record<string, cloudfront.BehaviorOptions> =
      signingSecret !== undefined
        ? {}
        : {
            [STREAM_BEHAVIOUR]: {
              origin: new origins.FunctionUrlOrigin(streamUrl, {
                customHeaders: { [ORIGIN_SECRET_HEADER]: settings.originSecret },
              }),
              viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
              allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
              cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
              originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
              compress: false,
            },
          };

    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'edge-ranges',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        // (Bucket declares `isWebsite?: boolean | undefined`, IBucket `isWebsite?: boolean`:
        // the cast is only for exactOptionalPropertyTypes.)
        origin: origins.S3BucketOrigin.withOriginAccessControl(bucket as s3.IBucket, {
          // The edge functions read keys under the prefix themselves; what S3 serves must match.
          ...(prefix && { originPath: prefix.originPath }),
          // Deploy-time values for the origin-request function, which sees the origin's custom headers.
          customHeaders: { [STREAM_ORIGIN_HEADER]: streamDomain, [ORIGIN_SECRET_HEADER]: settings.originSecret },
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: rangeCache,
        ...(cors && { responseHeadersPolicy: cors }),
        compress: false,
        edgeLambdas: [
          { functionVersion: viewerRequest.currentVersion, eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST },
          { functionVersion: originRequest.currentVersion, eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST },
        ],
      },
      additionalBehaviors: streamBehaviour,
    });

    new CfnOutput(this, 'DistributionDomainName', { value: distribution.distributionDomainName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'StreamFunctionUrl', { value: streamUrl.url });
  }
}

export interface BuildAppOptions {
  /** The cloud assembly directory. */
  readonly outdir: string;
  /** Where the Lambda packages are built (default infra/aws/build). */
  readonly buildDir?: string;
  /** CDK context (`-c key=value`): bucketName, keyPrefix, originSecret. */
  readonly context?: Record<string, string>;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: EdgeRangesStack;
  readonly settings: DeploySettings;
  readonly bundles: Record<BundleName, BuiltBundle>;
}

/** Builds the Lambda packages for the settings in context, then the app and its stack (not yet synthesized). */
/**
 * aws-cdk-lib checks every template at synth with AWS's offline CloudFormation validator
 * (@aws/cloudformation-validate: resource schemas and rules) but by default only warns.
 * These make any finding, error or warning, fail the synth, so `npm test` catches it.
 */
export const STRICT_VALIDATION: Readonly<Record<string, boolean>> = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:strictCfnValidateErrors': true,
};

export async function buildApp(options: BuildAppOptions): Promise<BuiltApp> {
  const app = new App({ outdir: options.outdir, context: { ...STRICT_VALIDATION, ...options.context } });
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const bundles = await buildBundles({
    edgeConfig: edgeConfigFor(settings),
    ...(options.buildDir === undefined ? {} : { outDir: options.buildDir }),
  });
  const stack = new EdgeRangesStack(app, STACK_NAME, {
    settings,
    bundles,
    description: 'edge-ranges: byte ranges from S3 through CloudFront, Lambda@Edge and a streaming Lambda',
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT } } : {}),
  });
  return { app, stack, settings, bundles };
}
