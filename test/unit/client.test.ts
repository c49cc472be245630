/**
 * The pure parts of the download client: Content-Range parsing, segment
 * arithmetic, the multipart/byteranges reader, judging answers, the state
 * file's match rule, ETag-as-MD5 and progress formatting.
 */
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../infra/local/bytes.ts';
import { judgeAnswer } from '../../lib/client/answer.ts';
import { byterangesBoundary, readByteranges, type ByterangesEvent } from '../../lib/client/multipart-reader.ts';
import { isStrongEtag, validatorHeaders, type RemoteObject } from '../../lib/client/probe.ts';
import { RateMeter, barLine, plainLine, progressLine } from '../../lib/client/progress.ts';
import { DownloadError, ObjectChanged } from '../../lib/client/errors.ts';
import { TryAgain, withRetries, type RetryLoop } from '../../lib/client/retry.ts';
import { Coverage, holes, segmentSizeFor, smallHoleGroups, split, stealTail, type Segment } from '../../lib/client/segments.ts';
import { stateFor, stateMatches } from '../../lib/client/state.ts';
import { md5OfEtag } from '../../lib/client/verify.ts';
import { multipartLayout } from '../../lib/multipart.ts';
import { parseContentRange, rangeField } from '../../lib/range/content-range.ts';
import type { ByteRange } from '../../lib/range/byte-range.ts';

describe('parseContentRange (§14.4)', () => {
  it.for([
    ['bytes 0-99/1000', { kind: 'range', range: { start: 0, end: 99 }, length: 1000 }],
    ['BYTES 5-5/6', { kind: 'range', range: { start: 5, end: 5 }, length: 6 }],
    ['bytes 0-99/*', { kind: 'range', range: { start: 0, end: 99 }, length: undefined }],
    ['bytes */1000', { kind: 'unsatisfied', length: 1000 }],
    ['bytes */*', null],
    ['bytes 10-9/100', null],
    ['bytes 0-100/100', null],
    ['items 0-1/2', null],
    ['bytes 0-99', null],
    ['bytes 0-99999999999999999/99999999999999999', null],
    ['bytes -5/10', null],
  ] as const)('%s', ([value, expected]) => {
    expect(parseContentRange(value)).toEqual(expected);
  });
});

describe('segments', () => {
  const r = (start: number, end: number): ByteRange => ({ start, end });

  it.for([
    [[], 10, [r(0, 9)]],
    [[r(0, 9)], 10, []],
    [[r(2, 3), r(6, 7)], 10, [r(0, 1), r(4, 5), r(8, 9)]],
    [[r(0, 4)], 10, [r(5, 9)]],
    [[], 0, []],
  ] as const)('holes(%j, %i) = %j', ([done, size, expected]) => {
    expect(holes(done, size)).toEqual(expected);
  });

  it('Coverage merges adjacent and overlapping writes and counts distinct bytes', () => {
    const c = new Coverage();
    c.add(0, 9);
    c.add(10, 19);
    c.add(15, 24);
    c.add(40, 49);
    expect(c.ranges()).toEqual([r(0, 24), r(40, 49)]);
    expect(c.bytes()).toBe(35);
    expect(c.holes(60)).toEqual([r(25, 39), r(50, 59)]);
  });

  it('split cuts at most maxSize per piece', () => {
    expect(split([r(0, 9), r(20, 24)], 4)).toEqual([r(0, 3), r(4, 7), r(8, 9), r(20, 23), r(24, 24)]);
  });

  it.for([
    [100, 4, 10, 25],
    [10, 4, 10, 10],
    [0, 4, 10, 10],
  ] as const)('segmentSizeFor(%i bytes, %i connections, min %i) = %i', ([remaining, c, min, expected]) => {
    expect(segmentSizeFor(remaining, c, min)).toBe(expected);
  });

  it('smallHoleGroups: two or more small holes, at most maxRanges a request; big holes left to segments', () => {
    const gaps = [r(0, 9), r(100, 109), r(200, 10_000), r(20_000, 20_009)];
    expect(smallHoleGroups(gaps, { maxHole: 10, maxRanges: 2 })).toEqual([[r(0, 9), r(100, 109)]]);
    expect(smallHoleGroups(gaps, { maxHole: 10, maxRanges: 64 })).toEqual([[r(0, 9), r(100, 109), r(20_000, 20_009)]]);
    expect(smallHoleGroups([r(0, 9)], { maxHole: 10, maxRanges: 64 })).toEqual([]);
  });

  it('rangeField', () => {
    expect(rangeField([r(0, 9), r(20, 29)])).toBe('bytes=0-9,20-29');
  });
});

