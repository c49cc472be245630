/**
 * A model HTTP origin as a `fetch` function, for unit tests of the HTTP
 * store's logic (the integration suites use nginx and radosgw): objects in
 * memory, HEAD and GET with one range (`a-b`, `a-`, `-n`, §14.1.1), If-Match
 * (strong comparison) and If-Unmodified-Since (§13.1.1, §13.1.4), 404 and
 * 416. It counts guarded and plain GETs and the bodies still open.
 */
import { chunkedBody } from './streams.ts';

export interface ModelObject {
  bytes: Uint8Array;
  /** As sent in ETag, strong or weak; none when undefined. */
  etag?: string | undefined;
  lastModified: Date;
}

export class ModelOrigin {
  readonly objects = new Map<string, ModelObject>();
  /** GETs that carried a precondition (the store's guarded reads), and those that did not. */
  guardedGets = 0;
  plainGets = 0;
  heads = 0;
  /** Bodies neither read to the end nor cancelled. */
  open = 0;
  /** Bytes of the GET answers' bodies sent (read or not). */
  sent = 0;
  /** Bodies come in chunks of this size. */
  chunkSize = 4096;

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
    const o = this.objects.get(key);
    const h = request.headers;
    if (request.method === 'HEAD') this.heads++;
    else if (h.has('if-match') || h.has('if-unmodified-since')) this.guardedGets++;
    else this.plainGets++;
    if (!o) return new Response('no such object', { status: 404 });

    const fields = new Headers({ 'last-modified': o.lastModified.toUTCString(), 'accept-ranges': 'bytes' });
    if (o.etag) fields.set('etag', o.etag);
    const ifMatch = h.get('if-match');
    if (ifMatch !== null && (o.etag === undefined || o.etag.startsWith('W/') || ifMatch !== o.etag)) {
      return new Response(null, { status: 412, headers: fields });
    }
    const since = h.get('if-unmodified-since');
    if (ifMatch === null && since !== null && Math.floor(o.lastModified.getTime() / 1000) > Date.parse(since) / 1000) {
      return new Response(null, { status: 412, headers: fields });
    }
    const size = o.bytes.length;
    if (request.method === 'HEAD') {
      fields.set('content-length', String(size));
      return new Response(null, { status: 200, headers: fields });
    }
    const range = h.get('range');
    if (range === null) {
      fields.set('content-length', String(size));
      return new Response(this.body(o.bytes), { status: 200, headers: fields });
    }
    const m = /^bytes=(\d*)-(\d*)$/.exec(range);
    if (!m || (m[1] === '' && m[2] === '')) throw new Error(`model origin: a range the store should not send: ${range}`);
    let start: number;
    let end: number;
    if (m[1] === '') {
      start = Math.max(0, size - Number(m[2]));
      end = size - 1;
      if (Number(m[2]) === 0) start = size; // -0: unsatisfiable
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (start >= size || end < start) {
      return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
    }
    fields.set('content-range', `bytes ${start}-${end}/${size}`);
    fields.set('content-length', String(end - start + 1));
    return new Response(this.body(o.bytes.subarray(start, end + 1)), { status: 206, headers: fields });
  };

  private body(bytes: Uint8Array): ReadableStream<Uint8Array> {
    this.open++;
    this.sent += bytes.length;
    return chunkedBody(bytes, this.chunkSize, () => this.open--);
  }
}
