/**
 * The objects every target serves: the same deterministic bytes as files on
 * disk (nginx's root, and the source of every upload), in radosgw, and in
 * the Workers entry's local R2.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { pseudoRandomBytes } from '../infra/local/bytes.ts';
import { runWrangler } from '../infra/local/wrangler.ts';
import { createS3Client, type S3Settings } from '../lib/store/s3.ts';

import { PIECE, SEED, type BenchObject } from './object-layout.ts';

export { BIG, HUGE, type BenchObject } from './object-layout.ts';

/**
 * Writes the object's file unless it is already there with the right size.
 * Written in 64 MiB pieces, each from its own seed, so memory stays bounded.
 */
export async function ensureFile(dir: string, object: BenchObject): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, object.key);
  if (existsSync(file) && statSync(file).size === object.size) return file;
  const piece = PIECE;
  const out = createWriteStream(`${file}.part`);
  for (let offset = 0; offset < object.size; offset += piece) {
    const bytes = pseudoRandomBytes(Math.min(piece, object.size - offset), SEED + offset / piece);
    if (!out.write(bytes)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  renameSync(`${file}.part`, file);
  return file;
}

/**
 * Uploads into radosgw, readable without signature (public-read), so the
 * load generator can GET it directly as the "direct store" reference.
 */
export async function putS3(settings: S3Settings, file: string, object: BenchObject): Promise<void> {
  const client = createS3Client(settings);
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: settings.bucket,
        Key: object.key,
        Body: createReadStream(file),
        ContentLength: object.size,
        ContentType: 'application/octet-stream',
        ACL: 'public-read',
      }),
    );
  } finally {
    client.destroy();
  }
}

/**
 * Puts into the local R2 under `persistTo` once; a marker in the state
 * remembers it. With `wrangler r2 object put --file`, which stores it as
 * one part (up to 300 MiB): an object put as an R2 multipart upload (what
 * `npm run put` does above 64 MiB) is read about 12× slower by local R2,
 * and the Workers rows would measure that (METHODS.md). The bench's keys
 * are plain, so wrangler's reading of the key as a URL path changes nothing.
 */
export async function putR2Once(persistTo: string, file: string, object: BenchObject): Promise<void> {
  const marker = join(persistTo, `bench-${object.key}-${object.size}-one-part`);
  if (existsSync(marker)) return;
  // edge-ranges: wrangler.toml's bucket_name.
  const args = ['r2', 'object', 'put', `edge-ranges/${object.key}`, '--local', '--persist-to', persistTo, '--file', file];
  await runWrangler([...args, '--content-type', 'application/octet-stream']);
  mkdirSync(persistTo, { recursive: true });
  writeFileSync(marker, new Date().toISOString());
}
