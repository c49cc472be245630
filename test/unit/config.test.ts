import { describe, expect, it } from 'vitest';
import { readCache, readHttpOriginSettings, readKeyPrefix, readListen, readRangeOptions, readS3Settings, readSendTimeout, readStoreKind } from '../../lib/config.ts';

const S3 = { S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' };

describe('readS3Settings', () => {
  it('reads a complete set, with defaults', () => {
    expect(readS3Settings({ ...S3, S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'true' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'b',
      accessKeyId: 'k',
      secretAccessKey: 's',
      forcePathStyle: true,
    });
    expect(readS3Settings(S3).forcePathStyle).toBe(false);
  });

  it.for<[Record<string, string>, string]>([
    [{ S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }, 'S3_BUCKET is missing: set it to the bucket name'],
    [{ ...S3, S3_BUCKET: '' }, 'S3_BUCKET is missing: set it to the bucket name'],
    [{ S3_BUCKET: 'b', S3_SECRET_ACCESS_KEY: 's' }, 'S3_ACCESS_KEY_ID is missing: set it to the access key id'],
    [{ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' }, 'S3_SECRET_ACCESS_KEY is missing: set it to the secret access key'],
    [{ ...S3, S3_ENDPOINT: '127.0.0.1:9000' }, 'S3_ENDPOINT is malformed: expected an http(s) URL, got "127.0.0.1:9000"'],
    [{ ...S3, S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE is malformed: expected true or false, got "yes"'],
  ])('refuses %j', ([env, message]) => {
    expect(() => readS3Settings(env)).toThrow(message);
  });
});

describe('readHttpOriginSettings', () => {
  it('reads the base URL, its query (a SAS token) kept, and header lines', () => {
    const s = readHttpOriginSettings({
      ORIGIN_URL: 'https://acct.blob.core.windows.net/c?sv=2024&sig=abc',
      ORIGIN_HEADERS: 'Authorization: Bearer t0k\nx-ms-version:  2024-11-04 ',
    });
    expect(s.url.href).toBe('https://acct.blob.core.windows.net/c?sv=2024&sig=abc');
    expect(s.headers).toEqual({ authorization: 'Bearer t0k', 'x-ms-version': '2024-11-04' });
    expect(readHttpOriginSettings({ ORIGIN_URL: 'http://127.0.0.1:8080' }).headers).toEqual({});
  });

  it.for<[Record<string, string>, string]>([
    [{}, 'ORIGIN_URL is missing: set it to the base URL of the objects'],
    [{ ORIGIN_URL: 'bucket.example.com/x' }, 'ORIGIN_URL is malformed: expected an http(s) URL like https://bucket.example.com/prefix/, got "bucket.example.com/x"'],
    [{ ORIGIN_URL: 's3://b/x?sig=SECRET' }, 'got "s3://b/x?…"'],
    [{ ORIGIN_URL: 'https://user:pw@x.test/' }, 'ORIGIN_URL is malformed: credentials in the URL are not sent by fetch; use ORIGIN_HEADERS'],
    [{ ORIGIN_URL: 'https://x.test/#a' }, 'ORIGIN_URL is malformed: a #fragment is never sent'],
    [{ ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'Authorization Bearer x' }, 'ORIGIN_HEADERS is malformed: expected "Name: value" lines, line 1 is not one'],
    [{ ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'A: 1\nBad Name: x' }, 'line 2 is not one'],
    [{ ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'If-Match: "x"' }, 'ORIGIN_HEADERS is malformed: If-Match is set by the store itself'],
    [{ ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'accept-encoding: gzip' }, 'ORIGIN_HEADERS is malformed: accept-encoding is set by the store itself'],
  ])('refuses %j', ([env, message]) => {
    expect(() => readHttpOriginSettings(env)).toThrow(message);
  });

  it('never repeats a secret in its message', () => {
    const thrown = (() => {
      try {
        readHttpOriginSettings({ ORIGIN_URL: 'https://x.test/', ORIGIN_HEADERS: 'Authorization Bearer SECRET' });
      } catch (err) {
        return String(err);
      }
      return '';
    })();
    expect(thrown).toContain('ORIGIN_HEADERS');
    expect(thrown).not.toContain('SECRET');
  });
});

describe('other settings', () => {
  it('STORE is r2, s3 or http', () => {
    expect(readStoreKind({})).toBe('r2');
    expect(readStoreKind({ STORE: 's3' })).toBe('s3');
    expect(readStoreKind({ STORE: 'http' })).toBe('http');
    expect(readStoreKind({}, 's3')).toBe('s3');
    expect(() => readStoreKind({ STORE: 'gcs' })).toThrow('STORE is malformed: expected "r2", "s3" or "http", got "gcs"');
  });

  it('KEY_PREFIX defaults to none', () => {
    expect(readKeyPrefix({})).toBe('');
    expect(readKeyPrefix({ KEY_PREFIX: 'public/' })).toBe('public/');
    expect(readKeyPrefix({ KEY_PREFIX: 'media/pub' })).toBe('media/pub/'); // a folder, not a name's first letters
  });

  it('HOST and PORT', () => {
    const defaults = { host: '127.0.0.1', port: 8080 };
    expect(readListen({}, defaults)).toEqual(defaults);
    expect(readListen({ HOST: '::1', PORT: '0' }, defaults)).toEqual({ host: '::1', port: 0 });
    expect(() => readListen({ PORT: '80x' }, defaults)).toThrow('PORT is malformed: expected 0-65535, got "80x"');
    expect(() => readListen({ PORT: '65536' }, defaults)).toThrow('PORT is malformed');
  });

  it('SEND_TIMEOUT_MS: nginx\'s send_timeout by default, at least 1,000 ms', () => {
    expect(readSendTimeout({})).toBe(60_000);
    expect(readSendTimeout({ SEND_TIMEOUT_MS: '2000' })).toBe(2000);
    expect(() => readSendTimeout({ SEND_TIMEOUT_MS: '500' })).toThrow('SEND_TIMEOUT_MS is malformed');
    expect(() => readSendTimeout({ SEND_TIMEOUT_MS: 'soon' })).toThrow('SEND_TIMEOUT_MS is malformed');
  });
});

describe('readRangeOptions', () => {
  it('leaves unset limits to the library', () => {
    expect(readRangeOptions({})).toEqual({ limits: {} });
  });

  it('reads every limit', () => {
    expect(readRangeOptions({ MAX_RANGES: '50', UPSTREAM_GAP: '0', MAX_UPSTREAM_GETS: '10', UPSTREAM_CONCURRENCY: '3' })).toEqual({
      limits: { maxRanges: 50, upstreamGap: 0, maxUpstreamGets: 10 },
      concurrency: 3,
    });
  });

  it.for<[Record<string, string>, string]>([
    [{ MAX_RANGES: '0' }, 'MAX_RANGES is malformed: expected an integer >= 1, got "0"'],
    [{ UPSTREAM_GAP: '-1' }, 'UPSTREAM_GAP is malformed: expected an integer >= 0, got "-1"'],
    [{ MAX_UPSTREAM_GETS: '2.5' }, 'MAX_UPSTREAM_GETS is malformed: expected an integer >= 1, got "2.5"'],
    [{ UPSTREAM_CONCURRENCY: 'many' }, 'UPSTREAM_CONCURRENCY is malformed: expected an integer >= 1, got "many"'],
  ])('refuses %j', ([env, message]) => {
    expect(() => readRangeOptions(env)).toThrow(message);
  });
});

describe('readCache', () => {
  it.for<[Record<string, string>, ReturnType<typeof readCache>]>([
    [{}, { sliceSize: 1048576, metadataTtl: 10, maxBytes: 268435456 }],
    [{ CACHE: 'on', SLICE_SIZE: '65536', METADATA_TTL: '0', CACHE_MAX_BYTES: '1048576' }, { sliceSize: 65536, metadataTtl: 0, maxBytes: 1048576 }],
    [{ CACHE: 'off' }, undefined],
    [{ CACHE: 'off', SLICE_SIZE: '4096' }, undefined],
  ])('%j', ([env, settings]) => {
    expect(readCache(env)).toEqual(settings);
  });

  it.for<[Record<string, string>, string]>([
    [{ CACHE: 'yes' }, 'CACHE is malformed: expected "on" or "off", got "yes"'],
    [{ SLICE_SIZE: '1000' }, 'SLICE_SIZE is malformed: expected an integer >= 1024, got "1000"'],
    [{ SLICE_SIZE: '1M' }, 'SLICE_SIZE is malformed: expected an integer >= 1024, got "1M"'],
    [{ SLICE_SIZE: String(128 * 1024 * 1024) }, 'SLICE_SIZE is malformed: expected at most 67108864 bytes, got "134217728"'],
    [{ METADATA_TTL: '-1' }, 'METADATA_TTL is malformed: expected an integer >= 0, got "-1"'],
    [{ CACHE_MAX_BYTES: '4096' }, 'CACHE_MAX_BYTES is malformed: expected at least SLICE_SIZE (1048576), got "4096"'],
    // A malformed setting is refused even with the cache off: it would bite when turned on.
    [{ CACHE: 'off', METADATA_TTL: 'soon' }, 'METADATA_TTL is malformed: expected an integer >= 0, got "soon"'],
  ])('refuses %j', ([env, message]) => {
    expect(() => readCache(env)).toThrow(message);
  });
});
