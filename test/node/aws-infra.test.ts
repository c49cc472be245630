/**
 * The AWS deployment, offline: the three Lambda packages as esbuild builds them
 * (each under its trigger's package limit, each loading and exporting `handler`,
 * and, with radosgw up, each invoked as Lambda would invoke it), and the CDK app
 * synthesized to a template that says what the issue asks for: Lambda@Edge
 * functions in us-east-1 on viewer-request and origin-request, the streaming
 * Function URL as a second origin, cache keys that keep ranges apart.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BUNDLE_NAMES, BUNDLES, type BundleName, type BuiltBundle, buildBundles } from '../../infra/aws/bundle.ts';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { type BuiltApp, buildApp, edgeConfigFor, readSettings } from '../../infra/aws/stack.ts';
import { ETAG_KEY_HEADER, ORIGIN_SECRET_HEADER, STREAM_ORIGIN_HEADER } from '../../lib/aws/cloudfront.ts';
import { type S3Settings, createS3Client } from '../../lib/store/s3.ts';
import { originRequestEvent, viewerRequestEvent } from '../support/cloudfront-events.ts';
import { functionUrlEvent } from '../support/lambda-stream.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const BUCKET = 'edge-ranges-test-bucket';
const SECRET = 'test-origin-secret';
const PREFIX = 'media';
const SYNTH_BUDGET_MS = 60_000;

type Resource = { Type: string; Properties: Record<string, any> };

let tmp: string;
let built: BuiltApp;
let template: Template;
let synthMs: number;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-ranges-aws-'));
  const started = performance.now();
  built = await buildApp({
    outdir: join(tmp, 'cdk.out'),
    buildDir: join(tmp, 'build'),
    context: { bucketName: BUCKET, originSecret: SECRET, keyPrefix: `/${PREFIX}/` },
  });
  built.app.synth();
  template = Template.fromStack(built.stack);
  synthMs = performance.now() - started;
  console.log(`bundles + synth: ${Math.round(synthMs)} ms`);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const resources = (type: string): [string, Resource][] => Object.entries(template.findResources(type)) as [string, Resource][];
const distributionConfig = (): Record<string, any> => resources('AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig;
/** The logical id a `{ Ref }` or `{ Fn::GetAtt: [id, …] }` points at. */
const target = (ref: any): string => ref?.Ref ?? ref?.['Fn::GetAtt']?.[0];
/** The Lambda function behind the version an edge association names. */
function edgeFunction(eventType: string): Resource {
  const association = distributionConfig().DefaultCacheBehavior.LambdaFunctionAssociations.find((a: any) => a.EventType === eventType);
  const version = template.toJSON().Resources[target(association.LambdaFunctionARN)] as Resource;
  expect(version.Type).toBe('AWS::Lambda::Version');
  return template.toJSON().Resources[target(version.Properties.FunctionName)] as Resource;
}
const functionUrlDomain = (): any => ({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] }] }] });

describe('Lambda packages (esbuild)', () => {
  const bundle = (name: BundleName): BuiltBundle => built.bundles[name];

  it.each(BUNDLE_NAMES)('%s is under its package limit, zipped', (name) => {
    const { rawBytes, zippedBytes } = bundle(name);
    console.log(`${name}: ${rawBytes} bytes raw, ${zippedBytes} zipped (limit ${BUNDLES[name].zippedLimit})`);
    expect(rawBytes).toBeGreaterThan(0);
    expect(zippedBytes).toBeLessThanOrEqual(BUNDLES[name].zippedLimit);
  });

  it('the viewer-request package fits the 1 MB viewer-trigger limit', () => {
    expect(BUNDLES['viewer-request'].zippedLimit).toBe(1_000_000);
    expect(bundle('viewer-request').zippedBytes).toBeLessThanOrEqual(1_000_000);
  });

  it('the edge packages carry their configuration inline; the streaming one reads its environment', () => {
    for (const name of ['viewer-request', 'origin-request'] as const) {
      const code = readFileSync(join(bundle(name).dir, 'index.js'), 'utf8');
      // Booleans, so that a failure does not print a minified bundle.
      expect(code.includes(JSON.stringify(edgeConfigFor(built.settings))), `${name} inlines its EdgeConfig`).toBe(true);
      expect(code.includes('process.env.EDGE_RANGES_CONFIG'), `${name} reads no environment`).toBe(false);
    }
    expect(edgeConfigFor(built.settings)).toEqual({ bucket: BUCKET, region: 'us-east-1', keyPrefix: `${PREFIX}/`, corsOrigins: '*' });
  });

  it.each(BUNDLE_NAMES)('%s loads under plain Node and exports handler', (name) => {
    // The streaming handler wraps itself with the runtime's `awslambda` global at load time.
    const script = `
      globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };
      const m = require(${JSON.stringify(join(bundle(name).dir, 'index.js'))});
      process.stdout.write(typeof m.handler);`;
    const env = { ...process.env, S3_BUCKET: BUCKET, S3_REGION: 'us-east-1', KEY_PREFIX: `${PREFIX}/`, ORIGIN_SECRET: SECRET };
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env, stdio: 'pipe' })).toBe('function');
  });
});

