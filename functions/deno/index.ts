/**
 * Deno entry (`Deno.serve`): the app over S3 or an HTTP origin, listening on HOST:PORT
 * (default 127.0.0.1:8080). Settings and the start-up check:
 * lib/standalone.ts, the same as the Node entry's.
 * Run: `npm run start:deno` (deno run --allow-net --allow-env --allow-read).
 */
import { withSendTimeout } from '../../lib/send-timeout.ts';
import { standaloneApp } from '../../lib/standalone.ts';

const ready = await standaloneApp(Deno.env.toObject());
if (!ready.ok) {
  console.error(`edge-ranges: ${ready.problem}`);
  Deno.exit(1);
}
const { app, listen, sendTimeoutMs } = ready;
// Deno.serve has no socket inactivity timeout: a body whose client's connection
// takes no byte for SEND_TIMEOUT_MS is given up on, and its store GETs closed.
const serve = withSendTimeout((request: Request) => app.fetch(request), sendTimeoutMs);
let server: Deno.HttpServer;
try {
  server = Deno.serve(
    {
      hostname: listen.host,
      port: listen.port,
      onListen: ({ port }) => console.log(`edge-ranges listening on http://${listen.host}:${port}`),
    },
    serve,
  );
} catch (err) {
  console.error(`edge-ranges: cannot listen on ${listen.host}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`);
  Deno.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => void server.shutdown().then(() => Deno.exit(0)));
}
