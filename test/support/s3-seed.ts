/** Seeding the fixtures into S3, from Node or from inside workerd. */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readS3Settings, type Env } from '../../lib/config.ts';
import type { S3Settings } from '../../lib/store/s3.ts';
import { FIXTURES, type Validators } from './fixtures.ts';

/** S3 settings from an env, failing loudly when the suite was started without a server. */
export function s3SettingsFrom(env: Env & { S3_ENDPOINT?: unknown }): S3Settings {
  if (!env.S3_ENDPOINT) {
    throw new Error('S3_ENDPOINT is not set: run `npm test` (it starts radosgw), or eval "$(npm run -s s3:up)" first');
  }
  return readS3Settings(env);
}

/** Puts every fixture and returns each one's validators, as the store reports them. */
export async function seedS3(client: S3Client, bucket: string): Promise<Map<string, Validators>> {
  const out = new Map<string, Validators>();
  for (const [name, f] of Object.entries(FIXTURES)) {
    const http = f.http as (typeof FIXTURES)['meta']['http'];
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: f.key,
        Body: f.bytes,
        ContentType: http.contentType,
        CacheControl: http.cacheControl,
        ContentDisposition: http.contentDisposition,
        ContentLanguage: http.contentLanguage,
        Expires: http.expires,
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: f.key }));
    out.set(name, { etag: head.ETag!, lastModified: head.LastModified! });
  }
  return out;
}
