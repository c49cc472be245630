// Creates the test bucket through the S3 API, the way a client would; idempotent.
// Run by infra/local/s3.sh with the S3_* settings in the environment:
//   S3_ENDPOINT=... S3_REGION=... S3_BUCKET=... S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=... \
//     node_modules/.bin/tsx infra/local/create-bucket.ts
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const bucket = setting('S3_BUCKET');
const client = new S3Client({
  endpoint: setting('S3_ENDPOINT'),
  region: setting('S3_REGION'),
  forcePathStyle: true,
  credentials: {
    accessKeyId: setting('S3_ACCESS_KEY_ID'),
    secretAccessKey: setting('S3_SECRET_ACCESS_KEY'),
  },
});

try {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  console.error(`create-bucket: ${bucket} ready`);
} catch (error) {
  // Our own bucket from an earlier run is fine; anything else (a bucket of another user, bad
  // credentials, a server error) is not.
  if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
  console.error(`create-bucket: ${bucket} already exists`);
}
