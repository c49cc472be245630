/**
 * edge-ranges mounted in an existing Hono app on Workers: the app keeps its
 * own routes, and every path under /media/ is an object of the R2 bucket
 * bound as BUCKET, under the key prefix `public/`, served with Range,
 * multipart/byteranges and conditional requests. The README's "Using it in
 * your Hono app" is this file; test/workers/example-app.test.ts runs it.
 */
import { Hono } from 'hono';
import { edgeRanges } from '../../lib/app.ts';
import { r2Store } from '../../lib/store/r2.ts';

const app = new Hono<{ Bindings: { BUCKET: R2Bucket } }>();

// The app's own routes.
app.get('/', (c) => c.text('Welcome to my app\n'));
app.get('/api/health', (c) => c.json({ ok: true }));

// /media/videos/a.mp4 -> key public/videos/a.mp4 in BUCKET.
app.use(
  '/media/*',
  edgeRanges({
    store: (c) => r2Store(c.env.BUCKET),
    keyPrefix: 'public/',
    rewriteRequestPath: (path) => path.replace(/^\/media/, ''),
  }),
);

export default app;
