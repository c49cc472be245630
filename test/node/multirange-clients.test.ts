/**
 * Real multi-range clients against both entries: GDAL reading GeoTIFFs over
 * /vsicurl/ with multi-range GETs, Python's http.client + email parser, and
 * curl. Each asks for several disjoint ranges in one GET and must get a 206
 * multipart/byteranges (RFC 9110 §14.6, §15.3.7) with the right parts in
 * request order. The Workers entry runs exactly as `npm start` runs it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putLocalObjects } from '../../infra/local/wrangler.ts';
import { createS3Client } from '../../lib/store/s3.ts';
import { GEOTIFF_LAYOUTS, checksumLines, writeRaster } from '../clients/geotiff.ts';
import { DEMO_BIG } from '../../infra/local/demo.ts';
import { freePort, run, startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const BIG = DEMO_BIG.bytes();
const LEN = DEMO_BIG.size;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A file to store under `key` before the entry starts. */
interface StoredFile {
  readonly key: string;
  readonly file: string;
  readonly contentType: string;
}

interface Target {
  readonly name: string;
  /** Stores the files (and the demo object, as `npm start` has it), then starts the entry. */
  start(work: string, files: readonly StoredFile[]): Promise<Server>;
}

const TARGETS: Target[] = [
  {
    name: 'Node entry over radosgw',
    async start(_work, files) {
      const settings = s3SettingsFrom(process.env);
      const s3 = createS3Client(settings);
      const objects = [
        { key: DEMO_BIG.key, body: BIG, contentType: DEMO_BIG.contentType },
        ...files.map((f) => ({ key: f.key, body: readFileSync(f.file), contentType: f.contentType })),
      ];
      for (const o of objects) {
        await s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: o.key, Body: o.body, ContentType: o.contentType }));
      }
      return startTs('functions/node/index.ts', { HOST: '127.0.0.1', PORT: '0' }, /listening on (http:\S+)/);
    },
  },
  {
    name: 'Workers entry (npm start) over local R2',
    async start(work, files) {
      // Local R2 is files under PERSIST_TO: what we put there before
      // `npm start` is served beside the demo objects it seeds.
      const persistTo = join(work, 'wrangler-state');
      await putLocalObjects(files.map((f) => ({ file: f.file, key: f.key, options: { contentType: f.contentType } })), persistTo);
      const port = await freePort();
      return startTs('infra/local/dev.ts', { PORT: String(port), PERSIST_TO: persistTo }, /serving local R2 at (http:\S+)/);
    },
  },
];

/**
 * GDAL's settings for reading over HTTP. Each gdalinfo is a fresh process
 * and GDAL keeps no cache on disk, so every run reads the server; the
 * explicit defaults guard against an inherited environment.
 */
const GDAL_REMOTE = {
  // All of one read's ranges in one GET (the default, PARALLEL, sends one GET per range).
  GDAL_HTTP_MULTIRANGE: 'SINGLE_GET',
  // No directory listing and no probing for sidecar files (.aux.xml, .ovr, .msk).
  GDAL_DISABLE_READDIR_ON_OPEN: 'EMPTY_DIR',
  CPL_VSIL_CURL_ALLOWED_EXTENSIONS: '.tif',
  VSI_CACHE: 'FALSE',
  GDAL_PAM_ENABLED: 'NO',
  // curl's request and response headers on stderr: the proof of what went over the wire.
  CPL_CURL_VERBOSE: 'YES',
};