describe('synthesized template', () => {
  it(`synthesizes, bundles included, in under ${SYNTH_BUDGET_MS / 1000} s`, () => {
    expect(synthMs).toBeLessThan(SYNTH_BUDGET_MS);
  });

  it('passes the CloudFormation validator aws-cdk-lib runs at synth, with no finding', () => {
    // A finding fails the synth already (STRICT_VALIDATION); the report says the check ran clean.
    const report = JSON.parse(readFileSync(join(tmp, 'cdk.out', 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: { violations: unknown[] }) => r.violations)).toEqual([]);
  });

  it('fails the synth on a finding (so npm test does)', async () => {
    const broken = await buildApp({ outdir: join(tmp, 'broken.out'), buildDir: join(tmp, 'broken.build') });
    const policy = broken.stack.node.findAll().find((c) => c instanceof CfnResource && c.cfnResourceType === 'AWS::CloudFront::CachePolicy');
    (policy as CfnResource).addPropertyOverride('CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.HeaderBehavior', 'everything');
    expect(() => broken.app.synth()).toThrow(/HeaderBehavior: 'everything' does not match/);
  }, 60_000);

  it('is one stack in us-east-1: the edge functions are built in it, not in a cross-region stack', () => {
    expect(built.stack.region).toBe('us-east-1');
    expect(built.app.synth().stacks.map((s) => s.stackName)).toEqual([built.stack.stackName]);
  });

  it('puts the edge functions on viewer-request and origin-request of the default behaviour', () => {
    const associations = distributionConfig().DefaultCacheBehavior.LambdaFunctionAssociations;
    expect(associations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-request']);
    for (const [eventType, memory, timeout] of [['viewer-request', 128, 5], ['origin-request', 512, 30]] as const) {
      const fn = edgeFunction(eventType);
      expect(fn.Type).toBe('AWS::Lambda::Function');
      expect(fn.Properties.Runtime).toMatch(/^nodejs2[02]\.x$/);
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Environment).toBeUndefined(); // Lambda@Edge has none
      expect(fn.Properties.Architectures ?? ['x86_64']).toEqual(['x86_64']);
      expect(fn.Properties.MemorySize).toBe(memory);
      expect(fn.Properties.Timeout).toBe(timeout);
      const role = template.toJSON().Resources[target(fn.Properties.Role)] as Resource;
      const principals = role.Properties.AssumeRolePolicyDocument.Statement.flatMap((s: any) => [s.Principal.Service].flat());
      expect(principals).toEqual(expect.arrayContaining(['lambda.amazonaws.com', 'edgelambda.amazonaws.com']));
    }
  });

  it('lets the edge functions HeadObject and GetObject, with ListBucket so a missing key is a 404', () => {
    for (const eventType of ['viewer-request', 'origin-request']) {
      const roleId = target(edgeFunction(eventType).Properties.Role);
      const policy = resources('AWS::IAM::Policy').find(([, p]) => p.Properties.Roles.some((r: any) => target(r) === roleId));
      const actions = policy![1].Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket']));
    }
  });

  it('keys the default behaviour’s cache on Range and the object version, and never compresses', () => {
    const behaviour = distributionConfig().DefaultCacheBehavior;
    const policies = resources('AWS::CloudFront::CachePolicy');
    const [policyId, policy] = policies.find(([id]) => id === target(behaviour.CachePolicyId))!;
    expect(policyId).toBeDefined();
    const key = policy.Properties.CachePolicyConfig;
    expect(key.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: ['Range', ETAG_KEY_HEADER] });
    expect(key.ParametersInCacheKeyAndForwardedToOrigin.EnableAcceptEncodingGzip).toBe(false);
    expect(key.MinTTL).toBe(0); // Cache-Control: no-store on generated multipart answers is honoured
    expect(behaviour.Compress).toBe(false);
    expect(behaviour.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('passes the Function URL domain, the origin secret and the key prefix on the S3 origin', () => {
    const config = distributionConfig();
    const s3Origin = config.Origins.find((o: any) => o.Id === config.DefaultCacheBehavior.TargetOriginId);
    expect(s3Origin.S3OriginConfig).toBeDefined();
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.OriginPath).toBe(`/${PREFIX}`);
    expect(s3Origin.OriginCustomHeaders).toEqual(
      expect.arrayContaining([
        { HeaderName: STREAM_ORIGIN_HEADER, HeaderValue: expect.anything() },
        { HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: SECRET },
      ]),
    );
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: Match.arrayWith([
          Match.objectLike({ OriginCustomHeaders: Match.arrayWith([{ HeaderName: STREAM_ORIGIN_HEADER, HeaderValue: functionUrlDomain() }]) }),
        ]),
      },
    });
  });

  it('serves /stream/* from the streaming Function URL, uncached, with the origin secret', () => {
    const config = distributionConfig();
    const behaviour = config.CacheBehaviors.find((b: any) => b.PathPattern === '/stream/*');
    expect(behaviour).toBeDefined();
    expect(behaviour.CachePolicyId).toBe(cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId);
    expect(behaviour.LambdaFunctionAssociations).toBeUndefined();
    const origin = config.Origins.find((o: any) => o.Id === behaviour.TargetOriginId);
    expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(origin.OriginCustomHeaders).toEqual([{ HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: SECRET }]);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Origins: Match.arrayWith([Match.objectLike({ Id: behaviour.TargetOriginId, DomainName: functionUrlDomain() })]) },
    });
  });

  it('gives the streaming Lambda a RESPONSE_STREAM Function URL, its settings and read access', () => {
    const [[urlId, url]] = resources('AWS::Lambda::Url') as [[string, Resource]];
    expect(urlId).toBeDefined();
    expect(url.Properties.InvokeMode).toBe('RESPONSE_STREAM');
    expect(url.Properties.AuthType).toBe('NONE');
    const fn = template.toJSON().Resources[target(url.Properties.TargetFunctionArn)] as Resource;
    expect(fn.Properties.Runtime).toMatch(/^nodejs2[02]\.x$/);
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.Environment.Variables).toEqual({
      S3_BUCKET: expect.anything(),
      S3_REGION: 'us-east-1',
      KEY_PREFIX: `${PREFIX}/`,
      ORIGIN_SECRET: SECRET,
      CORS_ORIGINS: '*',
    });
  });

  it('adds CORS headers to objects for any origin by default, keeping the ones viewer-request generates', () => {
    const behaviour = distributionConfig().DefaultCacheBehavior;
    const [, policy] = resources('AWS::CloudFront::ResponseHeadersPolicy').find(([id]) => id === target(behaviour.ResponseHeadersPolicyId))!;
    const cors = policy.Properties.ResponseHeadersPolicyConfig.CorsConfig;
    expect(cors.AccessControlAllowOrigins.Items).toEqual(['*']);
    expect(cors.AccessControlAllowMethods.Items).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(cors.AccessControlExposeHeaders.Items).toEqual(expect.arrayContaining(['Content-Range', 'Accept-Ranges', 'ETag']));
    expect(cors.OriginOverride).toBe(false);
  });

  it('makes a private, TLS-only bucket with the given name, and outputs what a deployer needs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: BUCKET,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect(Object.keys(template.toJSON().Outputs)).toEqual(['DistributionDomainName', 'BucketName', 'StreamFunctionUrl']);
  });
});