describe('stealTail: the tail an idle connection takes', () => {
  const s = (pos: number, end: number): Segment => ({ pos, end });
  it.for<[string, Segment[], number, { victim: number; at: number } | undefined]>([
    ['nothing running', [], 10, undefined],
    ['one segment, 100 left, min 10: its second half', [s(0, 99)], 10, { victim: 0, at: 50 }],
    ['an odd count: the victim keeps the smaller half', [s(0, 100)], 10, { victim: 0, at: 50 }],
    ['what is left decides (end - pos + 1)', [s(0, 149), s(900, 1099)], 10, { victim: 1, at: 1000 }],
    ['the segment with the most left, wherever it sits', [s(0, 39), s(100, 199), s(300, 349)], 10, { victim: 1, at: 150 }],
    ['equals: the first one', [s(0, 99), s(200, 299)], 10, { victim: 0, at: 50 }],
    ['exactly 2 · minSplit left: split', [s(80, 99)], 10, { victim: 0, at: 90 }],
    ['less than 2 · minSplit left: keep it whole', [s(81, 99)], 10, undefined],
    ['the largest too small, so all are', [s(0, 18), s(50, 60)], 10, undefined],
  ])('%s', ([, running, minSplit, want]) => {
    const got = stealTail(running, minSplit);
    expect(got && { victim: running.indexOf(got.victim), at: got.at }).toEqual(want);
  });
});

describe('withRetries: the one retry loop of the download client', () => {
  /** A loop with tiny waits; `retries` records each retry event's reason. */
  function loop(progress?: () => number): { loop: RetryLoop; retries: string[] } {
    const retries: string[] = [];
    return {
      retries,
      loop: {
        policy: { attempts: 3, baseMs: 1, maxMs: 2 },
        stallMs: 10_000,
        signal: new AbortController().signal,
        subject: () => 'bytes 0-9',
        range: () => ({ start: 0, end: 9 }),
        ...(progress && { progress }),
        onRetry: (_range, reason) => retries.push(reason),
      },
    };
  }
  const transient = (status: number) => new DownloadError('http', `HTTP ${status}`, status);

  it.for<[string, unknown, boolean]>([
    ['a network error', new TypeError('fetch failed'), true],
    ['TryAgain (a short body, an answer to retry)', new TryAgain('no bytes'), true],
    ['503', transient(503), true],
    ['429', transient(429), true],
    ['408', transient(408), true],
    ['404: final', new DownloadError('http', 'HTTP 404', 404), false],
    ['an http failure without a status: final', new DownloadError('http', '416 for bytes=0-0'), false],
    ['a file error: final', new DownloadError('file', 'disk full'), false],
    ['the object changed: final (the download starts over)', new ObjectChanged('412 to If-Match'), false],
  ])('%s: retried %s', async ([, error, retried]) => {
    const { loop: l, retries } = loop();
    let tries = 0;
    const run = withRetries(l, async () => {
      if (++tries === 1) throw error;
      return 'ok';
    });
    if (retried) {
      await expect(run).resolves.toBe('ok');
      expect(retries).toHaveLength(1);
    } else {
      await expect(run).rejects.toBe(error);
      expect(retries).toHaveLength(0);
    }
    expect(tries).toBe(retried ? 2 : 1);
  });

  it('gives up after `attempts` tries in a row without progress, naming the subject and the last problem', async () => {
    const { loop: l, retries } = loop();
    let tries = 0;
    await expect(withRetries(l, async () => (tries++, Promise.reject(new TryAgain('no bytes'))))).rejects.toMatchObject({
      failure: 'network',
      message: 'bytes 0-9: no bytes (3 tries without progress)',
    });
    expect(tries).toBe(3);
    expect(retries).toEqual(['no bytes', 'no bytes']);
  });

  it('a try that got further than any before resets the count and is tried again at once', async () => {
    let pos = 0;
    const { loop: l, retries } = loop(() => pos);
    // Progress on tries 1-4 (each cut), none on 5-6, done on 7: never three in a row without progress.
    const plan = [5, 10, 15, 20, 20, 20];
    let tries = 0;
    await expect(
      withRetries(l, async () => {
        const to = plan[tries++];
        if (to === undefined) return 'done';
        pos = to;
        throw new TypeError('terminated');
      }),
    ).resolves.toBe('done');
    expect(tries).toBe(7);
    expect(retries).toHaveLength(2); // only the tries without progress waited
  });

  it('once the caller aborts, the try\'s error ends the loop', async () => {
    const stop = new AbortController();
    const { loop: l } = loop();
    const error = new TypeError('aborted');
    await expect(
      withRetries({ ...l, signal: stop.signal }, async () => {
        stop.abort();
        throw error;
      }),
    ).rejects.toBe(error);
  });
});

