/**
 * Settings read from an environment (process.env on Node, the Worker's env
 * bindings on Workers). Each problem is one ConfigError naming the setting.
 */
import type { AppOptions, EdgeRangesOptions } from './app.ts';
import { DEFAULT_CACHE_MAX_BYTES, DEFAULT_METADATA_TTL, DEFAULT_SLICE_SIZE, type CacheSettings } from './cache/types.ts';
import { folderPrefix } from './keys.ts';
import { RESERVED_ORIGIN_FIELDS, type HttpOriginSettings } from './store/http.ts';
import type { S3Settings } from './store/s3.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Any object of named settings: process.env, or a Worker's env with its bindings. */
export type Env = object;

/**
 * S3_* settings; S3_ENDPOINT is optional (AWS itself), the rest as noted.
 * With `roleCredentials` (AWS Lambda) the keys are optional: absent, the
 * execution role's credentials are used.
 */
export function readS3Settings(env: Env, { roleCredentials = false } = {}): S3Settings {
  const key = roleCredentials ? optional(env, 'S3_ACCESS_KEY_ID') : required(env, 'S3_ACCESS_KEY_ID', 'the access key id');
  const secret = roleCredentials
    ? optional(env, 'S3_SECRET_ACCESS_KEY')
    : required(env, 'S3_SECRET_ACCESS_KEY', 'the secret access key');
  if ((key === undefined) !== (secret === undefined)) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both or neither');
  }
  const endpoint = optional(env, 'S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new ConfigError(`S3_ENDPOINT is malformed: expected an http(s) URL, got "${endpoint}"`);
  }
  return {
    endpoint,
    region: optional(env, 'S3_REGION') ?? 'us-east-1',
    bucket: required(env, 'S3_BUCKET', 'the bucket name'),
    accessKeyId: key,
    secretAccessKey: secret,
    forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', false),
  };
}

/**
 * KEY_PREFIX: confines every key to this folder (default none); `media/pub`
 * means `media/pub/`, never `media/pub-private/` (see keys.ts folderPrefix).
 */
export function readKeyPrefix(env: Env): string {
  return folderPrefix(optional(env, 'KEY_PREFIX') ?? '');
}

export type StoreKind = 'r2' | 's3' | 'http';

/** STORE: `r2`, `s3` or `http`; `fallback` when unset (`r2` on Workers). */
export function readStoreKind(env: Env, fallback: StoreKind = 'r2'): StoreKind {
  const kind = optional(env, 'STORE') ?? fallback;
  if (kind !== 'r2' && kind !== 's3' && kind !== 'http') {
    throw new ConfigError(`STORE is malformed: expected "r2", "s3" or "http", got "${kind}"`);
  }
  return kind;
}

/**
 * ORIGIN_URL (required): the HTTP origin's base URL; a query string on it
 * (a SAS token, a public signature) goes with every request. ORIGIN_HEADERS
 * (optional): fields sent with every request, one `Name: value` per line,
 * e.g. `Authorization: Bearer …`. Both may hold secrets: neither value is
 * ever repeated in an error message past the URL's origin.
 */
export function readHttpOriginSettings(env: Env): HttpOriginSettings {
  const raw = required(env, 'ORIGIN_URL', 'the base URL of the objects, like https://bucket.example.com/prefix/');
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    throw new ConfigError(
      `ORIGIN_URL is malformed: expected an http(s) URL like https://bucket.example.com/prefix/, got "${beforeQuery(raw)}"`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError('ORIGIN_URL is malformed: credentials in the URL are not sent by fetch; use ORIGIN_HEADERS');
  }
  if (url.hash !== '') throw new ConfigError(`ORIGIN_URL is malformed: a #fragment is never sent, got "${url.origin}${url.pathname}${url.hash}"`);
  return { url, headers: originHeaders(optional(env, 'ORIGIN_HEADERS')) };
}