/**
 * The packages themselves (CommonJS, config inlined by esbuild), not the TypeScript the other
 * AWS suites import: built for radosgw and invoked in a fresh Node with CloudFront and Function
 * URL events, so a bundling fault (a define that did not apply, an SDK module esbuild broke)
 * shows here.
 */
describe('the built packages, invoked as Lambda invokes them (radosgw)', () => {
  const KEY_PREFIX = 'aws-infra/';
  const BYTES = pseudoRandomBytes(20_000, 4);
  let s3: S3Settings;
  let dirs: Record<BundleName, BuiltBundle>;
  let etag: string;

  beforeAll(async () => {
    s3 = s3SettingsFrom(process.env);
    const client = createS3Client(s3);
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${KEY_PREFIX}object.bin`, Body: BYTES, ContentType: 'application/octet-stream' }));
    etag = (await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${KEY_PREFIX}object.bin` }))).ETag!;
    dirs = await buildBundles({
      outDir: join(tmp, 'radosgw'),
      edgeConfig: {
        bucket: s3.bucket,
        region: s3.region,
        keyPrefix: KEY_PREFIX,
        ...(s3.endpoint !== undefined && { endpoint: s3.endpoint }),
        forcePathStyle: s3.forcePathStyle,
        credentials: { accessKeyId: s3.accessKeyId!, secretAccessKey: s3.secretAccessKey! },
      },
    });
  }, 60_000);

  /** `handler(event)` of a package in its own Node process; what it resolved to. */
  function invoke(name: BundleName, event: unknown): any {
    const script = `require(${JSON.stringify(join(dirs[name].dir, 'index.js'))})
      .handler(JSON.parse(process.argv[1])).then((r) => process.stdout.write(JSON.stringify(r)));`;
    return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(event)], { encoding: 'utf8', stdio: 'pipe' }));
  }

  it('viewer-request: HeadObject, Range resolved, x-ranges-etag added, passed on', () => {
    const out = invoke('viewer-request', viewerRequestEvent({ uri: '/object.bin', headers: [['Range', 'bytes=-100,0-9']] }));
    expect(out.status).toBeUndefined();
    const values = (name: string) => (out.headers[name] as { value: string }[]).map((h) => h.value);
    expect(values('range')).toEqual(['bytes=19900-19999,0-9']);
    expect(values(ETAG_KEY_HEADER)).toEqual([etag]);
  });

  it('viewer-request: a missing key is answered 404 without reaching the cache', () => {
    expect(invoke('viewer-request', viewerRequestEvent({ uri: '/missing.bin' })).status).toBe('404');
  });

  /**
   * The streaming package under a stand-in for the runtime's `awslambda` (as test/support/lambda-stream.ts):
   * its settings from the environment the stack sets; what it wrote, split into prelude and body.
   */
  function invokeStream(event: object): { statusCode: number; headers: Record<string, string>; body: Buffer } {
    const script = `
      const { PassThrough } = require('node:stream');
      console.log = console.error; // the request log line; stdout carries the response
      globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from(s, prelude) { s.write(JSON.stringify(prelude)); s.write(Buffer.alloc(8)); return s; } } };
      const { handler } = require(${JSON.stringify(join(dirs.stream.dir, 'index.js'))});
      const out = new PassThrough(), chunks = [];
      out.on('data', (c) => chunks.push(c)).on('end', () => process.stdout.write(Buffer.concat(chunks).toString('base64')));
      handler(JSON.parse(process.argv[1]), out, {});`;
    const env = { ...process.env, KEY_PREFIX, ORIGIN_SECRET: SECRET };
    const all = Buffer.from(execFileSync(process.execPath, ['-e', script, JSON.stringify(event)], { encoding: 'utf8', env, stdio: 'pipe' }), 'base64');
    const split = all.indexOf(Buffer.alloc(8));
    return { ...JSON.parse(all.subarray(0, split).toString()), body: all.subarray(split + 8) };
  }

  it('stream: /stream/<key> with the origin secret, two ranges streamed as multipart, byte for byte', () => {
    const res = invokeStream(functionUrlEvent('/stream/object.bin', { range: 'bytes=19900-19999,0-9', [ORIGIN_SECRET_HEADER]: SECRET }));
    expect(res.statusCode).toBe(206);
    const parts = parseMultipart(res.body, boundaryOf(res.headers['content-type'] ?? null));
    expect(parts.map((p) => Buffer.from(p.body))).toEqual([Buffer.from(BYTES.subarray(19900)), Buffer.from(BYTES.subarray(0, 10))]);
  });

  it('stream: without the origin secret, 403', () => {
    expect(invokeStream(functionUrlEvent('/stream/object.bin', {})).statusCode).toBe(403);
  });

  it('origin-request: two ranges answered with a generated multipart body, byte for byte', () => {
    const event = originRequestEvent({ uri: '/object.bin', headers: [['Range', 'bytes=19900-19999,0-9'], [ETAG_KEY_HEADER, etag]] }, s3.bucket);
    const res = invoke('origin-request', event);
    expect(res.status).toBe('206');
    expect(res.bodyEncoding).toBe('base64');
    const contentType = res.headers['content-type'][0].value as string;
    const parts = parseMultipart(Buffer.from(res.body, 'base64'), boundaryOf(contentType));
    expect(parts.map((p) => Buffer.from(p.body))).toEqual([Buffer.from(BYTES.subarray(19900)), Buffer.from(BYTES.subarray(0, 10))]);
  });
});