describe('readByteranges (§14.6)', () => {
  const SIZE = 100_000;
  const object = pseudoRandomBytes(SIZE, 7);
  const encoder = new TextEncoder();

  /** The body lib/multipart.ts writes, with an optional preamble (nginx opens with CRLF). */
  function body(parts: readonly ByteRange[], preamble = '', boundary?: string): { bytes: Uint8Array; boundary: string } {
    const layout = multipartLayout(parts, SIZE, 'application/octet-stream', boundary);
    const pieces: Uint8Array[] = [encoder.encode(preamble)];
    layout.heads.forEach((h, i) => pieces.push(h, object.subarray(parts[i]!.start, parts[i]!.end + 1)));
    pieces.push(layout.tail);
    const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) bytes.set(p, (at += p.length) - p.length);
    return { bytes, boundary: layout.boundary };
  }

  async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  async function collect(events: AsyncIterable<ByterangesEvent>): Promise<{ range: ByteRange; bytes: number[] }[]> {
    const parts: { range: ByteRange; bytes: number[] }[] = [];
    for await (const e of events) {
      if (e.kind === 'part') parts.push({ range: e.range, bytes: [] });
      else {
        const last = parts[parts.length - 1]!;
        expect(e.position).toBe(last.range.start + last.bytes.length);
        last.bytes.push(...e.bytes);
      }
    }
    return parts;
  }

  const PARTS = [{ start: 0, end: 9 }, { start: 5000, end: 5999 }, { start: 99_990, end: 99_999 }];

  it.for([1, 2, 7, 64, 1000, 1 << 20])('chunks of %i bytes: every part, in order, at its position', async (size) => {
    const { bytes, boundary } = body(PARTS);
    const parts = await collect(readByteranges(chunked(bytes, size), boundary));
    expect(parts.map((p) => p.range)).toEqual(PARTS);
    parts.forEach((p) => expect(p.bytes).toEqual([...object.subarray(p.range.start, p.range.end + 1)]));
  });

  it('a preamble before the first boundary (nginx sends a CRLF) is skipped', async () => {
    const { bytes, boundary } = body(PARTS, '\r\nsome preamble\r\n');
    expect((await collect(readByteranges(chunked(bytes, 3), boundary))).map((p) => p.range)).toEqual(PARTS);
  });

  it('part bytes that contain the boundary are taken by length, not searched', async () => {
    const boundary = 'B';
    const trap = body([{ start: 0, end: 3 }, { start: 10, end: 13 }], '', boundary);
    // The first part's 4 bytes become "--B\r" itself.
    const at = new TextDecoder('latin1').decode(trap.bytes).indexOf('\r\n\r\n') + 4;
    trap.bytes.set(encoder.encode('--B\r'), at);
    const parts = await collect(readByteranges(chunked(trap.bytes, 5), boundary));
    expect(parts.map((p) => p.range)).toEqual([{ start: 0, end: 3 }, { start: 10, end: 13 }]);
  });

  it.for([
    ['a truncated body', (b: Uint8Array) => b.subarray(0, b.length - 45), /ended inside a part/],
    ['no close delimiter', (b: Uint8Array) => b.subarray(0, b.length - 10), /before the close delimiter|boundary/],
    ['a part without Content-Range', (b: Uint8Array) => replace(b, 'Content-Range', 'Content-Rangx'), /without Content-Range/],
    ['a bad Content-Range', (b: Uint8Array) => replace(b, 'bytes 0-9/', 'bytes 9-0/'), /bad Content-Range/],
    ['bytes where a boundary is due', (b: Uint8Array) => replace(b, '\r\n--', '\r\nXX'), /not followed by a boundary/],
  ] as const)('%s: MultipartError', async ([, mangle, message]) => {
    const { bytes, boundary } = body(PARTS);
    await expect(collect(readByteranges(chunked(mangle(bytes), 100), boundary))).rejects.toThrow(message);
  });

  function replace(bytes: Uint8Array, from: string, to: string): Uint8Array {
    const text = new TextDecoder('latin1').decode(bytes);
    const i = text.indexOf(from, 10);
    return Uint8Array.from([...bytes.subarray(0, i), ...encoder.encode(to), ...bytes.subarray(i + from.length)]);
  }

  it.for([
    ['multipart/byteranges; boundary=abc', 'abc'],
    ['Multipart/ByteRanges;boundary="a b:c"', 'a b:c'],
    ['multipart/byteranges; charset=x; BOUNDARY=3d6b', '3d6b'],
    ['multipart/mixed; boundary=abc', null],
    ['multipart/byteranges', null],
    ['text/plain', null],
  ] as const)('byterangesBoundary(%s) = %s', ([type, expected]) => {
    expect(byterangesBoundary(type)).toBe(expected);
  });
});

