/**
 * Runtime-neutral helpers of the HTTP store's suites (used inside workerd
 * too): validators read from an origin directly, independently of the
 * function, and radosgw as a public (anonymous-read) origin.
 */
import { CreateBucketCommand, PutBucketAclCommand, PutObjectAclCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseHttpDate } from '../../lib/conditional.ts';
import { FIXTURES, pathOf, type Validators } from './fixtures.ts';

/** Each fixture's validators as the origin itself answers a HEAD (the ETag as sent). */
export async function validatorsAt(base: string): Promise<Map<string, Validators>> {
  const out = new Map<string, Validators>();
  for (const [name, f] of Object.entries(FIXTURES)) {
    const res = await fetch(base + pathOf(f.key), { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    const etag = res.headers.get('etag');
    const lastModified = parseHttpDate(res.headers.get('last-modified') ?? '');
    if (res.status !== 200 || etag === null || lastModified === null) {
      throw new Error(`origin ${base}: HEAD ${f.key} answered ${res.status} without ETag or Last-Modified`);
    }
    out.set(name, { etag, lastModified });
  }
  return out;
}

/**
 * A bucket of its own for one suite, listable by anyone: S3 answers a
 * missing key with 403 (AccessDenied) unless the reader may list the
 * bucket, and the HTTP store reports a refusal as such (502), not as 404.
 */
export async function publicBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 409) throw err; // 409: it exists already (an earlier run)
  }
  await client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
}

/** Makes the fixtures readable without credentials (radosgw as a public bucket). */
export async function publicRead(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    await client.send(new PutObjectAclCommand({ Bucket: bucket, Key: key, ACL: 'public-read' }));
  }
}

/** The public base URL of a path-style S3 bucket. */
export function bucketUrl(endpoint: string, bucket: string): string {
  return `${endpoint.replace(/\/$/, '')}/${bucket}/`;
}
