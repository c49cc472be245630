/**
 * A fault-injecting HTTP proxy between the function and radosgw (tests
 * only). Requests pass through verbatim (SigV4 signs the Host header, which
 * the proxy keeps), unless a rule says otherwise: answer an error status,
 * hold back the first byte, reset the connection mid-body, or end the body
 * early while claiming it is complete, or pace the body; as a misbehaving
 * HTTP origin, drop the request's Range or precondition, weaken the ETag,
 * or run a hook (replace the object) before passing a request on. It counts
 * the exchanges still open and the body bytes it passed on. In front of the
 * function or nginx it is also the unreliable link of the download tests.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Readonly<Record<string, string>> }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'reset'; readonly afterBytes: number }
  | { readonly kind: 'truncate'; readonly afterBytes: number }
  /** Pass the body at most this fast, per response. */
  | { readonly kind: 'throttle'; readonly bytesPerSecond: number }
  /** Hold the request itself (nothing reaches the store) until `until` settles. */
  | { readonly kind: 'hold'; readonly until: Promise<void> }
  /** Pass the request on untouched (a rule that only counts down `times`). */
  | { readonly kind: 'pass' }
  /** An origin that ignores Range: the field is not passed on (nor If-Range). */
  | { readonly kind: 'ignore-range' }
  /** An origin that ignores preconditions: If-Match and If-Unmodified-Since are not passed on. */
  | { readonly kind: 'ignore-guard' }
  /** An origin with weak validators: a strong ETag in the answer becomes W/. */
  | { readonly kind: 'weak-etag' };

export interface Rule {
  readonly method: 'GET' | 'HEAD';
  readonly fault?: Fault;
  /** Runs before the request is passed on (e.g. replaces the object upstream). */
  readonly before?: () => void | Promise<void>;
  /** How many matching requests get the fault (then they pass); default all. */
  times?: number;
}

export interface FaultProxy {
  readonly url: string;
  rules: Rule[];
  /** Requests seen, by method. */
  readonly seen: { GET: number; HEAD: number };
  /** The Range header of each GET seen, in arrival order (undefined: the whole object); clear it with `length = 0`. */
  readonly ranges: Array<string | undefined>;
  /** Each request's method and fields as received, in order. */
  readonly log: Array<{ method: string; headers: Record<string, string | string[] | undefined> }>;
  /** Exchanges whose upstream response has not ended or been torn down. */
  open(): number;
  /** Response body bytes passed on so far (or since the last resetBytes). */
  bytes(): number;
  resetBytes(): void;
  /** Cuts every connection to the proxy now (a link going down); later requests pass again. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let open = 0;
  let bytes = 0;
  let server: Server | undefined = undefined;
  const proxy: FaultProxy & { url: string } = {
    url: '',
    rules: [],
    seen: { GET: 0, HEAD: 0 },
    ranges: [],
    log: [],
    open: () => open,
    bytes: () => bytes,
    resetBytes: () => void (bytes = 0),
    dropConnections: () => server?.closeAllConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };

  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    proxy.seen[method]++;
    if (method === 'GET') proxy.ranges.push(req.headers.range);
    proxy.log.push({ method, headers: { ...req.headers } });
    const rule = proxy.rules.find((r) => r.method === method && (r.times === undefined || r.times > 0));
    if (rule?.times !== undefined) rule.times--;
    const fault = rule?.fault;

    if (fault?.kind === 'status') {
      // An S3-style XML error, which must never reach the function's client.
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers });
      res.end(`<?xml version="1.0"?><Error><Code>InjectedFault</Code><Message>secret upstream detail</Message></Error>`);
      return;
    }

    if (fault?.kind === 'hold') {
      req.pause();
      void fault.until.then(() => pass(req, res, undefined, rule?.before));
      return;
    }
    pass(req, res, fault, rule?.before);
  });

  /** Passes one exchange on to the store, applying `fault` to its answer, once `before` (if any) has run. */
  function pass(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined, before: Rule['before']): void {
    open++;
    let counted = true;
    const done = () => {
      if (counted) open--;
      counted = false;
    };
    const asked = { ...req.headers };
    if (fault?.kind === 'ignore-range') {
      delete asked.range;
      delete asked['if-range'];
    }
    if (fault?.kind === 'ignore-guard') {
      delete asked['if-match'];
      delete asked['if-unmodified-since'];
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: asked },
      (up) => {
        const forward = () => {
          const headers = { ...up.headers };
          if (fault?.kind === 'truncate') headers['content-length'] = String(fault.afterBytes);
          if (fault?.kind === 'weak-etag' && headers.etag?.startsWith('"')) headers.etag = `W/${headers.etag}`;
          res.writeHead(up.statusCode ?? 502, headers);
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            if (fault?.kind === 'reset' || fault?.kind === 'truncate') {
              const room = fault.afterBytes - sent;
              if (room <= chunk.length) {
                bytes += Math.max(0, room);
                res.write(chunk.subarray(0, room));
                if (fault.kind === 'reset') res.socket?.resetAndDestroy();
                else res.end();
                up.destroy();
                done();
                return;
              }
            }
            sent += chunk.length;
            bytes += chunk.length;
            const more = res.write(chunk);
            if (fault?.kind === 'throttle') {
              // Hold the upstream until this chunk's share of time has passed.
              up.pause();
              const resume = () => setTimeout(() => up.resume(), (chunk.length / fault.bytesPerSecond) * 1000);
              if (more) resume();
              else res.once('drain', resume);
            } else if (!more) {
              up.pause();
              res.once('drain', () => up.resume());
            }
          });
          up.on('end', () => {
            res.end();
            done();
          });
        };
        if (fault?.kind === 'delay') setTimeout(forward, fault.ms);
        else forward();
      },
    );
    out.on('error', () => {
      res.destroy();
      done();
    });
    // The function went away (client abort, timeout): tear the upstream exchange down.
    res.on('close', () => {
      out.destroy();
      done();
    });
    if (before) {
      void Promise.resolve(before()).then(
        () => req.pipe(out),
        () => res.destroy(),
      );
    } else {
      req.pipe(out);
    }
  }

  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
  return proxy;
}
