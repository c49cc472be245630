/**
 * Puts a local file into the local R2 bucket that `npm start` serves:
 *   npm run put -- <file> <key> [content-type]
 */
import { DEFAULT_PERSIST, putLocalObject } from './wrangler.ts';

const [file, key, contentType] = process.argv.slice(2);
if (!file || !key) {
  console.error('usage: npm run put -- <file> <key> [content-type]');
  process.exit(2);
}
try {
  await putLocalObject(file, key, process.env.PERSIST_TO ?? DEFAULT_PERSIST, contentType ? { contentType } : {});
  console.log(`put ${file} -> ${key}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
