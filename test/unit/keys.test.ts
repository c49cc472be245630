import { describe, expect, it } from 'vitest';
import { objectKey, type KeyResult } from '../../lib/keys.ts';

describe('objectKey', () => {
  it.for<[string, string, KeyResult]>([
    ['/a.bin', '', { key: 'a.bin' }],
    ['/dir/sub/a.bin', '', { key: 'dir/sub/a.bin' }],
    ['/a%20b%2Bc.txt', '', { key: 'a b+c.txt' }],
    ['/%C3%BC.txt', '', { key: 'ü.txt' }],
    ['/a%2Fb', '', { key: 'a/b' }],
    ['/a//b', '', { key: 'a//b' }],
    ['/a.bin', 'public/', { key: 'public/a.bin' }],
    // A prefix is a folder (issue 18): no reaching a sibling that shares its first letters.
    ['/a.bin', 'public', { key: 'public/a.bin' }],
    ['/-private/x.txt', 'media/pub', { key: 'media/pub/-private/x.txt' }],
    ['/...', '', { key: '...' }],
    ['/a..b', '', { key: 'a..b' }],
    ['/%252e%252e/x', '', { key: '%2e%2e/x' }], // decoded once only
    ['/', '', { refused: 'no object key in the path' }],
    ['', 'public/', { refused: 'no object key in the path' }],
    ['/../etc/passwd', 'public/', { refused: 'dot segments in the object key' }],
    ['/a/%2e%2e/b', 'public/', { refused: 'dot segments in the object key' }],
    ['/a/%2E%2E%2Fb', 'public/', { refused: 'dot segments in the object key' }],
    ['/a/..%5Cb', 'public/', { refused: 'dot segments in the object key' }],
    ['/a/.%5C..', 'public/', { refused: 'dot segments in the object key' }],
    ['/./a', '', { refused: 'dot segments in the object key' }],
    ['/a%00b', '', { refused: 'NUL in the object key' }],
    ['/%zz', '', { refused: 'malformed percent-encoding in the path' }],
    ['/%C3', '', { refused: 'malformed percent-encoding in the path' }],
    [`/${'x'.repeat(1024)}`, '', { key: 'x'.repeat(1024) }],
    [`/${'x'.repeat(1020)}`, 'pfx/!', { refused: 'object key too long' }],
    [`/${'%C3%BC'.repeat(513)}`, '', { refused: 'object key too long' }], // 1,026 bytes of UTF-8
  ])('%s under "%s"', ([path, prefix, want]) => {
    expect(objectKey(path, prefix)).toEqual(want);
  });
});
