/**
 * The three AWS Lambda packages, built with esbuild: one directory per function
 * holding `index.js` (CommonJS, exporting `handler`: Lambda handler `index.handler`).
 *
 * - Everything is bundled in, @aws-sdk/client-s3 included, so the pinned SDK ships
 *   rather than whichever copy the runtime carries.
 * - CommonJS rather than ESM: it loads the same way on regional Lambda and on
 *   Lambda@Edge and needs no `createRequire` banner for the CommonJS parts of the SDK.
 *   Each directory gets a `package.json` saying so, because this repository's own
 *   says `"type": "module"` and Node would otherwise read `index.js` as ESM here.
 * - Lambda@Edge has no environment variables: the edge bundles get their
 *   EdgeConfig inlined as `process.env.EDGE_RANGES_CONFIG` (functions/aws/edge-config.ts).
 *   The streaming Lambda reads ordinary environment variables set by the stack.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import type { EdgeConfig } from '../../functions/aws/edge-config.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Gitignored. */
export const DEFAULT_BUILD_DIR = join(ROOT, 'infra', 'aws', 'build');

const MB = 1_000_000; // decimal: the stricter reading of AWS's "MB"

export type BundleName = 'viewer-request' | 'origin-request' | 'stream';

export interface BundleSpec {
  /** Relative to the repository root. */
  readonly entry: string;
  /** Whether the EdgeConfig is inlined (Lambda@Edge) or read from the environment (regional). */
  readonly edge: boolean;
  /** The deployment package limit, compressed (.zip), for this kind of function. */
  readonly zippedLimit: number;
}

/**
 * Package limits: Lambda@Edge quotas (viewer triggers 1 MB, origin triggers 50 MB,
 * compressed, function and libraries together); regional Lambda 50 MB zipped for a
 * direct upload (250 MB unzipped from S3, which is how CDK uploads).
 */
export const BUNDLES: Readonly<Record<BundleName, BundleSpec>> = {
  'viewer-request': { entry: 'functions/aws/viewer-request.ts', edge: true, zippedLimit: 1 * MB },
  'origin-request': { entry: 'functions/aws/origin-request.ts', edge: true, zippedLimit: 50 * MB },
  stream: { entry: 'functions/aws/stream.ts', edge: false, zippedLimit: 50 * MB },
};

export const BUNDLE_NAMES = Object.keys(BUNDLES) as BundleName[];

export interface BuiltBundle {
  readonly name: BundleName;
  /** The directory to hand to `lambda.Code.fromAsset`. */
  readonly dir: string;
  /** Bytes of index.js. */
  readonly rawBytes: number;
  /** Size of the directory as a deflated .zip, as Lambda measures the package. */
  readonly zippedBytes: number;
}

export interface BundleOptions {
  /** Where the per-function directories go (default infra/aws/build). */
  readonly outDir?: string;
  /** Inlined into the Lambda@Edge bundles. */
  readonly edgeConfig: EdgeConfig;
}

/** Builds the three packages; each directory is emptied first. */
export async function buildBundles(options: BundleOptions): Promise<Record<BundleName, BuiltBundle>> {
  const outDir = options.outDir ?? DEFAULT_BUILD_DIR;
  const built = await Promise.all(BUNDLE_NAMES.map((name) => buildOne(name, outDir, options.edgeConfig)));
  return Object.fromEntries(built.map((b) => [b.name, b])) as Record<BundleName, BuiltBundle>;
}

async function buildOne(name: BundleName, outDir: string, edgeConfig: EdgeConfig): Promise<BuiltBundle> {
  const spec = BUNDLES[name];
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, spec.entry)],
    outfile: join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    treeShaking: true,
    // Prefer the packages' ESM builds (the SDK ships both): esbuild tree-shakes ESM only.
    mainFields: ['module', 'main'],
    // An edge bundle must not fall back to an unset variable at run time: the value is inlined.
    define: spec.edge ? { 'process.env.EDGE_RANGES_CONFIG': JSON.stringify(JSON.stringify(edgeConfig)) } : {},
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  return { name, dir, rawBytes: readFileSync(join(dir, 'index.js')).length, zippedBytes: zippedSize(dir) };
}

/**
 * The size of `dir` as a .zip of deflated entries (level 9): each entry's
 * compressed bytes plus its local and central headers, plus the end record.
 */
export function zippedSize(dir: string): number {
  let total = 22; // end of central directory
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const bytes = readFileSync(file);
    const nameBytes = Buffer.byteLength(name);
    total += 30 + nameBytes + deflateRawSync(bytes, { level: 9 }).length + 46 + nameBytes;
  }
  return total;
}
