/**
 * Node entry: the app over S3, listening on HOST:PORT (default
 * 127.0.0.1:8080). Settings and the start-up check: lib/standalone.ts.
 */
import { writeSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { standaloneApp } from '../../lib/standalone.ts';
import { TitleCaseResponse } from './title-case.ts';

/**
 * One line on stderr, then exit 1. Written synchronously: under Bun,
 * console.error to a pipe is still buffered when process.exit runs, and
 * the line was lost.
 */
function fail(line: string): never {
  writeSync(2, `edge-ranges: ${line}\n`);
  process.exit(1);
}

const ready = await standaloneApp(process.env);
if (!ready.ok) fail(ready.problem);
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
server.on('error', (err) => fail(`cannot listen on ${listen.host}:${listen.port}: ${err.message}`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
