/**
 * Node entry: the app over S3, listening on HOST:PORT (default
 * 127.0.0.1:8080). Settings and the start-up check: lib/standalone.ts.
 */
import { serve } from '@hono/node-server';
import { standaloneApp } from '../../lib/standalone.ts';
import { TitleCaseResponse } from './title-case.ts';

const ready = await standaloneApp(process.env);
if (!ready.ok) {
  console.error(`edge-ranges: ${ready.problem}`);
  process.exit(1);
}
const { app, listen } = ready;
const server = serve(
  {
    fetch: app.fetch,
    hostname: listen.host,
    port: listen.port,
    serverOptions: { ServerResponse: TitleCaseResponse },
  },
  (info) => {
    console.log(`edge-ranges listening on http://${listen.host}:${info.port}`);
  },
);
server.on('error', (err) => {
  console.error(`edge-ranges: cannot listen on ${listen.host}:${listen.port}: ${err.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
