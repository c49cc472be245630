/**
 * A fault-injecting HTTP proxy between the function and radosgw (tests
 * only). Requests pass through verbatim (SigV4 signs the Host header, which
 * the proxy keeps), unless a rule says otherwise: answer an error status,
 * hold back the first byte, reset the connection mid-body, or end the body
 * early while claiming it is complete. It counts the exchanges still open.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'reset'; readonly afterBytes: number }
  | { readonly kind: 'truncate'; readonly afterBytes: number };

export interface Rule {
  readonly method: 'GET' | 'HEAD';
  readonly fault: Fault;
  /** How many matching requests get the fault (then they pass); default all. */
  times?: number;
}

export interface FaultProxy {
  readonly url: string;
  rules: Rule[];
  /** Requests seen, by method. */
  readonly seen: { GET: number; HEAD: number };
  /** Exchanges whose upstream response has not ended or been torn down. */
  open(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let open = 0;
  let server: Server | undefined = undefined;
  const proxy: FaultProxy & { url: string } = {
    url: '',
    rules: [],
    seen: { GET: 0, HEAD: 0 },
    open: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };

  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    proxy.seen[method]++;
    const rule = proxy.rules.find((r) => r.method === method && (r.times === undefined || r.times > 0));
    if (rule?.times !== undefined) rule.times--;
    const fault = rule?.fault;

    if (fault?.kind === 'status') {
      // An S3-style XML error, which must never reach the function's client.
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><Error><Code>InjectedFault</Code><Message>secret upstream detail</Message></Error>`);
      return;
    }

    open++;
    let counted = true;
    const done = () => {
      if (counted) open--;
      counted = false;
    };
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const forward = () => {
          const headers = { ...up.headers };
          if (fault?.kind === 'truncate') headers['content-length'] = String(fault.afterBytes);
          res.writeHead(up.statusCode ?? 502, headers);
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            if (fault?.kind === 'reset' || fault?.kind === 'truncate') {
              const room = fault.afterBytes - sent;
              if (room <= chunk.length) {
                res.write(chunk.subarray(0, room));
                if (fault.kind === 'reset') res.socket?.resetAndDestroy();
                else res.end();
                up.destroy();
                done();
                return;
              }
            }
            sent += chunk.length;
            if (!res.write(chunk)) {
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
    req.pipe(out);
  });

  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
  return proxy;
}
