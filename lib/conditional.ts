/**
 * Conditional requests (RFC 9110 §13): entity-tags, HTTP-dates, and the
 * evaluation of preconditions in the order of §13.2.2.
 */

/**
 * The conditional request fields (§13.1): what a CORS preflight allows, and
 * what the viewer-request function decides and removes.
 */
export const CONDITIONAL_FIELDS = ['If-Range', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since'] as const;

/** What a precondition check needs to know about the selected representation. */
export interface Validators {
  /** The entity-tag as sent in `ETag`: strong (`"…"`) or weak (`W/"…"`). */
  readonly etag: string;
  readonly lastModified?: Date | undefined;
}

export interface EntityTag {
  readonly weak: boolean;
  /** The opaque-tag including its double quotes. */
  readonly opaque: string;
}

/**
 * Parses an entity-tag list (`If-Match`, `If-None-Match`, §13.1.1–2):
 * `*` or `1#entity-tag`, with the empty list members §5.6.1 tells a
 * recipient to accept. Returns null when the field does not parse as a
 * whole — a garbled member, members not separated by commas, `*` beside
 * tags, or no member at all: such a field names no representation, and
 * the caller decides what that means (it never matches by accident).
 */
export function parseETagList(value: string): '*' | EntityTag[] | null {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[ \t,]+/, '');
    if (rest === '') return tags.length > 0 ? tags : null;
    const scanned = scanETag(rest);
    if (scanned === null) return null;
    tags.push(scanned.tag);
    rest = scanned.rest;
    // Members are separated by OWS "," OWS.
    if (!/^[ \t]*(,|$)/.test(rest)) return null;
  }
}

/** Parses exactly one entity-tag, or returns null (used for `If-Range`). */
export function parseETag(value: string): EntityTag | null {
  const scanned = scanETag(value.trim());
  return scanned !== null && scanned.rest === '' ? scanned.tag : null;
}

/**
 * entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
 * etagc      = %x21 / %x23-7E / obs-text           (§8.8.3)
 */
function scanETag(s: string): { tag: EntityTag; rest: string } | null {
  const weak = s.startsWith('W/');
  const start = weak ? 2 : 0;
  if (s.charCodeAt(start) !== 0x22) return null;
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { tag: { weak, opaque: s.slice(start, i + 1) }, rest: s.slice(i + 1) };
    if (!(c === 0x21 || (c >= 0x23 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) return null;
  }
  return null;
}

/** §8.8.3.2: both strong and their opaque-tags equal. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** §8.8.3.2: opaque-tags equal, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three formats of §5.6.7 (IMF-fixdate,
 * the obsolete RFC 850 and asctime forms). Returns null when invalid.
 * `now` only serves the RFC 850 two-digit year rule.
 */
export function parseHttpDate(value: string, now: Date = new Date()): Date | null {
  const s = value.trim();
  let m = IMF_FIXDATE.exec(s);
  if (m) return utc(+m[3]!, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  m = RFC850_DATE.exec(s);
  if (m) {
    // §5.6.7: a two-digit year that appears more than 50 years in the future
    // is the most recent past year with the same last two digits.
    const thisYear = now.getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + +m[3]!;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  }
  m = ASCTIME_DATE.exec(s);
  if (m) return utc(+m[6]!, m[1]!, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!);
  return null;
}

function utc(year: number, month: string, day: number, hour: number, minute: number, second: number): Date | null {
  const mon = MONTHS.indexOf(month);
  if (mon < 0 || hour > 23 || minute > 59 || second > 60) return null;
  const date = new Date(Date.UTC(year, mon, day, hour, minute, Math.min(second, 59)));
  // Reject days that roll over into the next month (31 Feb).
  return date.getUTCDate() === day ? date : null;
}

/** HTTP-dates have one-second resolution; compare at that resolution. */
function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

export type PreconditionFailure = 304 | 412;

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since in the order of RFC 9110 §13.2.2. Returns the status to
 * answer with, or null to go on. If-Range is `ifRangeHolds`, step 5.
 */
export function evaluatePreconditions(
  method: string,
  headers: Headers,
  current: Validators,
): PreconditionFailure | null {
  const safe = method === 'GET' || method === 'HEAD';
  const self = currentTag(current);

  // Step 1: If-Match (§13.1.1), strong comparison; `*` matches any current representation.
  // A malformed field matches nothing, so it fails closed: If-Match exists
  // to keep a client from acting on the wrong version.
  const ifMatch = headers.get('if-match');
  if (ifMatch !== null) {
    const list = parseETagList(ifMatch);
    if (list !== '*' && !list?.some((t) => strongMatch(t, self))) return 412;
  } else {
    // Step 2: If-Unmodified-Since (§13.1.4), only without If-Match; an invalid date is ignored.
    const since = dateField(headers.get('if-unmodified-since'));
    if (since !== null && current.lastModified && seconds(current.lastModified) > seconds(since)) return 412;
  }

  // Step 3: If-None-Match (§13.1.2), weak comparison. A malformed field
  // matches nothing either: the full answer is sent (never a 304 that would
  // confirm a cached copy the field cannot name), and being present it
  // still sets If-Modified-Since aside.
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const list = parseETagList(ifNoneMatch);
    if (list === '*' || list?.some((t) => weakMatch(t, self))) return safe ? 304 : 412;
  } else if (safe) {
    // Step 4: If-Modified-Since (§13.1.3), only without If-None-Match and for GET/HEAD.
    const since = dateField(headers.get('if-modified-since'));
    if (since !== null && current.lastModified && seconds(current.lastModified) <= seconds(since)) return 304;
  }
  return null;
}

/**
 * Step 5, If-Range (§13.1.5): true when the Range may be honoured. An
 * entity-tag matches only by strong comparison (a `W/` tag never does); a
 * date only when it equals Last-Modified exactly. Anything else — a weak or
 * different tag, another date, an unparseable value — means "send it all".
 */
export function ifRangeHolds(value: string | null, current: Validators): boolean {
  if (value === null) return true;
  const trimmed = value.trim();
  // §13.1.5: a valid entity-tag is told from a date by its first characters.
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) {
    const tag = parseETag(trimmed);
    return tag !== null && strongMatch(tag, currentTag(current));
  }
  const date = parseHttpDate(trimmed);
  return date !== null && current.lastModified !== undefined && seconds(date) === seconds(current.lastModified);
}

/**
 * Whether If-Range `value` fails against every representation (§13.1.5):
 * a weak entity-tag (strong comparison never matches it), or a value that
 * is neither an entity-tag nor a date. The Range is then ignored before
 * anything is known of the object.
 */
export function ifRangeNeverHolds(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return parseETag(trimmed)?.weak !== false;
  return parseHttpDate(trimmed) === null;
}

/**
 * The representation's own tag. A weak one (an HTTP origin's `W/"…"`) keeps
 * its weakness, so If-Match and If-Range (strong comparison) never match it
 * while If-None-Match (weak comparison) still does.
 */
function currentTag(current: Validators): EntityTag {
  return parseETag(current.etag) ?? { weak: false, opaque: current.etag };
}

/** §13.1.3–4: a date field with more than one member, or not a date, is ignored. */
function dateField(value: string | null): Date | null {
  return value === null ? null : parseHttpDate(value);
}