describe('judgeAnswer', () => {
  const object = { url: 'u', size: 1000, etag: '"abc"', lastModified: null, acceptRanges: 'bytes' };
  const asked = [{ start: 100, end: 199 }];
  const res = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

  it.for([
    ['206 as asked', res(206, { 'content-range': 'bytes 100-199/1000', etag: '"abc"' }), 'single'],
    ['206, fewer bytes than asked', res(206, { 'content-range': 'bytes 100-149/1000' }), 'single'],
    ['206 from another byte', res(206, { 'content-range': 'bytes 101-199/1000' }), 'retry'],
    ['206 without Content-Range', res(206), 'retry'],
    ['206 with another ETag', res(206, { 'content-range': 'bytes 100-199/1000', etag: '"new"' }), 'changed'],
    ['206 with another length', res(206, { 'content-range': 'bytes 100-199/2000' }), 'changed'],
    ['200 with another ETag (If-Range failed)', res(200, { etag: '"new"' }), 'changed'],
    ['200 without ETag', res(200), 'changed'],
    ['200 with the same ETag (range refused)', res(200, { etag: '"abc"' }), 'refused'],
    ['412 (If-Match failed)', res(412), 'changed'],
    ['416', res(416, { 'content-range': 'bytes */50' }), 'changed'],
    ['503', res(503), 'retry'],
    ['429', res(429), 'retry'],
    ['404', res(404), 'fatal'],
  ] as const)('%s: %s', ([, response, kind]) => {
    expect(judgeAnswer(response, object, asked).kind).toBe(kind);
  });

  it('a multi-range request: multipart, or one part from the first range (radosgw), or one covering part', () => {
    const many = [{ start: 0, end: 9 }, { start: 100, end: 109 }];
    expect(judgeAnswer(res(206, { 'content-type': 'multipart/byteranges; boundary=x' }), object, many)).toEqual({ kind: 'multipart', boundary: 'x' });
    expect(judgeAnswer(res(206, { 'content-range': 'bytes 0-9/1000' }), object, many).kind).toBe('single');
    expect(judgeAnswer(res(206, { 'content-range': 'bytes 0-109/1000' }), object, many).kind).toBe('single');
    expect(judgeAnswer(res(206, { 'content-type': 'multipart/byteranges; boundary=x' }), object, [many[0]!]).kind).toBe('retry');
  });
});

