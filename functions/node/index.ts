/**
 * Node entry: the app over S3 or an HTTP origin, listening on HOST:PORT (default
 * 127.0.0.1:8080). Settings and the start-up check: lib/standalone.ts.
 */
import { writeSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { withSendTimeout } from '../../lib/send-timeout.ts';
import { standaloneApp } from '../../lib/standalone.ts';
import { leanGetObject, storeAgents } from './get-object.ts';
import { pipingResponses } from './piped-body.ts';
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

// The byte path (README, "The Node entry over S3"): the byte-carrying GETs
// signed here and sent over one pool of connections shared with the SDK
// client (get-object.ts), store bodies piped into the socket (piped-body.ts).
// On Node only: under Bun (functions/bun runs this file) it is untested, so
// the SDK path and web streams stay there.
const bytePath = process.versions.bun === undefined;
const agents = storeAgents();
const ready = await standaloneApp(
  process.env,
  undefined,
  bytePath ? { agents, getObject: (client, bucket) => leanGetObject(client, bucket, agents) } : {},
);
if (!ready.ok) fail(ready.problem);
const { app, listen, sendTimeoutMs } = ready;
const server = serve(
  {
    fetch: bytePath ? pipingResponses(app.fetch) : withSendTimeout(app.fetch, sendTimeoutMs),
    hostname: listen.host,
    port: listen.port,
    serverOptions: { ServerResponse: TitleCaseResponse },
  },
  (info) => {
    console.log(`edge-ranges listening on http://${listen.host}:${info.port}`);
  },
);
// Socket inactivity, both ways: a client that has accepted no byte for
// this long (its window closed, the writes stalled) is disconnected, and
// the response's store GETs are cancelled with it (README, "Slow clients").
// Under Bun the bodies keep the time instead (withSendTimeout, above): Bun's
// setTimeout also cut clients that were reading steadily.
if (bytePath) server.setTimeout(sendTimeoutMs);
server.on('error', (err) => fail(`cannot listen on ${listen.host}:${listen.port}: ${err.message}`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
