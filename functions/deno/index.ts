/**
 * Deno entry (`Deno.serve`): the app over S3 or an HTTP origin, listening on HOST:PORT
 * (default 127.0.0.1:8080). Settings and the start-up check:
 * lib/standalone.ts, the same as the Node entry's.
 * Run: `npm run start:deno` (deno run --allow-net --allow-env --allow-read).
 */
import { standaloneApp } from '../../lib/standalone.ts';

const ready = await standaloneApp(Deno.env.toObject());
if (!ready.ok) {
  console.error(`edge-ranges: ${ready.problem}`);
  Deno.exit(1);
}
const { app, listen } = ready;
let server: Deno.HttpServer;
try {
  server = Deno.serve(
    {
      hostname: listen.host,
      port: listen.port,
      onListen: ({ port }) => console.log(`edge-ranges listening on http://${listen.host}:${port}`),
    },
    app.fetch,
  );
} catch (err) {
  console.error(`edge-ranges: cannot listen on ${listen.host}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`);
  Deno.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => void server.shutdown().then(() => Deno.exit(0)));
}
