import { describe, expect, it } from 'vitest';
import { multipartLayout, partOverhead, randomBoundary } from '../../lib/multipart.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('multipartLayout', () => {
  it('frames parts exactly as RFC 9110 §14.6 and RFC 2046 say', () => {
    const layout = multipartLayout([{ start: 0, end: 9 }, { start: 90, end: 99 }], 100, 'video/mp4', 'B0UNDARY');
    expect(layout.contentType).toBe('multipart/byteranges; boundary=B0UNDARY');
    expect(layout.heads.map(text)).toEqual([
      '--B0UNDARY\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-9/100\r\n\r\n',
      '\r\n--B0UNDARY\r\nContent-Type: video/mp4\r\nContent-Range: bytes 90-99/100\r\n\r\n',
    ]);
    expect(text(layout.tail)).toBe('\r\n--B0UNDARY--\r\n');
    const framing = layout.heads.reduce((n, h) => n + h.length, 0) + layout.tail.length;
    expect(layout.length).toBe(framing + 20);
  });

  it('counts bytes, not characters, of a non-ASCII type', () => {
    const layout = multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain; name="é"', 'b');
    expect(layout.heads[0]!.length).toBe(text(layout.heads[0]!).length + 1);
  });

  it('bounds the overhead of any part of the object', () => {
    const overhead = partOverhead(123_456_789, 'application/octet-stream');
    const layout = multipartLayout([{ start: 0, end: 0 }, { start: 123_456_700, end: 123_456_788 }], 123_456_789, 'application/octet-stream');
    expect(layout.heads[1]!.length).toBeLessThanOrEqual(overhead);
    expect(overhead).toBeLessThan(160);
  });
});

describe('randomBoundary', () => {
  it('is 128 random bits in hex, new every time', () => {
    const seen = new Set(Array.from({ length: 1000 }, randomBoundary));
    expect(seen.size).toBe(1000);
    for (const b of seen) expect(b).toMatch(/^[0-9a-f]{32}$/);
  });
});
