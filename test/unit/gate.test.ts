/** The gate every app passes (lib/gate.ts), and the one-read translation of a GET (lib/one-read.ts): tables. */
import { describe, expect, it } from 'vitest';
import { ALLOW, requestGate } from '../../lib/gate.ts';
import { NO_CONDITIONS, oneRead } from '../../lib/one-read.ts';
import { hmacKey, signPath } from '../../lib/signing.ts';
import type { ReadConditions } from '../../lib/store/types.ts';

const SECRET = 'a-long-enough-test-secret';

describe('requestGate', () => {
  const signed = async (path: string) =>
    `${path}?${await signPath(await hmacKey(SECRET), path, Math.floor(Date.now() / 1000) + 60)}`;

  it.for<[string, string, () => Promise<string>, boolean, number | string, string | null]>([
    ['GET: the key, under the prefix', 'GET', async () => '/a%20b.bin', false, 'p/a b.bin', null],
    ['HEAD: the key', 'HEAD', async () => '/a.bin', false, 'p/a.bin', null],
    ['OPTIONS: 204 with Allow', 'OPTIONS', async () => '/a.bin', false, 204, ALLOW],
    ['POST: 405 with Allow', 'POST', async () => '/a.bin', false, 405, ALLOW],
    ['DELETE, signed or not: 405 before the signature', 'DELETE', async () => '/a.bin', true, 405, ALLOW],
    ['unsigned when a secret is set: 403', 'GET', async () => '/a.bin', true, 403, null],
    ['signed: the key', 'GET', () => signed('/a.bin'), true, 'p/a.bin', null],
    ['a dot segment: 400', 'GET', async () => '/a/..%5Cb', false, 400, null],
    ['signed but no key: 400 after the signature', 'GET', () => signed('/a/..%5Cb'), true, 400, null],
  ])('%s', async ([, method, target, withSecret, want, allow]) => {
    const gate = requestGate({ keyPrefix: 'p/', ...(withSecret && { signingSecret: SECRET }) });
    const url = new URL(await target(), 'http://edge.test');
    const passed = await gate(method, url, url.pathname);
    if (typeof want === 'string') {
      expect(passed).toEqual({ key: want });
      return;
    }
    expect('answer' in passed && passed.answer.status).toBe(want);
    if ('answer' in passed) expect(passed.answer.headers.get('allow')).toBe(allow);
  });
});

describe('oneRead: what one store read carries of a GET', () => {
  const ALL: ReadonlySet<keyof ReadConditions> = new Set(['ifMatch', 'ifNoneMatch', 'ifModifiedSince', 'ifUnmodifiedSince']);
  const STEP_1: ReadonlySet<keyof ReadConditions> = new Set(['ifMatch', 'ifUnmodifiedSince']);
  const DATE = 'Tue, 02 Jan 2024 03:04:05 GMT';
  const AT = new Date(DATE);

  it.for<[string, Record<string, string>, ReadonlySet<keyof ReadConditions>, object | undefined]>([
    ['no field: the whole object', {}, NO_CONDITIONS, { ask: { range: undefined, conditions: {} }, ifRangeRides: false }],
    ['one range', { range: 'bytes=5-' }, NO_CONDITIONS, { ask: { range: { first: 5, last: Infinity }, conditions: {} }, ifRangeRides: false }],
    ['an invalid Range is the whole object', { range: 'bytes=5-2' }, NO_CONDITIONS, { ask: { range: undefined, conditions: {} }, ifRangeRides: false }],
    ['several ranges: the long way', { range: 'bytes=0-1,5-6' }, ALL, undefined],
    ['-0: the long way', { range: 'bytes=-0' }, ALL, undefined],
    ['a condition the store does not take: the long way', { 'if-none-match': '"a"' }, STEP_1, undefined],
    ['If-Match, one strong tag', { 'if-match': ' "a" ' }, STEP_1, { ask: { range: undefined, conditions: { ifMatch: '"a"' } }, ifRangeRides: false }],
    ['If-Match: * is not sent', { 'if-match': '*' }, NO_CONDITIONS, { ask: { range: undefined, conditions: {} }, ifRangeRides: false }],
    ['If-Match, a list: the long way', { 'if-match': '"a", "b"' }, ALL, undefined],
    ['If-Match, a weak tag: the long way', { 'if-match': 'W/"a"' }, ALL, undefined],
    ['§13.2.2: If-Unmodified-Since only without If-Match', { 'if-match': '"a"', 'if-unmodified-since': DATE }, STEP_1,
      { ask: { range: undefined, conditions: { ifMatch: '"a"' } }, ifRangeRides: false }],
    ['If-Unmodified-Since alone', { 'if-unmodified-since': DATE }, STEP_1,
      { ask: { range: undefined, conditions: { ifUnmodifiedSince: AT } }, ifRangeRides: false }],
    ['an invalid date is ignored', { 'if-unmodified-since': 'soon' }, NO_CONDITIONS, { ask: { range: undefined, conditions: {} }, ifRangeRides: false }],
    ['If-None-Match, weak: compared weakly', { 'if-none-match': 'W/"a"' }, ALL,
      { ask: { range: undefined, conditions: { ifNoneMatch: '"a"' } }, ifRangeRides: false }],
    ['If-None-Match: *: the long way', { 'if-none-match': '*' }, ALL, undefined],
    ['§13.2.2: If-Modified-Since only without If-None-Match', { 'if-none-match': '"a"', 'if-modified-since': DATE }, ALL,
      { ask: { range: undefined, conditions: { ifNoneMatch: '"a"' } }, ifRangeRides: false }],
    ['If-Range, a strong tag, rides as If-Match', { range: 'bytes=-3', 'if-range': '"a"' }, STEP_1,
      { ask: { range: { suffix: 3 }, conditions: { ifMatch: '"a"' } }, ifRangeRides: true }],
    ['If-Range without Range does nothing', { 'if-range': '"a"' }, NO_CONDITIONS, { ask: { range: undefined, conditions: {} }, ifRangeRides: false }],
    ['If-Range, a date, does not ride', { range: 'bytes=0-1', 'if-range': DATE }, NO_CONDITIONS,
      { ask: { range: { first: 0, last: 1 }, conditions: {} }, ifRangeRides: false }],
    ['If-Range does not ride over If-Match', { range: 'bytes=0-1', 'if-range': '"b"', 'if-match': '"a"' }, STEP_1,
      { ask: { range: { first: 0, last: 1 }, conditions: { ifMatch: '"a"' } }, ifRangeRides: false }],
    ['If-Range does not ride over If-Unmodified-Since', { range: 'bytes=0-1', 'if-range': '"b"', 'if-unmodified-since': DATE }, STEP_1,
      { ask: { range: { first: 0, last: 1 }, conditions: { ifUnmodifiedSince: AT } }, ifRangeRides: false }],
  ])('%s', ([, headers, takes, want]) => {
    expect(oneRead(new Headers(headers), takes)).toEqual(want);
  });
});
