/**
 * Header names on the wire in their usual case (`Content-Type`, not
 * `content-type`). RFC 9110 §5.1 makes case irrelevant, and fetch's Headers
 * lower-cases everything, but some real clients search the raw header
 * block case-sensitively: GDAL 3.6 looks for "Content-Type:
 * multipart/byteranges; boundary=" and fails without it.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ByteExactHeadersResponse } from './header-bytes.ts';

const SPECIAL: Record<string, string> = { etag: 'ETag', 'www-authenticate': 'WWW-Authenticate' };

/** Names seen so far: a response writes the same dozen names every time (bounded: names past 256 are not kept). */
const seen = new Map<string, string>();

export function titleCase(name: string): string {
  let out = seen.get(name);
  if (out === undefined) {
    out = SPECIAL[name] ?? name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
    if (seen.size < 256) seen.set(name, out);
  }
  return out;
}

/**
 * A ServerResponse (for http.createServer's `ServerResponse` option) that
 * writes title-cased names, and values byte for byte (header-bytes.ts).
 */
export class TitleCaseResponse<Req extends IncomingMessage = IncomingMessage> extends ByteExactHeadersResponse<Req> {
  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const last = rest[rest.length - 1];
    if (last !== null && typeof last === 'object' && !Array.isArray(last)) {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(last as OutgoingHttpHeaders)) headers[titleCase(name)] = value;
      rest[rest.length - 1] = headers;
    }
    return (super.writeHead as (code: number, ...args: unknown[]) => this)(statusCode, ...rest);
  }
}