describe('with signed URLs and CORS off', () => {
  const SIGNING = 'signing-secret-0123456789';
  let variant: BuiltApp;
  let config: Record<string, any>;

  beforeAll(async () => {
    variant = await buildApp({
      outdir: join(tmp, 'signed.out'),
      buildDir: join(tmp, 'signed.build'),
      context: { bucketName: BUCKET, signingSecret: SIGNING, corsOrigins: 'off' },
    });
    config = (Object.values(Template.fromStack(variant.stack).findResources('AWS::CloudFront::Distribution'))[0] as Resource).Properties.DistributionConfig;
  }, 120_000);

  it('the edge packages carry the signing secret; no CORS policy on the distribution', () => {
    expect(edgeConfigFor(variant.settings)).toMatchObject({ signingSecret: SIGNING, corsOrigins: 'off' });
    const code = readFileSync(join(variant.bundles['viewer-request'].dir, 'index.js'), 'utf8');
    expect(code.includes(JSON.stringify(edgeConfigFor(variant.settings))), 'viewer-request inlines its EdgeConfig').toBe(true);
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toBeUndefined();
  });

  it('has no /stream/* behaviour, and the streaming Lambda checks no signatures: only the verified fallback reaches it', () => {
    expect(config.CacheBehaviors).toBeUndefined();
    const fn = Object.values(Template.fromStack(variant.stack).findResources('AWS::Lambda::Function')).find(
      (f: any) => f.Properties.Environment?.Variables?.ORIGIN_SECRET !== undefined,
    ) as Resource;
    expect(fn.Properties.Environment.Variables.CORS_ORIGINS).toBe('off');
    expect(fn.Properties.Environment.Variables.SIGNING_SECRET).toBeUndefined();
  });
});

