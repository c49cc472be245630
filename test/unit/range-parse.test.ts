import { describe, expect, it } from 'vitest';
import { parseRange, type RangeSpec } from '../../lib/range/parse.ts';

const INF = Infinity;

describe('parseRange', () => {
  it.for<[string, RangeSpec[] | null]>([
    // RFC 9110 §14.1.2's own examples.
    ['bytes=0-499', [{ first: 0, last: 499 }]],
    ['bytes=500-999', [{ first: 500, last: 999 }]],
    ['bytes=-500', [{ suffix: 500 }]],
    ['bytes=9500-', [{ first: 9500, last: INF }]],
    ['bytes=0-0,-1', [{ first: 0, last: 0 }, { suffix: 1 }]],
    ['bytes=0-999,4500-5499,-1000', [{ first: 0, last: 999 }, { first: 4500, last: 5499 }, { suffix: 1000 }]],
    ['bytes=500-600,601-999', [{ first: 500, last: 600 }, { first: 601, last: 999 }]],
    ['bytes=500-700,601-999', [{ first: 500, last: 700 }, { first: 601, last: 999 }]],
    // Case of the unit (§14.1).
    ['BYTES=1-2', [{ first: 1, last: 2 }]],
    ['Bytes=1-2', [{ first: 1, last: 2 }]],
    // OWS around commas, empty list elements (§5.6.1.2).
    ['bytes=1-2 , 3-4', [{ first: 1, last: 2 }, { first: 3, last: 4 }]],
    ['bytes=1-2,\t3-4', [{ first: 1, last: 2 }, { first: 3, last: 4 }]],
    ['bytes= 1-2', [{ first: 1, last: 2 }]],
    ['bytes=,1-2,,3-4,', [{ first: 1, last: 2 }, { first: 3, last: 4 }]],
    ['bytes=007-008', [{ first: 7, last: 8 }]],
    ['bytes=5-5', [{ first: 5, last: 5 }]],
    ['bytes=-0', [{ suffix: 0 }]],
    // Numbers past 2^53 saturate, never wrap (nginx CVE-2017-7529).
    ['bytes=0-18446744073709551616', [{ first: 0, last: INF }]],
    ['bytes=18446744073709551616-', [{ first: INF, last: INF }]],
    ['bytes=-99999999999999999999999', [{ suffix: INF }]],
    ['bytes=9007199254740991-9007199254740992', [{ first: 9007199254740991, last: INF }]],
    ['bytes=00000000000000000000001-2', [{ first: 1, last: 2 }]],
    // Ignored: invalid syntax or another unit (§14.2).
    ['bytes=5-4', null],
    ['bytes=99999999999999999999999-99999999999999999999998', null],
    ['bytes=0002-1', null],
    ['bytes=', null],
    ['bytes=,', null],
    ['bytes', null],
    ['bytes 0-1', null],
    ['=0-1', null],
    ['items=0-1', null],
    ['bytes =0-1', null],
    ['bytes=0 - 1', null],
    ['bytes=-', null],
    ['bytes=--1', null],
    ['bytes=-1-2', null],
    ['bytes=1-2-3', null],
    ['bytes=+1-2', null],
    ['bytes=1.5-2', null],
    ['bytes=0x10-20', null],
    ['bytes=1-2,abc', null],
    ['bytes=1-2;3-4', null],
    ['bytes=１-2', null], // a full-width digit is not DIGIT
    ['', null],
  ])('%s', ([value, want]) => {
    expect(parseRange(value)).toEqual(want);
  });

  it('parses thousands of specs in order', () => {
    const value = 'bytes=' + Array.from({ length: 5000 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
    const specs = parseRange(value);
    expect(specs).toHaveLength(5000);
    expect(specs?.[4999]).toEqual({ first: 9998, last: 9998 });
  });
});
