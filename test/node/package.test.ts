/**
 * The package as a stranger gets it: `npm pack`, then a fresh project in a
 * temp directory installs the tarball offline (from the tarball and npm's
 * cache, pinned by a lockfile cut from ours) and runs the README's install
 * examples as written:
 *   (a) the Worker (`src/index.ts`) under wrangler dev on local R2;
 *   (b) the Node server (`server.mjs`) against radosgw;
 *   (c) `npx edge-ranges get` from the installed bin;
 *   (d) a strict type-check against the shipped .d.ts;
 *   (e) the tarball's file list and size.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lib/store/s3.ts';
import { boundaryOf, parseMultipart } from '../support/multipart.ts';
import { ROOT, freePort, run, stopProcess, waitForPort, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const OFFLINE = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
/** What the consumer installs beside the tarball, at the versions this repository pins. */
const CONSUMER_DEPS = ['hono', '@hono/node-server', '@aws-sdk/client-s3', '@cloudflare/workers-types'];

/** 300 KiB of deterministic bytes: several ranges apart, quick to move. */
const BYTES = Uint8Array.from({ length: 300 * 1024 }, (_, i) => (i * 7919 + (i >> 9)) & 0xff);
const KEY = 'pkg/data.bin';

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

/** The README's code blocks marked `<!-- package-test: path -->`, by path. */
function readmeFiles(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const files = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- package-test: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  return files;
}

/**
 * A package-lock for the consumer: the repository's own resolutions of
 * CONSUMER_DEPS and everything they need, so `npm ci --offline` finds every
 * tarball in npm's cache (which our own `npm ci` filled).
 */
function consumerLock(tarball: string, integrity: string): object {
  const ours = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>;
  };
  // The package's own dependencies (lru-cache) come with it.
  const own = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  const packages: Record<string, object> = {};
  const wanted = [...CONSUMER_DEPS, ...Object.keys(own)].map((name) => `node_modules/${name}`);
  while (wanted.length > 0) {
    const path = wanted.pop()!;
    if (packages[path]) continue;
    const entry = ours.packages[path];
    if (!entry) throw new Error(`package-lock.json has no ${path}`);
    packages[path] = entry;
    for (const dep of Object.keys({ ...entry.dependencies })) {
      // Node's lookup: the nearest node_modules up from the dependent.
      let dir = path;
      for (;;) {
        const candidate = `${dir}/node_modules/${dep}`;
        if (ours.packages[candidate]) {
          wanted.push(candidate);
          break;
        }
        const up = dir.lastIndexOf('/node_modules/');
        if (up < 0) {
          if (!ours.packages[`node_modules/${dep}`]) throw new Error(`package-lock.json cannot resolve ${dep} for ${path}`);
          wanted.push(`node_modules/${dep}`);
          break;
        }
        dir = dir.slice(0, up);
      }
    }
  }
  const dependencies = Object.fromEntries(CONSUMER_DEPS.map((name) => [name, ours.packages[`node_modules/${name}`]!.version!]));
  return {
    name: 'consumer',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'consumer', dependencies: { ...dependencies, 'edge-ranges': `file:${tarball}` } },
      'node_modules/edge-ranges': {
        version: '0.1.0',
        resolved: `file:${tarball}`,
        integrity,
        license: 'MIT',
        dependencies: own,
        bin: { 'edge-ranges': 'dist/functions/cli/edge-ranges.js' },
      },
      ...packages,
    },
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Starts a command in the consumer project; resolves once it listens on `port`. */
async function startIn(cwd: string, args: string[], port: number, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...OFFLINE, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  await waitForPort(port, child, () => output);
  return { url: `http://127.0.0.1:${port}`, child, output: () => output, stop: () => stopProcess(child) };
}

