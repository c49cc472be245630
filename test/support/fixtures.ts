/**
 * The objects every HTTP suite seeds into its store (R2 or S3), and what
 * the store reports of them. Runtime-neutral: used inside workerd too.
 */
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import type { HttpMetadata } from '../../lib/store/types.ts';

export interface Fixture {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly http: HttpMetadata;
}

export const FIXTURES = {
  data: { key: 'cases/data.bin', bytes: pseudoRandomBytes(10_000, 7), http: { contentType: 'application/octet-stream' } },
  empty: { key: 'cases/empty.bin', bytes: new Uint8Array(0), http: { contentType: 'application/octet-stream' } },
  meta: {
    key: 'cases/meta.txt',
    bytes: new TextEncoder().encode('Metadata travels with every answer.\n'.repeat(20)),
    http: {
      contentType: 'text/plain; charset=utf-8',
      cacheControl: 'public, max-age=60',
      contentDisposition: 'attachment; filename="meta.txt"',
      contentLanguage: 'en',
      expires: new Date('2031-01-01T00:00:00Z'),
    },
  },
  unicode: {
    key: 'cases/ünï cødé/ß+%.txt',
    bytes: new TextEncoder().encode('a key that needs percent-encoding\n'),
    http: { contentType: 'text/plain' },
  },
  // Go's and nginx's own small-object multipart cases (issue 14).
  eleven: { key: 'cases/eleven.txt', bytes: new TextEncoder().encode('Hello World'), http: { contentType: 'text/plain' } },
  eight: { key: 'cases/eight.txt', bytes: new TextEncoder().encode('01234567'), http: { contentType: 'text/plain' } },
} as const satisfies Record<string, Fixture>;

export type FixtureName = keyof typeof FIXTURES;

/** Validators as the store itself reports them, independently of the function. */
export interface Validators {
  readonly etag: string;
  readonly lastModified: Date;
}

/** The URL path of a key: each segment percent-encoded. */
export function pathOf(key: string): string {
  return '/' + key.split('/').map(encodeURIComponent).join('/');
}
