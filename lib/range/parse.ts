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
 * Resolving specs against a length is `resolveRanges` in plan.ts.
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
 *
 * One pass over the characters, no substrings on the common path: this
 * runs on every request, and headers with thousands of ranges exist.
 */
export function parseRange(value: string): RangeSpec[] | null {
  // §14.1: range units are compared case-insensitively.
  if (value.length < 6 || value.charCodeAt(5) !== EQUALS || (value.slice(0, 5).toLowerCase() !== 'bytes')) return null;
  const specs: RangeSpec[] = [];
  const n = value.length;
  let i = 6;
  while (i < n) {
    // §5.6.1.2: list elements are separated by OWS "," OWS, and a recipient
    // must accept (and skip) empty elements.
    const c = value.charCodeAt(i);
    if (c === COMMA || c === SP || c === HTAB) {
      i++;
      continue;
    }
    const firstStart = i;
    while (i < n && isDigit(value.charCodeAt(i))) i++;
    const firstEnd = i;
    if (i === n || value.charCodeAt(i) !== DASH) return null;
    const lastStart = ++i;
    while (i < n && isDigit(value.charCodeAt(i))) i++;
    const lastEnd = i;
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    if (i < n && value.charCodeAt(i) !== COMMA) return null;

    if (firstStart === firstEnd) {
      if (lastStart === lastEnd) return null; // a lone "-"
      specs.push({ suffix: toNumber(value, lastStart, lastEnd) });
    } else if (lastStart === lastEnd) {
      specs.push({ first: toNumber(value, firstStart, firstEnd), last: Infinity });
    } else {
      const first = toNumber(value, firstStart, firstEnd);
      const last = toNumber(value, lastStart, lastEnd);
      // §14.1.1: an int-range whose last-pos is below its first-pos is invalid.
      // Saturated numbers are compared by their digits.
      const below = last === Infinity && first === Infinity
        ? compareDigits(value.slice(lastStart, lastEnd), value.slice(firstStart, firstEnd)) < 0
        : last < first;
      if (below) return null;
      specs.push({ first, last });
    }
  }
  return specs.length > 0 ? specs : null;
}

const EQUALS = 0x3d;
const COMMA = 0x2c;
const DASH = 0x2d;
const SP = 0x20;
const HTAB = 0x09;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The value of value[start, end), saturated to Infinity above Number.MAX_SAFE_INTEGER. */
function toNumber(value: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    n = n * 10 + (value.charCodeAt(i) - 0x30);
    if (n > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return n;
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
