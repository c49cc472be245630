/**
 * Checking a finished download before it is renamed into place: its size
 * and, when the ETag is a plain MD5 of the content, its MD5.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DownloadError } from './errors.ts';

/**
 * The MD5 an ETag states, when it is one (§8.8.3 leaves ETags opaque; S3,
 * radosgw and R2 use the hex MD5 of the content for objects uploaded in one
 * piece). Multipart-upload ETags (`"<hex>-<parts>"`), weak tags and other
 * shapes (nginx: `"<mtime>-<size>"`) state no MD5: null.
 */
export function md5OfEtag(etag: string | null): string | null {
  const m = /^"([0-9a-fA-F]{32})"$/.exec(etag ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

export async function fileMd5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What was verified: 'md5' or only 'size'. Throws DownloadError('verify') on a mismatch. */
export async function verifyFile(path: string, size: number | undefined, etag: string | null): Promise<'md5' | 'size'> {
  const actual = (await stat(path)).size;
  if (size !== undefined && actual !== size) throw new DownloadError('verify', `size ${actual}, the server stated ${size}`);
  const md5 = md5OfEtag(etag);
  if (md5 === null) return 'size';
  const got = await fileMd5(path);
  if (got !== md5) throw new DownloadError('verify', `MD5 ${got}, the ETag states ${md5}`);
  return 'md5';
}
