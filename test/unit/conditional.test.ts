import { describe, expect, it } from 'vitest';
import {
  evaluatePreconditions,
  ifRangeHolds,
  ifRangeNeverHolds,
  parseETagList,
  parseHttpDate,
  strongMatch,
  weakMatch,
  type EntityTag,
} from '../../lib/conditional.ts';

const ETAG = '"abc"';
const MODIFIED = new Date('2024-03-05T10:20:30Z');
const AT = 'Tue, 05 Mar 2024 10:20:30 GMT';
const BEFORE = 'Tue, 05 Mar 2024 10:20:29 GMT';
const AFTER = 'Tue, 05 Mar 2024 10:20:31 GMT';
const current = { etag: ETAG, lastModified: MODIFIED };
const tag = (opaque: string, weak = false): EntityTag => ({ weak, opaque });

describe('parseETagList', () => {
  it.for<[string, '*' | EntityTag[] | null]>([
    ['*', '*'],
    [' * ', '*'],
    ['"xyzzy"', [tag('"xyzzy"')]],
    ['"xyzzy", "r2d2xxxx", "c3piozzzz"', [tag('"xyzzy"'), tag('"r2d2xxxx"'), tag('"c3piozzzz"')]],
    ['W/"xyzzy",W/"r2d2xxxx"', [tag('"xyzzy"', true), tag('"r2d2xxxx"', true)]],
    ['""', [tag('""')]],
    [' ,"a",, "b" ,', [tag('"a"'), tag('"b"')]],
    // Malformed as a whole: null, never the tags before the damage.
    ['"a" "b"', null],
    ['"a", b, "c"', null],
    ['"abc"xyz', null],
    ['unquoted', null],
    ['w/"lowercase-w"', null],
    ['"a"b"', null],
    ['"unterminated', null],
    ['"has space"', null],
    ['*, "a"', null],
    ['', null],
    [' , ', null],
  ])('%s', ([value, want]) => {
    expect(parseETagList(value)).toEqual(want);
  });
});

describe('entity-tag comparison (§8.8.3.2 table)', () => {
  it.for<[EntityTag, EntityTag, boolean, boolean]>([
    [tag('"1"', true), tag('"1"', true), false, true],
    [tag('"1"', true), tag('"2"', true), false, false],
    [tag('"1"', true), tag('"1"'), false, true],
    [tag('"1"'), tag('"1"'), true, true],
  ])('%j vs %j', ([a, b, strong, weak]) => {
    expect(strongMatch(a, b)).toBe(strong);
    expect(weakMatch(a, b)).toBe(weak);
  });
});

describe('parseHttpDate (§5.6.7)', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it.for<[string, string | null]>([
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // obsolete RFC 850
    ['Sun Nov  6 08:49:37 1994', '1994-11-06T08:49:37.000Z'], // asctime
    ['Sun Nov 16 08:49:37 1994', '1994-11-16T08:49:37.000Z'],
    ['Monday, 01-Jan-76 00:00:00 GMT', '2076-01-01T00:00:00.000Z'], // 50 years ahead: kept
    ['Thursday, 01-Jan-77 00:00:00 GMT', '1977-01-01T00:00:00.000Z'], // more than 50 ahead: past century
    [' Sun, 06 Nov 1994 08:49:37 GMT ', '1994-11-06T08:49:37.000Z'],
    ['Sun, 06 Nov 1994 08:49:37 UTC', null],
    ['Sun, 6 Nov 1994 08:49:37 GMT', null],
    ['Sun, 06 nov 1994 08:49:37 GMT', null],
    ['Sun, 31 Feb 1994 08:49:37 GMT', null],
    ['Sun, 06 Nov 1994 24:00:00 GMT', null],
    ['1994-11-06T08:49:37Z', null],
    ['', null],
  ])('%s', ([value, want]) => {
    expect(parseHttpDate(value, now)?.toISOString() ?? null).toBe(want);
  });
});

