/**
 * ObjectStore over S3 (or any S3-compatible server) through @aws-sdk/client-s3.
 *
 * GetObject takes one range and no If-Range; we send one span per call, with
 * If-Match. Errors are classified by HTTP status, never by name: under
 * workerd the SDK's browser build cannot parse XML error bodies (no
 * DOMParser) and throws a ReferenceError that still carries the status.
 */
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { parseContentRange, specField } from '../range/content-range.ts';
import { resolveRanges } from '../range/plan.ts';
import { sendableMetadata } from './metadata.ts';
import { StoreError, type ObjectMeta, type ObjectStore, type ReadAnswer, type ReadAsk, type ReadConditions, type Span, type Version } from './types.ts';

/** Where and how to reach an S3 (or S3-compatible) bucket; lib/config.ts reads them from S3_* settings. */
export interface S3Settings {
  /** `http(s)://host:port` of an S3-compatible server; absent for AWS itself. */
  readonly endpoint?: string | undefined;
  /** The region requests are signed for (`auto` for R2's S3 API). */
  readonly region: string;
  readonly bucket: string;
  /** Absent on AWS Lambda: the SDK then takes the execution role's credentials. */
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  /** `host/bucket/key` instead of `bucket.host/key`: for servers without virtual-host buckets (radosgw, MinIO). */
  readonly forcePathStyle: boolean;
}

/**
/**
 * Node's connection pools for the SDK client, when the caller owns them (the
 * Node entry shares them with its lean GETs: one warm pool for HEADs and
 * GETs). Default: the SDK makes its own, as below.
 */
export interface NodeAgents {
  readonly httpAgent: object;
  readonly httpsAgent: object;
}

/**
 * An S3Client (@aws-sdk/client-s3) for `settings`: checksums only when
 * required (R2 docs, "S3 API compatibility": set `requestChecksumCalculation`
 * and `responseChecksumValidation` to WHEN_REQUIRED), one attempt per call
 * (retries are resilient.ts's), and on Node `agents`, or by default up to
 * 512 keep-alive sockets. Without keys the SDK's default credential chain is
 * used (a Lambda's role).
 */
export function createS3Client(settings: S3Settings, agents?: NodeAgents): S3Client {
  return new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.accessKeyId !== undefined &&
      settings.secretAccessKey !== undefined && {
        credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      }),
    // Checksums on every call would buffer or reject ranged bodies on
    // S3-compatible servers (R2 among them) that do not send them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Retries are ours (resilient.ts), the same for every store; the SDK's
    // own would multiply them.
    maxAttempts: 1,
    // On Node, the SDK's default pool of 50 sockets would queue the GETs of
    // many concurrent multipart answers behind one another (the browser
    // build, used on Workers, ignores these agents).
    requestHandler: (agents ?? {
      httpAgent: { keepAlive: true, maxSockets: 512 },
      httpsAgent: { keepAlive: true, maxSockets: 512 },
    }) as NonNullable<S3ClientConfig['requestHandler']>,
  });
}

/** What the store reads of a GetObject answer: the SDK's fields, and a body it can turn into a web stream. */
export type GetObjectOutput = Omit<GetObjectCommandOutput, '$metadata' | 'Body'> & {
  readonly Body?: { transformToWebStream(): ReadableStream<Uint8Array> } | undefined;
};

/**
 * One GetObject call: resolves with the answer's fields and body for a 2xx;
 * rejects like the SDK otherwise — an error carrying
 * `$metadata.httpStatusCode` for an HTTP answer, any other error when there
 * was none (the store classifies by that status alone).
 */
export type GetObject = (input: GetObjectCommandInput, signal?: AbortSignal) => Promise<GetObjectOutput>;

/** GetObject through the SDK client: the default, on every runtime. */
export function sdkGetObject(client: S3Client): GetObject {
  return (input, signal) => client.send(new GetObjectCommand(input), aborting(signal));
}

