/**
 * URL path -> object key. Percent-decoding happens once, per segment, and
 * every check runs on the decoded key, so `%2e%2e` and `..%2f` are refused
 * like `..`. The key is confined under the configured prefix.
 */

/** S3 and R2 both cap keys at 1,024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

export type KeyResult = { readonly key: string } | { readonly refused: string };

/**
 * A key prefix is a folder: `media/pub` confines keys to `media/pub/...`,
 * never to `media/pub-private/...` (which `/-private/x` would otherwise
 * reach). Adds the missing trailing `/`; the empty prefix stays empty.
 */
export function folderPrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * Maps a raw (still percent-encoded) URL path to an object key under
 * `prefix`, taken as a folder (see folderPrefix).
 */
export function objectKey(rawPath: string, prefix = ''): KeyResult {
  const segments: string[] = [];
  for (const segment of rawPath.replace(/^\//, '').split('/')) {
    try {
      segments.push(decodeURIComponent(segment));
    } catch {
      return { refused: 'malformed percent-encoding in the path' };
    }
  }
  const name = segments.join('/');
  if (name === '') return { refused: 'no object key in the path' };
  if (name.includes('\0')) return { refused: 'NUL in the object key' };
  // Backslashes count as separators too: some stores and tools treat them so.
  if (name.split(/[/\\]/).some((s) => s === '.' || s === '..')) {
    return { refused: 'dot segments in the object key' };
  }
  const key = folderPrefix(prefix) + name;
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return { refused: 'object key too long' };
  return { key };
}