describe('evaluatePreconditions (§13.2.2 order)', () => {
  it.for<[string, string, Record<string, string>, 304 | 412 | null]>([
    ['no conditions', 'GET', {}, null],
    ['If-Match current', 'GET', { 'if-match': ETAG }, null],
    ['If-Match *', 'GET', { 'if-match': '*' }, null],
    ['If-Match in list', 'GET', { 'if-match': '"x", "abc"' }, null],
    ['If-Match other', 'GET', { 'if-match': '"x"' }, 412],
    ['If-Match weak is never strong', 'GET', { 'if-match': 'W/"abc"' }, 412],
    ['If-Match garbage', 'GET', { 'if-match': 'abc' }, 412],
    // A malformed field fails closed, even with the current tag before the damage.
    ['If-Match current tag then garbage', 'GET', { 'if-match': `${ETAG}xyz` }, 412],
    ['If-Match current tag, then no comma', 'HEAD', { 'if-match': `${ETAG} "x"` }, 412],
    ['If-Match empty', 'GET', { 'if-match': '' }, 412],
    ['If-Unmodified-Since before', 'GET', { 'if-unmodified-since': BEFORE }, 412],
    ['If-Unmodified-Since at', 'GET', { 'if-unmodified-since': AT }, null],
    ['If-Unmodified-Since after', 'GET', { 'if-unmodified-since': AFTER }, null],
    ['If-Unmodified-Since invalid: ignored', 'GET', { 'if-unmodified-since': 'yesterday' }, null],
    ['If-Match wins over If-Unmodified-Since', 'GET', { 'if-match': ETAG, 'if-unmodified-since': BEFORE }, null],
    ['If-None-Match current', 'GET', { 'if-none-match': ETAG }, 304],
    ['If-None-Match weak matches weakly', 'GET', { 'if-none-match': 'W/"abc"' }, 304],
    ['If-None-Match *', 'HEAD', { 'if-none-match': '*' }, 304],
    ['If-None-Match other', 'GET', { 'if-none-match': '"x"' }, null],
    ['If-None-Match on an unsafe method: 412', 'POST', { 'if-none-match': ETAG }, 412],
    ['If-Modified-Since at', 'GET', { 'if-modified-since': AT }, 304],
    ['If-Modified-Since after', 'GET', { 'if-modified-since': AFTER }, 304],
    ['If-Modified-Since before', 'GET', { 'if-modified-since': BEFORE }, null],
    ['If-Modified-Since for POST: ignored', 'POST', { 'if-modified-since': AT }, null],
    ['If-Modified-Since invalid: ignored', 'GET', { 'if-modified-since': 'never' }, null],
    // A malformed If-None-Match matches nothing (full answer, never 304) and still sets If-Modified-Since aside.
    ['If-None-Match current tag then garbage', 'GET', { 'if-none-match': `${ETAG}xyz` }, null],
    ['If-None-Match garbage beside If-Modified-Since', 'GET', { 'if-none-match': 'abc', 'if-modified-since': AT }, null],
    ['If-None-Match wins over If-Modified-Since', 'GET', { 'if-none-match': '"x"', 'if-modified-since': AT }, null],
    ['If-Match failure comes first', 'GET', { 'if-match': '"x"', 'if-none-match': ETAG }, 412],
    ['both pass', 'GET', { 'if-match': ETAG, 'if-none-match': '"x"' }, null],
  ])('%s', ([, method, headers, want]) => {
    expect(evaluatePreconditions(method, new Headers(headers), current)).toBe(want);
  });

  it('ignores date conditions when there is no Last-Modified', () => {
    const noDate = { etag: ETAG };
    expect(evaluatePreconditions('GET', new Headers({ 'if-modified-since': AT }), noDate)).toBe(null);
    expect(evaluatePreconditions('GET', new Headers({ 'if-unmodified-since': BEFORE }), noDate)).toBe(null);
  });

  it('compares at one-second resolution', () => {
    const fractional = { etag: ETAG, lastModified: new Date(MODIFIED.getTime() + 999) };
    expect(evaluatePreconditions('GET', new Headers({ 'if-modified-since': AT }), fractional)).toBe(304);
  });
});

describe('ifRangeHolds (§13.1.5)', () => {
  it.for<[string | null, boolean]>([
    [null, true],
    [ETAG, true],
    [` ${ETAG} `, true],
    ['W/"abc"', false], // weak never matches
    ['"other"', false],
    ['"abc", "def"', false], // one entity-tag, not a list
    [AT, true], // exactly Last-Modified
    [BEFORE, false],
    [AFTER, false],
    ['Tuesday, 05-Mar-24 10:20:30 GMT', true],
    ['garbage', false],
    ['', false],
  ])('%s', ([value, want]) => {
    expect(ifRangeHolds(value, current)).toBe(want);
  });

  it.for<[string, boolean]>([
    [ETAG, false],
    ['"other"', false], // another representation's tag may be this one's
    [AT, false],
    [BEFORE, false],
    ['W/"abc"', true],
    [' W/"abc" ', true],
    ['"abc", "def"', true],
    ['"unclosed', true],
    ['garbage', true],
    ['', true],
  ])('ifRangeNeverHolds(%s) is %s, and then it holds for no representation', ([value, never]) => {
    expect(ifRangeNeverHolds(value)).toBe(never);
    if (never) for (const rep of [current, { etag: value.trim() }, { etag: ETAG }]) expect(ifRangeHolds(value, rep)).toBe(false);
  });

  it('never holds on a date when there is no Last-Modified', () => {
    expect(ifRangeHolds(AT, { etag: ETAG })).toBe(false);
  });
});

describe('a representation whose own ETag is weak (an HTTP origin with W/ tags)', () => {
  const weakCurrent = { etag: 'W/"abc"', lastModified: MODIFIED };
  it.for<[string, Record<string, string>, 304 | 412 | null]>([
    ['If-Match with the same tag: 412 (strong comparison, §13.1.1)', { 'if-match': 'W/"abc"' }, 412],
    ['If-Match with the strong form: 412', { 'if-match': '"abc"' }, 412],
    ['If-Match *: passes', { 'if-match': '*' }, null],
    ['If-None-Match with the same tag: 304 (weak comparison, §13.1.2)', { 'if-none-match': 'W/"abc"' }, 304],
    ['If-None-Match with the strong form: 304', { 'if-none-match': '"abc"' }, 304],
    ['If-None-Match other: passes', { 'if-none-match': 'W/"x"' }, null],
  ])('%s', ([, headers, want]) => {
    expect(evaluatePreconditions('GET', new Headers(headers), weakCurrent)).toBe(want);
  });

  it.for<[string, boolean]>([
    ['W/"abc"', false],
    ['"abc"', false],
    [AT, true],
  ])('If-Range %s holds: %s (an entity-tag needs strong comparison, §13.1.5)', ([value, want]) => {
    expect(ifRangeHolds(value, weakCurrent)).toBe(want);
  });
});
