/**
 * The demo object `npm start` seeds (infra/local/dev.ts), without starting
 * anything: importing dev.ts itself runs `wrangler dev` (it seeds and
 * starts the server at module load), so suites that only need the bytes
 * take them from here. Keep in step with DEMO[0] in dev.ts; the suites
 * that run `npm start` compare what it serves with these bytes, so a drift
 * fails them.
 */
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';

export const DEMO_BIG = {
  key: 'demo/big.bin',
  contentType: 'application/octet-stream',
  size: 64 * 1024 * 1024,
  bytes: () => pseudoRandomBytes(64 * 1024 * 1024),
} as const;