/** Range specs and the byte range each selects in demo/big.bin (64 MiB). */
const PYTHON_CASES: { name: string; specs: [spec: string, first: number, last: number][] }[] = [
  { name: 'three ranges, the last a suffix', specs: [['0-9', 0, 9], ['1000-1009', 1000, 1009], ['-10', LEN - 10, LEN - 1]] },
  {
    name: '16 scattered ranges, out of order, 1 B to 1 MiB, one open-ended',
    specs: [
      ['60000000-60000099', 60_000_000, 60_000_099],
      ['0-0', 0, 0],
      ['1048575-1048576', 1_048_575, 1_048_576],
      ['33554432-34603007', 33_554_432, 34_603_007],
      ['67108000-', 67_108_000, LEN - 1],
      ['20000000-20004095', 20_000_000, 20_004_095],
      ['10000000-10000009', 10_000_000, 10_000_009],
      ['50000000-50065536', 50_000_000, 50_065_536],
      ['4096-8191', 4096, 8191],
      ['67000000-67000499', 67_000_000, 67_000_499],
      ['30000000-30000000', 30_000_000, 30_000_000],
      ['40000000-40999999', 40_000_000, 40_999_999],
      ['2000000-2000099', 2_000_000, 2_000_099],
      ['45000000-45000001', 45_000_000, 45_000_001],
      ['25000000-25012345', 25_000_000, 25_012_345],
      ['5000000-5000000', 5_000_000, 5_000_000],
    ],
  },
];

/** The done-when check. */
const CURL_RANGE = 'bytes=0-9,1000-1009,-10';
const CURL_PARTS = ['bytes 0-9/67108864', 'bytes 1000-1009/67108864', 'bytes 67108854-67108863/67108864'];

