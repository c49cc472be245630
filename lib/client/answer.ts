/**
 * Judging the answer to a ranged request of the download client against the
 * object it began with. Every 206 is checked: its Content-Range must cover
 * what was asked from its first byte (§14.4), with the same complete length,
 * and its ETag, when sent, must equal the one the download began with
 * (§8.8.3, strong comparison).
 */
import { parseContentRange } from '../range/content-range.ts';
import type { ByteRange } from '../range/byte-range.ts';
import { byterangesBoundary } from './multipart-reader.ts';
import { isStrongEtag, type RemoteObject } from './probe.ts';
import { isTransientStatus } from './retry.ts';

export type RangedAnswer =
  /** One range (§14.4); for a multi-range request the server may send one part only (radosgw, coalescing). */
  | { readonly kind: 'single'; readonly range: ByteRange }
  /** multipart/byteranges (§14.6): read with readByteranges. */
  | { readonly kind: 'multipart'; readonly boundary: string }
  /** The object is not the one we began with (§13.1.5 200, §13.1.1 412, another ETag or length). */
  | { readonly kind: 'changed'; readonly reason: string }
  /** 200 for the same object: the server would not serve these ranges (a multi-range limit). */
  | { readonly kind: 'refused'; readonly reason: string }
  /** Worth another try (5xx, 408, 429, a 206 not matching the request). */
  | { readonly kind: 'retry'; readonly reason: string }
  /** Another try cannot help (403, 404, ...). */
  | { readonly kind: 'fatal'; readonly reason: string };

/**
 * `asked` are the ranges of the request, in order. A single-range answer
 * must start at the first byte asked for and end within the request: a
 * server may send fewer bytes than asked (the rest is asked again), never
 * others.
 */
export function judgeAnswer(res: Response, object: RemoteObject & { readonly size: number }, asked: readonly ByteRange[]): RangedAnswer {
  const etag = res.headers.get('etag');
  const sameEtag = object.etag === null || etag === null || etag === object.etag;
  switch (res.status) {
    case 206: {
      if (!sameEtag) return { kind: 'changed', reason: `ETag ${etag}, was ${object.etag}` };
      const boundary = byterangesBoundary(res.headers.get('content-type'));
      if (boundary !== null) {
        return asked.length > 1 ? { kind: 'multipart', boundary } : { kind: 'retry', reason: 'multipart answer to a single range' };
      }
      const cr = parseContentRange(res.headers.get('content-range'));
      if (cr?.kind !== 'range') return { kind: 'retry', reason: `206 with Content-Range ${res.headers.get('content-range')}` };
      if (cr.length !== undefined && cr.length !== object.size) return { kind: 'changed', reason: `length ${cr.length}, was ${object.size}` };
      const first = asked[0];
      const inside = asked.some((a) => cr.range.start === a.start && cr.range.end <= a.end);
      const covering = asked.length > 1 && first !== undefined && cr.range.start <= first.start && cr.range.end >= first.start;
      if (!inside && !covering) return { kind: 'retry', reason: `asked ${describe(asked)}, got ${cr.range.start}-${cr.range.end}` };
      return { kind: 'single', range: cr.range };
    }
    case 200:
      // With If-Range sent, 200 means the validator no longer matches (§13.1.5),
      // unless the server states the very same strong ETag: then it just chose
      // not to serve these ranges (§14.2 lets it ignore Range).
      return isStrongEtag(etag) && etag === object.etag
        ? { kind: 'refused', reason: 'the server answered 200 to a ranged request' }
        : { kind: 'changed', reason: `200 to If-Range (ETag ${etag})` };
    case 412:
      return { kind: 'changed', reason: '412 to If-Match' };
    case 416:
      return { kind: 'changed', reason: `416 (${res.headers.get('content-range')}): the object is shorter now` };
    default:
      return isTransientStatus(res.status) ? { kind: 'retry', reason: `HTTP ${res.status}` } : { kind: 'fatal', reason: `HTTP ${res.status} ${res.statusText}`.trim() };
  }
}

function describe(ranges: readonly ByteRange[]): string {
  return ranges.map((r) => `${r.start}-${r.end}`).join(',');
}
