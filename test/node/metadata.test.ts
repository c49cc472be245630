/**
 * Stored metadata fidelity on the Node entry over radosgw (issue 14.7): a
 * Content-Disposition stored as UTF-8 bytes leaves the function as the
 * same bytes — on every answer that carries it, whichever way Node writes
 * the header block (with a streamed body, or none).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

const KEY = 'meta/jp.txt';
const TEXT = 'stored metadata travels byte for byte\n'.repeat(100);
const DISPOSITION = Buffer.from('attachment; filename="日本.pdf"');

/**
 * Puts with curl's SigV4: it signs the header bytes it sends. (The SDK on
 * Node cannot: it signs the value as UTF-8 text while Node sends it one
 * byte per character, so S3 refuses the signature.)
 */
async function putWithUtf8Disposition(): Promise<void> {
  const s = s3SettingsFrom(process.env);
  const file = join(tmpdir(), `edge-ranges-meta-${process.pid}.txt`);
  writeFileSync(file, TEXT);
  const { stdout } = await promisify(execFile)('curl', [
    '-sS', '-o', '/dev/null', '-w', '%{http_code}',
    '--aws-sigv4', `aws:amz:${s.region}:s3`, '--user', `${s.accessKeyId}:${s.secretAccessKey}`,
    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    // Arguments reach curl UTF-8 encoded: these are the stored bytes.
    '-H', `Content-Disposition: ${DISPOSITION.toString('utf8')}`,
    '-T', file, `${s.endpoint}/${s.bucket}/${KEY}`,
  ]);
  expect(stdout).toBe('200');
}

/** The raw bytes of one response field, as they came over the wire. */
function rawField(url: string, method: string, headers: Record<string, string>, name: string): Promise<[number, Buffer | undefined]> {
  return new Promise((resolve, reject) => {
    get(url, { method, headers }, (res) => {
      res.resume();
      const raw = res.rawHeaders;
      const i = raw.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
      res.on('end', () => resolve([res.statusCode!, i < 0 ? undefined : Buffer.from(raw[i + 1]!, 'latin1')]));
    }).on('error', reject);
  });
}

describe('Node entry over radosgw: stored metadata byte for byte', () => {
  let server: Server;
  beforeAll(async () => {
    await putWithUtf8Disposition();
    server = await startTs('functions/node/index.ts', { HOST: '127.0.0.1', PORT: '0' }, /listening on (http:\S+)/);
  });
  afterAll(() => server?.stop());

  it.for([
    ['GET', 'GET', {}, 200],
    ['a range', 'GET', { range: 'bytes=0-99' }, 206],
    ['a precondition', 'GET', { 'if-none-match': '"other"' }, 200],
    ['HEAD', 'HEAD', {}, 200],
  ] as const)('%s', async ([, method, headers, status]) => {
    const [code, value] = await rawField(`${server.url}/${KEY}`, method, headers, 'content-disposition');
    expect(code).toBe(status);
    expect(value?.toString('hex')).toBe(DISPOSITION.toString('hex'));
  });
});
