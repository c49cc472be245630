/**
 * Bun entry: the Node entry's server (node:http through @hono/node-server),
 * run by Bun. Settings, start-up check and one-line errors are the Node
 * entry's (lib/standalone.ts). Run: `npm run start:bun`.
 *
 * Not `Bun.serve`: it strips a handler's Content-Length from every response
 * whose body is a ReadableStream and sends it chunked (oven-sh/bun#10507,
 * still so in the pinned bun; test/node/runtimes.test.ts checks), so a 200
 * or 206 would lose its length: no download progress, and aria2c and other
 * segmenting clients cannot split the object. Bun's node:http keeps it.
 */
import '../node/index.ts';
