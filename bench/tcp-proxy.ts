/**
 * The ceiling of a Node hop: a byte-level TCP proxy in one Node process,
 * each client connection piped to its own connection to the store and
 * back (`socket.pipe`, no HTTP, no JavaScript per chunk of ours). Whatever
 * any Node HTTP server in front of the store pays beyond this is its own.
 *
 * Run as its own process (the benchmarks measure it like the entries):
 * `PROXY_TARGET=http://127.0.0.1:PORT node --import tsx bench/tcp-proxy.ts`; it prints
 * `tcp proxy listening on http://127.0.0.1:PORT` and runs until SIGTERM.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { closeTogether } from './proxy.ts';

const target = URL.parse(process.env.PROXY_TARGET ?? '');
if (!target?.port) {
  console.error('tcp-proxy.ts: set PROXY_TARGET=http://host:port');
  process.exit(2);
}

const sockets = new Set<Socket>();
const server = createServer((client) => {
  const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
  // As the entries' HTTP clients and servers do: no Nagle delay on small answers.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  closeTogether(client, upstream, sockets);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`tcp proxy listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
  });
}