export interface S3StoreOptions {
  /**
   * How the byte-carrying GETs are made (default: the SDK client's). The
   * Node entry passes a leaner one (functions/node/get-object.ts); HEADs
   * and everything else stay with the SDK client.
   */
  readonly getObject?: GetObject;
}

/**
 * An ObjectStore over one bucket of S3 or an S3-compatible server, through
 * HeadObject and GetObject (AWS S3 API Reference: GetObject takes one
 * `Range`, RFC 9110 §14.1.2, and `If-Match`; it has no If-Range). HEADs go
 * through `client`; GETs through `options.getObject` (default: `client`).
 *
 * - `head(key, signal?)`: ObjectMeta (`size` in bytes, `etag` always quoted,
 *   `lastModified`, the stored HTTP metadata that can be sent), or null for
 *   a 404.
 * - `get(key, version, span?, signal?)`: the body of `span` (`offset` and
 *   `length` in bytes, sent as `Range: bytes=a-b`; absent or empty: the
 *   whole object) with `If-Match` and the version's ETag (S3's are strong).
 * - `read(key, { range, conditions }, signal?)`: one GetObject with the
 *   client's range spec (`bytes=0-` for the whole object, so Content-Range
 *   states the object's length) and If-Match / If-Unmodified-Since
 *   (readConditions). Answers `bytes`, `refused` without metadata (412 or
 *   304), `missing` (404) or `unsatisfiable` (416).
 *
 * Errors are StoreErrors classified by HTTP status, never by name (under
 * workerd the SDK cannot parse XML error bodies and throws a ReferenceError
 * that still carries `$metadata.httpStatusCode`): 404 `not-found`, 412
 * `changed`, 503 (SlowDown) `overloaded`, anything else or no answer
 * `unavailable`. `signal` aborts the call.
 */
export function s3Store(client: S3Client, bucket: string, options: S3StoreOptions = {}): ObjectStore {
  const getObject = options.getObject ?? sdkGetObject(client);
  return {
    readConditions: S3_CONDITIONS,

    async head(key, signal) {
      let out;
      try {
        out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), aborting(signal));
      } catch (err) {
        if (statusOf(err) === 404) return null;
        throw classify(err, key);
      }
      return metaOf(out, out.ContentLength, key);
    },

    async get(key, { etag }: Version, span?: Span, signal?: AbortSignal) {
      const range = span && span.length > 0 ? `bytes=${span.offset}-${span.offset + span.length - 1}` : undefined;
      try {
        const out = await getObject({ Bucket: bucket, Key: key, IfMatch: etag, Range: range }, signal);
        if (out.Body === undefined) throw new StoreError('unavailable', `S3: GET ${key} returned no body`);
        return out.Body.transformToWebStream();
      } catch (err) {
        throw err instanceof StoreError ? err : classify(err, key);
      }
    },

    async read(key, { range, conditions }: ReadAsk, signal?: AbortSignal): Promise<ReadAnswer> {
      // The whole object is asked as `bytes=0-` too: the answer's Content-Range
      // then states the object's length apart from the body's own length.
      const header = range === undefined ? 'bytes=0-' : specField(range);
      let out;
      try {
        out = await getObject(
          { Bucket: bucket, Key: key, Range: header, IfMatch: conditions?.ifMatch, IfUnmodifiedSince: conditions?.ifUnmodifiedSince },
          signal,
        );
      } catch (err) {
        const status = statusOf(err);
        if (status === 404) return { kind: 'missing' };
        if (status === 416) return { kind: 'unsatisfiable' };
        // S3's 412 (and 304) carry no object metadata (radosgw: not even the ETag).
        if (status === 412 || status === 304) return { kind: 'refused', meta: undefined };
        throw classify(err, key);
      }
      if (out.Body === undefined) throw new StoreError('unavailable', `S3: GET ${key} returned no body`);
      const body = out.Body.transformToWebStream();
      try {
        // A ranged answer says the whole length in Content-Range: bytes a-b/size;
        // a 200 (a server that ignored the Range) has it in Content-Length.
        const answer = parseContentRange(out.ContentRange ?? null);
        const ranged = answer?.kind === 'range' && answer.length !== undefined ? answer : undefined;
        const meta = metaOf(out, ranged ? ranged.length : out.ContentLength, key);
        const asked = range === undefined ? undefined : resolveRanges([range], meta.size)[0];
        const whole = { start: 0, end: meta.size - 1 };
        const sent = ranged?.range ?? whole;
        if ((asked ?? whole).start !== sent.start || (asked ?? whole).end !== sent.end) {
          throw new StoreError('unavailable', `S3: ${key}: asked ${header}, got ${out.ContentRange ?? 'the whole object'}`);
        }
        return { kind: 'bytes', meta, body };
      } catch (err) {
        await body.cancel().catch(() => {});
        throw err;
      }
    },
  };
}

