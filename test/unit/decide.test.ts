/**
 * decide(): the one decision the origin (serve.ts), the viewer-request
 * function and the streaming origin share — preconditions (RFC 9110
 * §13.2.2 steps 1–4), then If-Range (step 5, §13.1.5), then Range (§14.2),
 * for GET and HEAD. Two tables: notable requests with their literal
 * decisions, and every combination of the four axes against the order of
 * §13.2.2, each axis value's effect written beside it.
 */
import { describe, expect, it } from 'vitest';
import { decide, type Decision } from '../../lib/decide.ts';
import type { ByteRange } from '../../lib/range/byte-range.ts';
import { DEFAULT_RANGE_LIMITS, type RangePlan } from '../../lib/range/plan.ts';
import type { ObjectMeta } from '../../lib/store/types.ts';

const META: ObjectMeta = {
  size: 1000,
  etag: '"v1"',
  lastModified: new Date('2026-01-01T00:00:00Z'),
  http: { contentType: 'text/plain' },
};
const LAST_MODIFIED = 'Thu, 01 Jan 2026 00:00:00 GMT';
const EARLIER = 'Wed, 31 Dec 2025 23:59:59 GMT';
const LATER = 'Thu, 01 Jan 2026 00:00:01 GMT';

const r = (start: number, end: number): ByteRange => ({ start, end });
const full: RangePlan = { kind: 'full' };
const single = (start: number, end: number): RangePlan => ({ kind: 'single', range: r(start, end) });
const serve = (plan: RangePlan, rangesAsked = 0): Decision => ({ plan, rangesAsked });
const fail = (status: 304 | 412): Decision => ({ failed: status });

function decideFor(method: string, fields: Record<string, string>): Decision {
  return decide(method, new Headers(fields), META, DEFAULT_RANGE_LIMITS);
}

describe('decide: notable requests', () => {
  it.for<[string, string, Record<string, string>, Decision]>([
    ['no fields: the whole representation', 'GET', {}, serve(full)],
    ['one range', 'GET', { range: 'bytes=0-99' }, serve(single(0, 99), 1)],
    ['a suffix range', 'GET', { range: 'bytes=-10' }, serve(single(990, 999), 1)],
    [
      'two ranges: multipart, one upstream GET for both (gap under upstreamGap)',
      'GET',
      { range: 'bytes=0-9,100-109' },
      serve({ kind: 'multi', parts: [r(0, 9), r(100, 109)], gets: [{ ...r(0, 109), parts: [r(0, 9), r(100, 109)] }] }, 2),
    ],
    ['overlapping ranges coalesce to one part (§15.3.7)', 'GET', { range: 'bytes=0-9,5-19' }, serve(single(0, 19), 2)],
    // 6 × 900 + 50 = 5,450 bytes of parts against 1,000 + SIZE_SLACK (4,096) = 5,096.
    ['parts that add up to more than the object + SIZE_SLACK: 200 (§14.2)', 'GET', { range: 'bytes=0-899,0-899,0-899,0-899,0-899,0-899,950-999' }, serve(full, 7)],
    // Within the slack a small object keeps its parts (as Go and nginx answer).
    [
      'parts over the object but within SIZE_SLACK: multipart',
      'GET',
      { range: 'bytes=0-599,700-999,0-99' },
      serve({ kind: 'multi', parts: [r(0, 599), r(700, 999), r(0, 99)], gets: [{ ...r(0, 999), parts: [r(0, 599), r(700, 999)] }, { ...r(0, 99), parts: [r(0, 99)] }] }, 3),
    ],
    ['unsatisfiable: 416', 'GET', { range: 'bytes=5000-' }, serve({ kind: 'unsatisfiable' }, 1)],
    ['invalid Range: ignored', 'GET', { range: 'bytes=9-1' }, serve(full)],
    ['another unit: ignored', 'GET', { range: 'items=0-1' }, serve(full)],
    ['HEAD ignores Range (§14.2)', 'HEAD', { range: 'bytes=0-99' }, serve(full)],
    ['If-Range with the strong ETag: Range honoured', 'GET', { range: 'bytes=0-99', 'if-range': '"v1"' }, serve(single(0, 99), 1)],
    ['If-Range with a weak tag never matches: 200', 'GET', { range: 'bytes=0-99', 'if-range': 'W/"v1"' }, serve(full)],
    ['If-Range with Last-Modified exactly: Range honoured', 'GET', { range: 'bytes=0-99', 'if-range': LAST_MODIFIED }, serve(single(0, 99), 1)],
    ['If-Range with another date: 200', 'GET', { range: 'bytes=0-99', 'if-range': LATER }, serve(full)],
    ['If-Range without Range: ignored', 'GET', { 'if-range': '"v0"' }, serve(full)],
    ['If-Range failing also spares an unsatisfiable Range: 200', 'GET', { range: 'bytes=5000-', 'if-range': '"v0"' }, serve(full)],
    ['If-Match fails: 412, before Range', 'GET', { 'if-match': '"v0"', range: 'bytes=0-99' }, fail(412)],
    ['If-Match fails even with If-None-Match matching: 412 first (step 1)', 'GET', { 'if-match': '"v0"', 'if-none-match': '"v1"' }, fail(412)],
    ['If-Match `*`: any current representation', 'GET', { 'if-match': '*', range: 'bytes=0-99' }, serve(single(0, 99), 1)],
    ['If-Unmodified-Since before Last-Modified: 412', 'GET', { 'if-unmodified-since': EARLIER }, fail(412)],
    ['If-Unmodified-Since is skipped when If-Match is sent (step 2)', 'GET', { 'if-match': '"v1"', 'if-unmodified-since': EARLIER }, serve(full)],
    ['If-None-Match matches (weakly): 304', 'HEAD', { 'if-none-match': 'W/"v1"' }, fail(304)],
    ['If-None-Match matches: 304, before an unsatisfiable Range', 'GET', { 'if-none-match': '"v1"', range: 'bytes=5000-' }, fail(304)],
    ['If-Modified-Since at Last-Modified: 304', 'GET', { 'if-modified-since': LAST_MODIFIED }, fail(304)],
    ['If-Modified-Since is skipped when If-None-Match is sent (step 4)', 'GET', { 'if-none-match': '"v0"', 'if-modified-since': LAST_MODIFIED }, serve(full)],
  ])('%s', ([, method, fields, want]) => {
    expect(decideFor(method, fields)).toEqual(want);
  });
});