describe('validators', () => {
  const base: RemoteObject & { size: number } = { url: 'u', size: 10, etag: null, lastModified: null, acceptRanges: null };
  it.for([
    ['"abc"', true],
    ['W/"abc"', false],
    ['abc', false],
    ['""', true],
  ] as const)('isStrongEtag(%s) = %s', ([etag, strong]) => {
    expect(isStrongEtag(etag)).toBe(strong);
  });

  it('If-Range and If-Match on a strong ETag; If-Range on the date otherwise; nothing without validators', () => {
    expect(validatorHeaders({ ...base, etag: '"a"', lastModified: 'd' })).toEqual({ 'if-range': '"a"', 'if-match': '"a"' });
    expect(validatorHeaders({ ...base, etag: 'W/"a"', lastModified: 'd' })).toEqual({ 'if-range': 'd' });
    expect(validatorHeaders(base)).toEqual({});
  });

  it.for([
    ['"0123456789abcdef0123456789ABCDEF"', '0123456789abcdef0123456789abcdef'],
    ['"0123456789abcdef0123456789abcdef-3"', null],
    ['W/"0123456789abcdef0123456789abcdef"', null],
    ['"6b047f8a-1312d00"', null],
    [null, null],
  ] as const)('md5OfEtag(%s) = %s', ([etag, md5]) => {
    expect(md5OfEtag(etag)).toBe(md5);
  });

  it.for([
    ['same size and ETag', { etag: '"a"' }, { etag: '"a"' }, true],
    ['another ETag', { etag: '"a"' }, { etag: '"b"' }, false],
    ['another size', { etag: '"a"' }, { etag: '"a"', size: 11 }, false],
    ['ETag gone', { etag: '"a"' }, {}, false],
    ['weak ETags', { etag: 'W/"a"' }, { etag: 'W/"a"' }, false],
    ['no ETags, same Last-Modified', { lastModified: 'd' }, { lastModified: 'd' }, true],
    ['no validators at all', {}, {}, false],
  ] as const)('stateMatches: %s -> %s', ([, saved, now, expected]) => {
    const state = stateFor({ ...base, ...saved }, []);
    expect(stateMatches(state, { ...base, ...now })).toBe(expected);
  });
});

describe('progress', () => {
  it('RateMeter: bytes per second over the window', () => {
    const m = new RateMeter(5000);
    expect(m.sample(0, 0)).toBe(0);
    expect(m.sample(1000, 1000)).toBe(1000);
    expect(m.sample(2000, 3000)).toBe(1500);
    expect(m.sample(10_000, 3000)).toBeCloseTo(0);
  });

  it('plain and bar lines', () => {
    const p = progressLine({ written: 16 * 1024 * 1024, size: 64 * 1024 * 1024, fetchedBytes: 0, connections: 4 }, 8 * 1024 * 1024);
    expect(plainLine(p)).toBe('16.0 MiB / 64.0 MiB (25%)  8.0 MiB/s  ETA 6s  4 conn');
    const bar = barLine(p, 100);
    expect(bar.length).toBeLessThan(100);
    expect(bar).toMatch(/^\[#+\.+\] 16\.0 MiB/);
  });
});