describe('deploy settings', () => {
  it('default to a placeholder bucket and a secret derived from it, and trim the key prefix', () => {
    const none = readSettings(() => undefined);
    expect(none.bucketName).toBe('edge-ranges-placeholder');
    expect(none.originSecretDerived).toBe(true);
    expect(none.originSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(readSettings(() => undefined).originSecret).toBe(none.originSecret);
    const other = readSettings((k) => ({ bucketName: 'other', keyPrefix: '//a/b/' })[k]);
    expect(other.originSecret).not.toBe(none.originSecret);
    expect(other.keyPrefix).toBe('a/b');
    expect(edgeConfigFor(other).keyPrefix).toBe('a/b/');
    expect(edgeConfigFor(none)).toEqual({ bucket: 'edge-ranges-placeholder', region: 'us-east-1', corsOrigins: '*' });
  });

  it('read corsOrigins and signingSecret as CORS_ORIGINS and SIGNING_SECRET are read elsewhere', () => {
    const access = (ctx: Record<string, string>) => readSettings((k) => ctx[k]).access;
    expect(access({})).toEqual({ corsOrigins: '*' });
    expect(access({ corsOrigins: 'off' })).toEqual({});
    expect(access({ corsOrigins: 'https://a.example, https://b.example' })).toEqual({ corsOrigins: ['https://a.example', 'https://b.example'] });
    expect(() => access({ corsOrigins: 'a.example' })).toThrow(/CORS_ORIGINS is malformed/);
    expect(() => access({ signingSecret: 'short' })).toThrow(/SIGNING_SECRET is malformed/);
  });
});
