/**
 * Scenario g's Worker without the local R2 simulation: the production app
 * (lib/app.ts, as functions/cloudflare/index.ts builds it, logging included)
 * over a store that holds the benchmark object's bytes in the isolate
 * itself. Under `wrangler dev`, R2 is miniflare's JavaScript over SQLite and
 * blob files in the same workerd process (partly in the Worker's isolate):
 * with this store, the CPU left in the isolate is the Worker's own — what
 * Cloudflare counts, where R2 is native.
 *
 * The bytes are bench/objects.ts's BIG object (the same seeds), made once
 * on the first request (the warm-up). Bodies are views of them, one chunk
 * each, as a native store hands over its buffers.
 */
import { pseudoRandomBytes } from '../infra/local/bytes.ts';
import { createApp } from '../lib/app.ts';
import { resolveRanges } from '../lib/range/plan.ts';
import type { ObjectMeta, ObjectStore, ReadAnswer } from '../lib/store/types.ts';
import { StoreError } from '../lib/store/types.ts';
import { BIG, PIECE, SEED } from './object-layout.ts';

let bytes: Uint8Array | undefined;

/** The BIG object as bench/objects.ts writes it: 64 MiB pieces, one seed each. */
function object(): Uint8Array {
  if (bytes) return bytes;
  const out = new Uint8Array(BIG.size);
  for (let offset = 0; offset < BIG.size; offset += PIECE) {
    out.set(pseudoRandomBytes(Math.min(PIECE, BIG.size - offset), SEED + offset / PIECE), offset);
  }
  return (bytes = out);
}

const META: ObjectMeta = {
  size: BIG.size,
  etag: '"isolate-big-256m"',
  lastModified: new Date('2026-01-01T00:00:00Z'),
  http: { contentType: 'application/octet-stream' },
};

function body(start: number, length: number): ReadableStream<Uint8Array> {
  const view = object().subarray(start, start + length);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(view);
      controller.close();
    },
  });
}

const isolateStore: ObjectStore = {
  async head(key) {
    return key === BIG.key ? META : null;
  },
  async get(key, { etag }, span) {
    if (key !== BIG.key) throw new StoreError('not-found', `no ${key}`);
    if (etag !== META.etag) throw new StoreError('changed', `${key} is ${META.etag}`);
    return body(span?.offset ?? 0, span?.length ?? BIG.size);
  },
  // No readConditions: like a store that takes none, conditional requests look the metadata up first.
  async read(key, ask): Promise<ReadAnswer> {
    if (key !== BIG.key) return { kind: 'missing' };
    if (ask.range === undefined) return { kind: 'bytes', meta: META, body: body(0, BIG.size) };
    const [served] = resolveRanges([ask.range], BIG.size);
    if (served === undefined) return { kind: 'unsatisfiable' };
    return { kind: 'bytes', meta: META, body: body(served.start, served.end - served.start + 1) };
  },
};

const app = createApp({ store: isolateStore });

export default {
  fetch: (request: Request) => app.fetch(request),
};
