/**
 * What one store read can carry of a GET (ObjectStore.read): the one range
 * asked, and the preconditions in the normal forms of `ReadConditions`, as
 * RFC 9110 §13.2.2 evaluates them. Pure: headers in, an ask out.
 */
import { ifRangeNeverHolds, parseETag, parseETagList, parseHttpDate } from './conditional.ts';
import { parseRange, type RangeSpec } from './range/parse.ts';
import type { ReadAsk, ReadConditions } from './store/types.ts';

/** One read that may answer a GET: what it asks, and whether If-Range rides on it as If-Match. */
export interface OneRead {
  readonly ask: ReadAsk;
  readonly ifRangeRides: boolean;
}

export const NO_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set();

/**
 * The one read that answers a GET whose answer is the whole object or one
 * range, when the store can take its preconditions (`takes`); undefined
 * for the long way (metadata first): several ranges, a field the store
 * cannot evaluate, a list of entity-tags. Each field goes in the form
 * §13.2.2 evaluates it: If-Unmodified-Since only without If-Match,
 * If-Modified-Since only without If-None-Match, an invalid date not at all.
 * If-Range with a strong entity-tag rides as If-Match (its failure then
 * means "the whole object", §13.1.5) when the request has no step-1 field;
 * one that can never hold asks for the whole object at once.
 */
export function oneRead(headers: Headers, takes: ReadonlySet<keyof ReadConditions>): OneRead | undefined {
  const value = headers.get('range');
  const specs = value === null ? null : parseRange(value);
  const ifRange = headers.get('if-range');
  // An If-Range that cannot hold (a weak tag, not a validator at all) means the whole object (§13.1.5).
  if (specs !== null && ifRange !== null && ifRangeNeverHolds(ifRange)) return oneRead(withoutRange(headers), takes);
  if (specs !== null && (specs.length !== 1 || !plainSpec(specs[0]!))) return undefined;
  const range = specs?.[0];

  const conditions: { -readonly [K in keyof ReadConditions]: ReadConditions[K] } = {};
  const ifMatch = headers.get('if-match');
  if (ifMatch !== null) {
    const list = parseETagList(ifMatch);
    // `*` holds for any object there is; a missing one is a 404 anyway.
    if (list !== '*') {
      // A malformed field goes the long way, which fails it closed (412).
      if (list === null || list.length !== 1 || list[0]!.weak) return undefined;
      conditions.ifMatch = list[0]!.opaque;
    }
  } else {
    conditions.ifUnmodifiedSince = dateOf(headers.get('if-unmodified-since'));
  }
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const list = parseETagList(ifNoneMatch);
    if (list === null || list === '*' || list.length !== 1) return undefined;
    conditions.ifNoneMatch = list[0]!.opaque; // weak comparison (§13.1.2): W/ does not count
  } else {
    conditions.ifModifiedSince = dateOf(headers.get('if-modified-since'));
  }

  let ifRangeRides = false;
  if (ifRange !== null && range !== undefined && conditions.ifMatch === undefined && conditions.ifUnmodifiedSince === undefined) {
    const tag = parseETag(ifRange);
    if (tag !== null && !tag.weak) {
      conditions.ifMatch = tag.opaque;
      ifRangeRides = true;
    }
  }

  for (const [name, v] of Object.entries(conditions) as Array<[keyof ReadConditions, unknown]>) {
    if (v === undefined) delete conditions[name];
    else if (!takes.has(name)) return undefined;
  }
  return { ask: { range, conditions }, ifRangeRides };
}

/** A spec any store takes as written: small numbers, not `-0`. */
function plainSpec(spec: RangeSpec): boolean {
  return 'suffix' in spec ? spec.suffix > 0 && spec.suffix < Infinity : spec.first < Infinity;
}

/** A valid HTTP-date, or undefined: an invalid one is ignored (§13.1.3–4). */
function dateOf(value: string | null): Date | undefined {
  return (value === null ? null : parseHttpDate(value)) ?? undefined;
}

/** `headers` without Range (and so without the If-Range that goes with it). */
function withoutRange(headers: Headers): Headers {
  const rest = new Headers(headers);
  rest.delete('range');
  rest.delete('if-range');
  return rest;
}
