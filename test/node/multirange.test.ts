/**
 * Multi-range behaviour on Node over radosgw: in-process, and over HTTP
 * against each standalone entry (Node, Deno, Bun) with a counting proxy
 * between the entry and radosgw, so the parts are checked byte for byte
 * and the store GETs are the ones that went over the wire.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { Span } from '../../lib/store/types.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { KEY, inProcess, multirangeTests, overS3, type Subject } from '../support/multirange-cases.ts';
import type { Server } from '../support/processes.ts';
import { s3SettingsFrom } from '../support/s3-seed.ts';

describe('over radosgw', () => {
  const { store, put } = overS3(s3SettingsFrom(process.env));
  multirangeTests(() => inProcess(store, put));
});

/** `bytes=a-b` as a span; undefined for no Range (the whole object). */
function spanOf(range: string | undefined): Span | undefined {
  if (range === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(range);
  if (!m) throw new Error(`unexpected upstream Range: ${range}`);
  return { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
}

describe.each(SERVER_ENTRIES)('$name over HTTP', (entry) => {
  let proxy: FaultProxy;
  let server: Server;
  const { put } = overS3(s3SettingsFrom(process.env));

  beforeAll(async () => {
    proxy = await startFaultProxy(s3SettingsFrom(process.env).endpoint!);
    // One GET at a time, always: what `oneGetAtATime` asks, and the other cases do not mind.
    // No edge cache: the store GETs counted on the wire are the plan's, not what a cache saved.
    server = await entry.start({ S3_ENDPOINT: proxy.url, UPSTREAM_CONCURRENCY: '1', CACHE: 'off' });
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
  });

  /** Releases the GETs held by `oneGetAtATime`, once an overwrite has landed. */
  let release = () => {};
  const subject = (): Subject => ({
    put: async (bytes) => {
      await put(bytes);
      release();
    },
    gets: () => proxy.ranges.map(spanOf),
    request(range, options) {
      proxy.ranges.length = 0;
      proxy.rules = [];
      if (options?.oneGetAtATime) {
        // Over HTTP the socket buffers between entry and client can take every
        // part before the overwrite lands: the GETs after the first wait at
        // the proxy until the object has been replaced.
        const held = new Promise<void>((resolve) => (release = resolve));
        proxy.rules = [
          { method: 'GET', fault: { kind: 'pass' }, times: 1 },
          { method: 'GET', fault: { kind: 'hold', until: held } },
        ];
      }
      return fetch(`${server.url}/${KEY}`, { headers: { range } });
    },
  });
  multirangeTests(subject);
});