/** `Name: value` lines -> fields; names are RFC 9110 tokens (§5.6.2), values one line each. */
function originHeaders(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, line] of (value ?? '').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m || /[\0\r]/.test(m[2]!)) {
      // The line itself is not repeated: it may hold a secret.
      throw new ConfigError(`ORIGIN_HEADERS is malformed: expected "Name: value" lines, line ${i + 1} is not one`);
    }
    const name = m[1]!.toLowerCase();
    if (RESERVED_ORIGIN_FIELDS.includes(name)) {
      throw new ConfigError(`ORIGIN_HEADERS is malformed: ${m[1]} is set by the store itself`);
    }
    out[name] = m[2]!;
  }
  return out;
}

/** A URL as far as its query, for messages (the query may hold a signature). */
function beforeQuery(value: string): string {
  const cut = value.search(/[?#]/);
  return cut < 0 ? value : `${value.slice(0, cut)}?…`;
}

/**
 * MAX_RANGES, UPSTREAM_GAP, MAX_UPSTREAM_GETS and UPSTREAM_CONCURRENCY: the
 * Range limits and upstream fetching (see README, "Limits"); unset ones keep
 * the library's defaults.
 */
export function readRangeOptions(env: Env): Pick<EdgeRangesOptions, 'limits' | 'concurrency'> {
  const maxRanges = integer(env, 'MAX_RANGES', 1);
  const upstreamGap = integer(env, 'UPSTREAM_GAP', 0);
  const maxUpstreamGets = integer(env, 'MAX_UPSTREAM_GETS', 1);
  const concurrency = integer(env, 'UPSTREAM_CONCURRENCY', 1);
  return {
    limits: {
      ...(maxRanges !== undefined && { maxRanges }),
      ...(upstreamGap !== undefined && { upstreamGap }),
      ...(maxUpstreamGets !== undefined && { maxUpstreamGets }),
    },
    ...(concurrency !== undefined && { concurrency }),
  };
}

/**
 * readRangeOptions with the defaults of a server (Node, a regional Lambda):
 * no per-request connection or subrequest cap, so a 16-range answer is
 * fetched in one round trip and distant parts never share a GET. The GETs
 * opened ahead of the part being written share one process-wide pool,
 * LOOKAHEAD_GETS (default 128, a quarter of the S3 client's 512 sockets):
 * clients that do not read cannot take the store's connections from the
 * others (README, "Slow clients").
 */
export function readServerRangeOptions(env: Env): Pick<EdgeRangesOptions, 'limits' | 'concurrency' | 'lookAheadGets'> {
  const options = readRangeOptions(env);
  const lookAheadGets = integer(env, 'LOOKAHEAD_GETS', 0) ?? 128;
  return { concurrency: 16, ...options, limits: { maxUpstreamGets: 100, ...options.limits }, lookAheadGets };
}

/**
 * SEND_TIMEOUT_MS: a response whose client's connection has taken no byte
 * for this long is ended and its store connections closed (default 60,000,
 * nginx's send_timeout; at least 1,000). Not shorter: a client reading
 * slowly out of a large socket buffer keeps its TCP window shut meanwhile
 * (curl --limit-rate 200k was cut after 43 s under a 30 s default).
 */
export function readSendTimeout(env: Env): number {
  return integer(env, 'SEND_TIMEOUT_MS', 1000) ?? 60_000;
}

/**
 * CORS_ORIGINS: `*` (the default: public objects, readable from any page),
 * a comma-separated list of origins, or `off`.
 * SIGNING_SECRET: when set (at least 16 characters), every URL must be signed.
 */
export function readAccess(env: Env): Pick<AppOptions, 'corsOrigins' | 'signingSecret'> {
  const origins = optional(env, 'CORS_ORIGINS') ?? '*';
  const secret = optional(env, 'SIGNING_SECRET');
  if (secret !== undefined && secret.length < 16) {
    throw new ConfigError('SIGNING_SECRET is malformed: use at least 16 characters');
  }
  const list = origins.split(',').map((o) => o.trim()).filter((o) => o !== '');
  if (origins !== '*' && origins !== 'off' && !list.every((o) => /^https?:\/\/[^/]+$/.test(o))) {
    throw new ConfigError(`CORS_ORIGINS is malformed: expected *, off, or origins like https://example.com, got "${origins}"`);
  }
  return {
    ...(origins === '*' ? { corsOrigins: '*' } : origins === 'off' ? {} : { corsOrigins: list }),
    ...(secret !== undefined && { signingSecret: secret }),
  };
}

/**
 * STORE_ATTEMPTS and STORE_TIMEOUT_MS: tries per store call, and how long
 * one may wait for an answer; unset ones keep the library's defaults.
 */
export function readRetry(env: Env): Pick<EdgeRangesOptions, 'retry'> {
  const attempts = integer(env, 'STORE_ATTEMPTS', 1);
  const timeoutMs = integer(env, 'STORE_TIMEOUT_MS', 1);
  return {
    retry: {
      ...(attempts !== undefined && { attempts }),
      ...(timeoutMs !== undefined && { timeoutMs, budgetMs: Math.max(timeoutMs, 15_000) }),
    },
  };
}

/** The smallest and largest SLICE_SIZE: each slice is a lookup, and each open store GET holds one slice in memory. */
const SLICE_SIZE_MIN = 1024;
const SLICE_SIZE_MAX = 64 * 1024 * 1024;

/**
 * The edge cache: CACHE (`on`, the default, or `off`), SLICE_SIZE (bytes,
 * default 1 MiB), METADATA_TTL (seconds, default 10; 0: metadata is always
 * asked of the store) and CACHE_MAX_BYTES (the in-memory budget, default
 * 256 MiB). Undefined when CACHE=off.
 */
export function readCache(env: Env): CacheSettings | undefined {
  const mode = optional(env, 'CACHE') ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new ConfigError(`CACHE is malformed: expected "on" or "off", got "${mode}"`);
  const sliceSize = integer(env, 'SLICE_SIZE', SLICE_SIZE_MIN) ?? DEFAULT_SLICE_SIZE;
  if (sliceSize > SLICE_SIZE_MAX) {
    throw new ConfigError(`SLICE_SIZE is malformed: expected at most ${SLICE_SIZE_MAX} bytes, got "${sliceSize}"`);
  }
  const metadataTtl = integer(env, 'METADATA_TTL', 0) ?? DEFAULT_METADATA_TTL;
  const maxBytes = integer(env, 'CACHE_MAX_BYTES', 1) ?? DEFAULT_CACHE_MAX_BYTES;
  if (maxBytes < sliceSize) {
    throw new ConfigError(`CACHE_MAX_BYTES is malformed: expected at least SLICE_SIZE (${sliceSize}), got "${maxBytes}"`);
  }
  return mode === 'off' ? undefined : { sliceSize, metadataTtl, maxBytes };
}

/** HOST and PORT for a listening server (PORT 0 picks a free port). */
export function readListen(env: Env, defaults: { host: string; port: number }): { host: string; port: number } {
  const host = optional(env, 'HOST') ?? defaults.host;
  const raw = optional(env, 'PORT');
  if (raw === undefined) return { host, port: defaults.port };
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError(`PORT is malformed: expected 0-65535, got "${raw}"`);
  return { host, port };
}

function optional(env: Env, name: string): string | undefined {
  const value = (env as Record<string, unknown>)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`${name} is malformed: expected a string`);
  return value;
}

function required(env: Env, name: string, what: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(`${name} is missing: set it to ${what}`);
  return value;
}

function integer(env: Env, name: string, min: number): number | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min) {
    throw new ConfigError(`${name} is malformed: expected an integer >= ${min}, got "${value}"`);
  }
  return Number(value);
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} is malformed: expected true or false, got "${value}"`);
}