describe('decide: every combination of preconditions × If-Range × Range × method', () => {
  /** Each precondition set with what it does on its own (§13.2.2 steps 1–4). */
  const PRECONDITIONS: [string, Record<string, string>, 304 | 412 | null][] = [
    ['none', {}, null],
    ['If-Match matches', { 'if-match': '"v1"' }, null],
    ['If-Match fails', { 'if-match': '"v0", "v2"' }, 412],
    ['If-Unmodified-Since holds', { 'if-unmodified-since': LAST_MODIFIED }, null],
    ['If-Unmodified-Since fails', { 'if-unmodified-since': EARLIER }, 412],
    ['If-None-Match matches', { 'if-none-match': '"v0", "v1"' }, 304],
    ['If-None-Match `*`', { 'if-none-match': '*' }, 304],
    ['If-None-Match misses', { 'if-none-match': '"v0"' }, null],
    ['If-Modified-Since not modified', { 'if-modified-since': LATER }, 304],
    ['If-Modified-Since modified', { 'if-modified-since': EARLIER }, null],
    ['If-Match fails, If-None-Match matches', { 'if-match': '"v0"', 'if-none-match': '"v1"' }, 412],
  ];
  /** Each If-Range with whether it lets Range through (§13.1.5). */
  const IF_RANGE: [string, Record<string, string>, boolean][] = [
    ['no If-Range', {}, true],
    ['the strong ETag', { 'if-range': '"v1"' }, true],
    ['the ETag, weak', { 'if-range': 'W/"v1"' }, false],
    ['another ETag', { 'if-range': '"v0"' }, false],
    ['Last-Modified exactly', { 'if-range': LAST_MODIFIED }, true],
    ['an earlier date', { 'if-range': EARLIER }, false],
    ['not a validator', { 'if-range': 'yesterday' }, false],
  ];
  /** Each Range with the decision it gets when honoured (§14). */
  const RANGE: [string, Record<string, string>, Decision][] = [
    ['no Range', {}, serve(full)],
    ['bytes=0-99', { range: 'bytes=0-99' }, serve(single(0, 99), 1)],
    ['bytes=0-9,100-109', { range: 'bytes=0-9,100-109' }, serve({ kind: 'multi', parts: [r(0, 9), r(100, 109)], gets: [{ ...r(0, 109), parts: [r(0, 9), r(100, 109)] }] }, 2)],
    ['bytes=5000- (unsatisfiable)', { range: 'bytes=5000-' }, serve({ kind: 'unsatisfiable' }, 1)],
    ['bytes=x (invalid)', { range: 'bytes=x' }, serve(full)],
    ['pages=1 (another unit)', { range: 'pages=1' }, serve(full)],
  ];
  const METHODS = ['GET', 'HEAD'] as const;

  it.for(PRECONDITIONS)('%s', ([name, pre, failure]) => {
    const wrong: string[] = [];
    for (const method of METHODS) {
      for (const [ifRangeName, ifRange, honoured] of IF_RANGE) {
        for (const [rangeName, range, ranged] of RANGE) {
          // §13.2.2: a failed precondition answers first; then HEAD ignores Range (§14.2),
          // then If-Range decides whether a Range counts (§13.1.5), and If-Range without Range is ignored.
          const want: Decision =
            failure !== null ? fail(failure) : method === 'HEAD' || !honoured ? serve(full) : ranged;
          const got = decideFor(method, { ...pre, ...ifRange, ...range });
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            wrong.push(`${method} ${name} / ${ifRangeName} / ${rangeName}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
