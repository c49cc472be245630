/**
 * Parsing of the `Range` header field (RFC 9110 §14.1.1, §14.2).
 *
 *   Range          = ranges-specifier
 *   ranges-specifier = range-unit "=" range-set
 *   range-set      = 1#range-spec
 *   range-spec     = int-range / suffix-range / other-range
 *   int-range      = first-pos "-" [ last-pos ]
 *   suffix-range   = "-" suffix-length
 *
 * The parser knows nothing about the object: it only turns text into specs.
 * Resolving specs against a length is `resolve.ts`.
 */

/**
 * One range-spec. Positions are plain numbers: any value above
 * Number.MAX_SAFE_INTEGER is saturated to Infinity, which is exact for every
 * comparison against an object length (no object is 2^53 bytes long). The
 * one comparison between two client numbers (last-pos < first-pos) is made
 * on the digit strings, so it never overflows either (nginx CVE-2017-7529).
 */
export type RangeSpec =
  | { readonly first: number; readonly last: number } // `a-b`, or `a-` with last = Infinity
  | { readonly suffix: number }; // `-n`

/**
 * Parses a `Range` field value. Returns the specs in request order, or `null`
 * when the field must be ignored: a unit other than `bytes` (§14.2: "ignore
 * a Range header field that contains a range unit it does not understand")
 * or a syntactically invalid value. We ignore rather than answer 416, as
 * RFC 9110 §14.2 allows, so a sloppy client still gets its bytes.
 */
export function parseRange(value: string): RangeSpec[] | null {
  const eq = value.indexOf('=');
  if (eq < 0) return null;
  // §14.1: range units are compared case-insensitively.
  if (value.slice(0, eq).toLowerCase() !== 'bytes') return null;

  const specs: RangeSpec[] = [];
  // §5.6.1.2: list elements are separated by OWS "," OWS, and a recipient
  // must accept (and skip) empty elements.
  for (const element of value.slice(eq + 1).split(',')) {
    const text = trimOws(element);
    if (text === '') continue;
    const spec = parseSpec(text);
    if (spec === null) return null;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : null;
}

function parseSpec(text: string): RangeSpec | null {
  const dash = text.indexOf('-');
  if (dash < 0) return null;
  const first = text.slice(0, dash);
  const last = text.slice(dash + 1);
  if (first === '') {
    return isDigits(last) ? { suffix: toNumber(last) } : null;
  }
  if (!isDigits(first)) return null;
  if (last === '') return { first: toNumber(first), last: Infinity };
  if (!isDigits(last)) return null;
  // §14.1.1: an int-range whose last-pos is below its first-pos is invalid.
  if (compareDigits(last, first) < 0) return null;
  return { first: toNumber(first), last: toNumber(last) };
}

function isDigits(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function toNumber(digits: string): number {
  const n = Number(digits);
  return n <= Number.MAX_SAFE_INTEGER ? n : Infinity;
}

/** Compares two decimal digit strings by value, whatever their length. */
function compareDigits(a: string, b: string): number {
  a = stripZeros(a);
  b = stripZeros(b);
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 0x30) i++;
  return s.slice(i);
}

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3). */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