let work: string;
let tiffs: (StoredFile & { name: string; checksums: string[] })[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edge-ranges-multirange-'));
  const raster = writeRaster(work);
  tiffs = [];
  for (const layout of GEOTIFF_LAYOUTS) {
    const file = await layout.make(raster, work);
    const { code, stdout, stderr } = await run('gdalinfo', ['-checksum', file], { env: { GDAL_PAM_ENABLED: 'NO' } });
    if (code !== 0) throw new Error(`gdalinfo -checksum ${file} failed (${code}):\n${stderr}`);
    tiffs.push({ name: layout.name, key: layout.key, file, contentType: 'image/tiff', checksums: checksumLines(stdout) });
  }
  // Every layout holds the same pixels (the tile shuffle must not have changed one).
  const bands = tiffs.map((t) => t.checksums.filter((l) => l.startsWith('Checksum=')));
  for (const b of bands) expect(b).toEqual(bands[0]);
  expect(bands[0]).toHaveLength(3);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(TARGETS)('$name', (target) => {
  let server: Server;

  beforeAll(async () => {
    server = await target.start(work, tiffs);
  });
  afterAll(() => server?.stop());

  it.for(GEOTIFF_LAYOUTS.map((l) => l.name))('gdalinfo -checksum over /vsicurl/, multi-range GETs: %s', async (name) => {
    const tiff = tiffs.find((t) => t.name === name)!;
    const { code, stdout, stderr } = await run('gdalinfo', ['-checksum', `/vsicurl/${server.url}/${tiff.key}`], { env: GDAL_REMOTE });
    const errors = stderr.split('\n').filter((l) => l.startsWith('ERROR'));
    expect(errors, `first request and answer with an error:\n${firstFailingExchange(stderr)}`).toEqual([]);
    expect(code).toBe(0);
    expect(checksumLines(stdout)).toEqual(tiff.checksums);

    // curl -v prints request headers bare and response headers after "< ".
    const ranges = [...stderr.matchAll(/^Range: bytes=(\S+)\r?$/gm)].map((m) => m[1]!);
    const multi = ranges.filter((r) => r.includes(','));
    const multipart = stderr.match(/^< content-type: multipart\/byteranges; boundary=/gim) ?? [];
    expect(multi.length, `Range headers sent:\n${ranges.join('\n')}`).toBeGreaterThan(0);
    expect(multipart.length).toBe(multi.length);
  });

  it.for(PYTHON_CASES)('python3 http.client + email parser: $name', async ({ specs }) => {
    const range = `bytes=${specs.map(([spec]) => spec).join(',')}`;
    const { code, stdout, stderr } = await run('python3', ['test/clients/multipart_read.py', `${server.url}/${DEMO_BIG.key}`, range]);
    expect(code, stderr + stdout.slice(0, 2000)).toBe(0);
    const got = JSON.parse(stdout) as {
      status: number;
      content_type: string;
      content_length: number;
      received: number;
      parts: unknown[];
      defects: string[];
    };
    expect(got.status).toBe(206);
    expect(got.content_type).toMatch(/^multipart\/byteranges; boundary=\S+$/);
    expect(got.content_length).toBe(got.received);
    expect(got.defects).toEqual([]);
    expect(got.parts).toEqual(
      specs.map(([, first, last]) => {
        const bytes = BIG.subarray(first, last + 1);
        return {
          content_type: DEMO_BIG.contentType,
          content_range: `bytes ${first}-${last}/${LEN}`,
          length: bytes.length,
          sha256: sha256(bytes),
          ...(bytes.length <= 64 ? { hex: Buffer.from(bytes).toString('hex') } : {}),
        };
      }),
    );
  });

  it(`curl -H 'Range: ${CURL_RANGE}': 206, three parts, Content-Length = bytes received`, async () => {
    const out = join(work, `curl-${server.child.pid}`);
    const { code, stdout, stderr } = await run('curl', [
      '-sS', '-D', '-', '-o', out, '-w', 'size_download=%{size_download}\n', '-H', `Range: ${CURL_RANGE}`,
      `${server.url}/${DEMO_BIG.key}`,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^HTTP\/1\.1 206 /);
    const boundary = /^content-type: multipart\/byteranges; boundary=(\S+)\r$/im.exec(stdout)?.[1];
    expect(boundary, stdout).toBeDefined();
    expect(stdout).not.toMatch(/^content-range:/im);
    const length = Number(/^content-length: (\d+)\r$/im.exec(stdout)?.[1]);
    const body = readFileSync(out);
    expect(stdout).toContain(`size_download=${body.length}\n`);
    expect(length).toBe(body.length);

    const parts = splitMultipart(body, boundary!);
    expect(parts.map((p) => p.headers['content-range'])).toEqual(CURL_PARTS);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(CURL_PARTS.map(() => DEMO_BIG.contentType));
    expect(parts.map((p) => p.bytes.toString('hex'))).toEqual(
      [[0, 10], [1000, 1010], [LEN - 10, LEN]].map(([a, b]) => Buffer.from(BIG.subarray(a, b)).toString('hex')),
    );
  });
});

/**
 * Splits a multipart body at its delimiters (RFC 2046 §5.1.1): every
 * delimiter but the first is CRLF "--" boundary; the last ends in "--".
 * Header names are lower-cased.
 */
function splitMultipart(body: Buffer, boundary: string): { headers: Record<string, string>; bytes: Buffer }[] {
  const delimiter = `\r\n--${boundary}`;
  let at = body.indexOf(`--${boundary}`);
  if (at < 0) throw new Error('no delimiter in the body');
  at += 2 + boundary.length;
  const parts = [];
  while (body.toString('latin1', at, at + 2) === '\r\n') {
    const headEnd = body.indexOf('\r\n\r\n', at);
    const next = body.indexOf(delimiter, headEnd + 4);
    if (headEnd < 0 || next < 0) throw new Error(`part ${parts.length + 1} is not terminated`);
    const lines = body.toString('latin1', at + 2, headEnd).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    parts.push({ headers, bytes: body.subarray(headEnd + 4, next) });
    at = next + delimiter.length;
  }
  if (body.toString('latin1', at, at + 2) !== '--') throw new Error('no close delimiter');
  return parts;
}

/** From curl's verbose log: the exchange before GDAL's first ERROR line, headers only. */
function firstFailingExchange(stderr: string): string {
  const lines = stderr.split('\n');
  const error = lines.findIndex((l) => l.startsWith('ERROR'));
  if (error < 0) return '';
  const start = lines.map((l, i) => [l, i] as const).filter(([l, i]) => i < error && l.startsWith('> GET')).at(-1)?.[1] ?? 0;
  return lines.slice(start, error + 1).filter((l) => /^(> |< |[A-Za-z-]+: |ERROR)/.test(l)).join('\n');
}