/**
 * S3 takes only §13.2.2's step-1 conditions in a read: its 304 carries no
 * ETag or Cache-Control (radosgw, checked), so a 304 could not be answered
 * from it, and If-None-Match / If-Modified-Since take the metadata first.
 * radosgw also fails `If-Match: *` and lists, hence one strong tag only.
 */
const S3_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set(['ifMatch', 'ifUnmodifiedSince']);

/** The metadata of a HEAD or GET answer (they carry the same fields). */
function metaOf(
  out: Omit<HeadObjectCommandOutput, '$metadata' | 'Body'>,
  size: number | undefined,
  key: string,
): ObjectMeta {
  if (out.ETag === undefined || size === undefined) {
    throw new StoreError('unavailable', `S3: ${key}: answer lacks ETag or length`);
  }
  return {
    size,
    etag: quoted(out.ETag),
    lastModified: out.LastModified,
    // The SDK gives header values one character per byte (on Node) or as
    // UTF-8 text (on Workers): either way the runtime sends the stored bytes.
    http: sendableMetadata({
      contentType: out.ContentType,
      cacheControl: out.CacheControl,
      contentDisposition: out.ContentDisposition,
      contentEncoding: out.ContentEncoding,
      contentLanguage: out.ContentLanguage,
      expires: out.Expires,
    }, key),
  };
}

function aborting(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return meta?.httpStatusCode;
}

function classify(err: unknown, key: string): StoreError {
  const status = statusOf(err);
  const kind = status === 404 ? 'not-found' : status === 412 ? 'changed' : status === 503 ? 'overloaded' : 'unavailable';
  return new StoreError(kind, `S3: ${key}: ${status ?? 'no status'} ${String(err)}`, { cause: err });
}

/** S3 sends ETags quoted; some compatible servers do not. */
function quoted(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** Why the bucket cannot be read: classified from one HeadBucket, for a start-up check. */
export type BucketProblem =
  | { readonly kind: 'credentials-refused'; readonly detail: string }
  | { readonly kind: 'no-such-bucket'; readonly detail: string }
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'failed'; readonly detail: string };

/**
 * One HeadBucket: null when the bucket answers, else what went wrong (403:
 * the credentials were refused, 404: no such bucket, no HTTP answer within
 * `timeoutMs`: the endpoint cannot be reached).
 */
export async function checkBucket(client: S3Client, bucket: string, timeoutMs = 5000): Promise<BucketProblem | null> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return null;
  } catch (err) {
    const status = statusOf(err);
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const detail =
      status !== undefined ? `HTTP ${status}` : timedOut ? `no answer within ${timeoutMs} ms` : errorMessage(err);
    if (status === 401 || status === 403) return { kind: 'credentials-refused', detail };
    if (status === 404) return { kind: 'no-such-bucket', detail };
    if (status === undefined) return { kind: 'unreachable', detail };
    return { kind: 'failed', detail };
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
