/** The demo objects `npm start` seeds: a deterministic binary big enough to seek in, and a small text. */
import { pseudoRandomBytes } from './bytes.ts';

export const DEMO_BIG = {
  key: 'demo/big.bin',
  contentType: 'application/octet-stream',
  size: 64 * 1024 * 1024,
  bytes: () => pseudoRandomBytes(64 * 1024 * 1024),
} as const;

export const DEMO_HELLO = {
  key: 'demo/hello.txt',
  contentType: 'text/plain; charset=utf-8',
  bytes: () => new TextEncoder().encode('Hello from edge-ranges: ask me for any byte range.\n'),
} as const;

export const DEMO = [DEMO_BIG, DEMO_HELLO] as const;
