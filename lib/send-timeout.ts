/**
 * A send timeout for servers without a usable one of their own: the body is
 * given up on when whoever sends it to the client has not asked for more
 * for a while, as Node's socket inactivity timeout does for the Node entry
 * (`server.setTimeout`, SEND_TIMEOUT_MS). Deno.serve has none; Bun's
 * node:http `setTimeout` cut clients that were reading steadily (a download
 * longer than the timeout was cut short), so the Bun entry uses this too.
 */

/** Thrown into a body whose client accepted nothing for the send timeout. */
export class SendTimeoutError extends Error {
  override readonly name = 'SendTimeoutError';
}

/**
 * `body`, erroring with SendTimeoutError once its reader (the server,
 * writing to the client's socket) has not asked for a chunk for `ms`
 * milliseconds, and cancelling `body` then (the store's reads behind it).
 * A server stops reading when the client's socket accepts no more, so this
 * is "the client accepted no byte for `ms`". Time spent waiting on `body`
 * itself (the store) does not count.
 *
 * @example
 * const res = await app.fetch(request);
 * return res.body ? new Response(sendTimeout(res.body, 60_000), res) : res;
 */
export function sendTimeout(body: ReadableStream<Uint8Array>, ms: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => timer !== undefined && clearTimeout(timer);
  const giveUpAfter = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    timer = setTimeout(() => {
      const err = new SendTimeoutError(`the client accepted no byte for ${ms} ms`);
      // A timer's stack says nothing: where a runtime prints the error (Deno), one line.
      err.stack = `${err.name}: ${err.message}`;
      controller.error(err);
      reader.cancel(err).catch(() => {});
    }, ms);
  };
  return new ReadableStream<Uint8Array>(
    {
      start: giveUpAfter,
      async pull(controller) {
        stop();
        const { done, value } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        giveUpAfter(controller);
      },
      cancel(reason) {
        stop();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * `fetch` with every response body under `sendTimeout(body, ms)`; status
 * and headers (Content-Length included) as they were.
 */
export function withSendTimeout<Rest extends unknown[]>(
  fetch: (request: Request, ...rest: Rest) => Response | Promise<Response>,
  ms: number,
): (request: Request, ...rest: Rest) => Promise<Response> {
  return async (request, ...rest) => {
    const res = await fetch(request, ...rest);
    return res.body ? new Response(sendTimeout(res.body, ms), res) : res;
  };
}
