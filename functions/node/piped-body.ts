/**
 * The Node entry's byte path: a store body that is a Node stream stays one,
 * and goes to the client socket through `stream.pipeline` — no web stream,
 * no promise per chunk, no JavaScript per chunk of ours.
 *
 * A PipedBody is a web ReadableStream (what lib/ sees) over a Node Readable
 * (what this entry pipes). It is read as a web stream only when something
 * other than `pipingResponses` consumes it (a multipart body, another
 * runtime's adapter); then it pulls from the Node stream and checks the
 * length itself.
 */
import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import { BodyLengthError, checksOwnLength } from '../../lib/body.ts';

export class PipedBody extends ReadableStream<Uint8Array> {
  /** The length promised downstream (lib/body.ts's exactLength), once promised. */
  readonly #promise: { length?: number };

  /**
   * @param source the store's body; its HTTP client errors it unless it
   *   carries exactly `declared` bytes (the answer's Content-Length)
   * @param declared that Content-Length, or undefined when the answer had none
   */
  constructor(
    readonly source: Readable,
    readonly declared: number | undefined,
  ) {
    const promise: { length?: number } = {};
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let seen = 0;
    super(
      {
        // Only when read as a web stream: nothing is pulled before (highWaterMark 0).
        pull: async (controller) => {
          reader ??= (Readable.toWeb(source) as ReadableStream<Uint8Array>).getReader();
          const { done, value } = await reader.read();
          const promised = promise.length;
          if (done) {
            if (promised !== undefined && seen !== promised) throw new BodyLengthError(`body ended after ${seen} of ${promised} bytes`);
            controller.close();
            return;
          }
          seen += value.byteLength;
          if (promised !== undefined && seen > promised) throw new BodyLengthError(`body longer than the ${promised} bytes announced`);
          controller.enqueue(value);
        },
        cancel: async (reason) => {
          if (reader) await reader.cancel(reason);
          else source.destroy();
        },
      },
      { highWaterMark: 0 },
    );
    this.#promise = promise;
    // lib/body.ts's exactLength: the length is enforced by `pull` above, or by the pipe (see `pipingResponses`).
    checksOwnLength(this, (length) => {
      promise.length = length;
      return this;
    });
  }

  /** The Node stream, when piping it sends exactly the promised bytes: the store declared that very length. */
  pipeable(): Readable | undefined {
    const promised = this.#promise.length;
    return promised !== undefined && this.declared === promised && !this.locked ? this.source : undefined;
  }
}

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

/**
 * Wraps an app's fetch for @hono/node-server: a response whose body is a
 * pipeable PipedBody is written here — its headers, then the store's Node
 * stream piped into the socket (backpressure, and on either side's failure
 * both are destroyed: the client sees an aborted transfer, never a short
 * body framed as complete). Every other response goes back to
 * @hono/node-server as it is.
 */
export function pipingResponses(fetch: Fetch): Fetch {
  return async (request, env) => {
    const res = await fetch(request, env);
    const body = res.body;
    const { outgoing } = env;
    if (!(body instanceof PipedBody) || !(outgoing instanceof ServerResponse)) return res;
    const source = body.pipeable();
    if (source === undefined || res.headers.get('content-length') !== String(body.declared)) return res;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of res.headers) headers[name] = value;
    outgoing.writeHead(res.status, headers);
    pipe(source, outgoing);
    return RESPONSE_ALREADY_SENT;
  };
}

/**
 * `source.pipe(sink)` with failures on either side ending both: the sink
 * destroyed when the source errors (the client sees the transfer abort,
 * never a short body that looks complete), the source destroyed when the
 * sink closes first (the client went away: the store's socket is freed).
 * Not `stream.pipeline`, which allocates an AbortController and, at every
 * finish, a DOMException: measurable per request here.
 */
function pipe(source: Readable, sink: Writable): void {
  source.on('error', (err) => sink.destroy(err));
  // Closed before its end without an error (an HTTP client that gave up): the sink must not wait.
  source.on('close', () => {
    if (!source.readableEnded) sink.destroy(new Error('the store body closed before its end'));
  });
  sink.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  sink.on('error', () => source.destroy());
  source.pipe(sink);
}