describe('the npm package, installed by a stranger', () => {
  let work: string;
  let app: string;
  let pack: PackResult;
  const servers: Server[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-ranges-package-'));
    // dist/ is built by the suite's globalSetup (test/support/build.ts); prepack would rebuild it under the other suites' feet.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work]);
    expect(packed.code, packed.stderr).toBe(0);
    pack = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as (PackResult & { integrity: string })[])[0]!;
    const tarball = join(work, pack.filename);

    app = join(work, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    const lock = consumerLock(tarball, (pack as PackResult & { integrity: string }).integrity);
    const root = (lock as { packages: { '': { dependencies: Record<string, string> } } }).packages[''];
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: root.dependencies }, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
    const installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });
    expect(installed.code, `${installed.stdout}\n${installed.stderr}`).toBe(0);

    for (const [path, text] of readmeFiles()) writeFileSync(join(app, path), text);
    writeFileSync(
      join(app, 'wrangler.toml'),
      ['name = "consumer"', 'main = "src/index.ts"', 'compatibility_date = "2026-04-01"', '[[r2_buckets]]', 'binding = "BUCKET"', 'bucket_name = "media"', ''].join('\n'),
    );
    writeFileSync(join(app, 'data.bin'), BYTES);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('(e) the tarball holds the compiled library, the CLI and its papers, nothing else', () => {
    const paths = pack.files.map((f) => f.path);
    const allowed = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/(lib|functions\/cli)\/[\w./-]+\.(js|d\.ts|js\.map))$/;
    expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(test|bench|infra|node_modules|\.local|\.wrangler|\.dev\.vars|\.env|\.npmrc)(\/|$)/.test(p))).toEqual([]);
    for (const entry of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/store/r2.js', 'dist/lib/store/s3.d.ts', 'dist/functions/cli/edge-ranges.js', 'LICENSE']) {
      expect(paths).toContain(entry);
    }
    // Source maps carry their sources inline: a small library stays small.
    expect(pack.size).toBeLessThan(400 * 1024);
  });

  it('(d) a strict TypeScript consumer type-checks against the shipped types, and a wrong use does not', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2023'], types: ['@cloudflare/workers-types'], noEmit: true, skipLibCheck: true },
        include: ['src'],
      }),
    );
    writeFileSync(
      join(app, 'src/uses.ts'),
      [
        "import { edgeRanges, type EdgeRangesOptions } from 'edge-ranges';",
        "import { r2Store } from 'edge-ranges/r2';",
        "import type { S3Settings } from 'edge-ranges/s3';",
        "import type { DownloadOptions } from 'edge-ranges/client';",
        "import type { ViewerRequestOptions } from 'edge-ranges/aws';",
        'export const options: EdgeRangesOptions = { store: (c) => r2Store(c.env.BUCKET as R2Bucket), keyPrefix: "public/" };',
        'export const handler = edgeRanges(options);',
        'export type Used = [S3Settings, DownloadOptions, ViewerRequestOptions];',
        '',
      ].join('\n'),
    );
    const ok = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    writeFileSync(join(app, 'src/wrong.ts'), "import { edgeRanges } from 'edge-ranges';\nexport const h = edgeRanges({ keyPrefix: 1 });\n");
    const wrong = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app });
    rmSync(join(app, 'src/wrong.ts'));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/src\/wrong\.ts.*error TS/);
  });

  it('(a) the README Worker, under wrangler dev on local R2, answers a range and a multi-range request byte for byte', async () => {
    const state = join(work, 'r2');
    const put = await run(process.execPath, [WRANGLER, 'r2', 'object', 'put', `media/${KEY}`, '--file', 'data.bin', '--local', '--persist-to', state], {
      cwd: app,
      env: OFFLINE,
    });
    expect(put.code, put.stdout + put.stderr).toBe(0);
    const port = await freePort();
    const worker = await startIn(app, [WRANGLER, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state], port);
    servers.push(worker);

    const one = await fetch(`${worker.url}/${KEY}`, { headers: { range: 'bytes=1000-1999' } });
    expect(one.status).toBe(206);
    expect(one.headers.get('content-range')).toBe(`bytes 1000-1999/${BYTES.length}`);
    expect(new Uint8Array(await one.arrayBuffer())).toEqual(BYTES.subarray(1000, 2000));

    const many = await fetch(`${worker.url}/${KEY}`, { headers: { range: 'bytes=0-99,200000-200099,-50' } });
    expect(many.status).toBe(206);
    const parts = parseMultipart(new Uint8Array(await many.arrayBuffer()), boundaryOf(many.headers.get('content-type')));
    expect(parts.map((p) => p.body)).toEqual([BYTES.subarray(0, 100), BYTES.subarray(200000, 200100), BYTES.subarray(BYTES.length - 50)]);

    // An R2 app never loads the AWS SDK: the deployable bundle has none of it.
    const out = join(work, 'bundle');
    const dry = await run(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', out], { cwd: app, env: OFFLINE });
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const bundle = readFileSync(join(out, 'index.js'), 'utf8');
    expect(bundle).toContain('multipart/byteranges');
    expect(bundle).not.toMatch(/@aws-sdk|S3Client/);
  });

  it('(b, c) the README Node server answers from radosgw, and npx edge-ranges get downloads through it', async () => {
    const settings = s3SettingsFrom(process.env);
    await createS3Client(settings).send(new PutObjectCommand({ Bucket: settings.bucket, Key: KEY, Body: BYTES }));
    const port = await freePort();
    const server = await startIn(app, ['server.mjs'], port, {
      PORT: String(port),
      S3_ENDPOINT: settings.endpoint!,
      S3_REGION: settings.region,
      S3_BUCKET: settings.bucket,
      AWS_ACCESS_KEY_ID: settings.accessKeyId!,
      AWS_SECRET_ACCESS_KEY: settings.secretAccessKey!,
    });
    servers.push(server);

    const res = await fetch(`${server.url}/${KEY}`, { headers: { range: 'bytes=-100' } });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES.subarray(BYTES.length - 100));

    const got = await run('npx', ['--no-install', 'edge-ranges', 'get', `${server.url}/${KEY}`, '-o', 'got.bin', '-c', '3', '-q'], { cwd: app });
    expect(got.code, got.stdout + got.stderr).toBe(0);
    expect(sha256(readFileSync(join(app, 'got.bin')))).toBe(sha256(BYTES));
  });
});
