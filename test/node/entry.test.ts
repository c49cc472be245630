/** The Node entry's start-up: a missing or malformed setting stops it with one line naming it. */
import { describe, expect, it } from 'vitest';
import { ROOT, run } from '../support/processes.ts';

const TSX = `${ROOT}node_modules/tsx/dist/cli.mjs`;
const S3 = {
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_BUCKET: 'b',
  S3_ACCESS_KEY_ID: 'k',
  S3_SECRET_ACCESS_KEY: 's',
  S3_REGION: undefined,
  S3_FORCE_PATH_STYLE: undefined,
  HOST: '127.0.0.1',
  PORT: '0',
};

describe('Node entry settings', () => {
  it.for<[string, Record<string, string | undefined>, string]>([
    ['no bucket', { ...S3, S3_BUCKET: undefined }, 'edge-ranges: S3_BUCKET is missing: set it to the bucket name'],
    ['no key id', { ...S3, S3_ACCESS_KEY_ID: undefined }, 'edge-ranges: S3_ACCESS_KEY_ID is missing: set it to the access key id'],
    ['bad endpoint', { ...S3, S3_ENDPOINT: 'localhost:9000' },
      'edge-ranges: S3_ENDPOINT is malformed: expected an http(s) URL, got "localhost:9000"'],
    ['bad path style', { ...S3, S3_FORCE_PATH_STYLE: 'maybe' },
      'edge-ranges: S3_FORCE_PATH_STYLE is malformed: expected true or false, got "maybe"'],
    ['bad port', { ...S3, PORT: 'http' }, 'edge-ranges: PORT is malformed: expected 0-65535, got "http"'],
  ])('%s', async ([, env, line]) => {
    const { code, stdout, stderr } = await run(process.execPath, [TSX, 'functions/node/index.ts'], { env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${line}\n`);
  });
});
