/**
 * Store calls per request kind: the README's table ("Store calls per
 * request") is the expectation, this file only says how to make each
 * kind of request. Run inside workerd over R2, S3 and an HTTP origin
 * (nginx), and on Node over radosgw and nginx. Runtime-neutral: the README's text is passed in.
 */
import { expect, it } from 'vitest';
import { createApp } from '../../lib/app.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { counting } from './counting-store.ts';
import { FIXTURES, pathOf, type Validators } from './fixtures.ts';

/** The README column to hold a store to. */
export type StoreColumn = 'R2' | 'S3' | 'HTTP';

interface Kind {
  readonly method?: 'HEAD';
  readonly path?: string;
  readonly headers?: (v: Validators) => Record<string, string>;
  readonly status: number;
}

const DAY = 86_400_000;
const earlier = (v: Validators) => new Date(v.lastModified.getTime() - DAY).toUTCString();
const range = (value: string) => () => ({ range: value });

/** How to ask for each row of the README's table (the `data` fixture, 10,000 bytes; UPSTREAM_GAP is 1,000 here). */
const KINDS: Record<string, Kind> = {
  '`GET`, no `Range`': { status: 200 },
  '`Range: bytes=0-99`': { headers: range('bytes=0-99'), status: 206 },
  '`Range: bytes=9000-`': { headers: range('bytes=9000-'), status: 206 },
  '`Range: bytes=-500`': { headers: range('bytes=-500'), status: 206 },
  '`If-Range` with the current ETag, one range': { headers: (v) => ({ range: 'bytes=0-99', 'if-range': v.etag }), status: 206 },
  '`If-Range` with another ETag, one range': { headers: () => ({ range: 'bytes=0-99', 'if-range': '"other"' }), status: 200 },
  '`If-Range` with `Last-Modified`, one range': {
    headers: (v) => ({ range: 'bytes=0-99', 'if-range': v.lastModified.toUTCString() }),
    status: 206,
  },
  '`If-Range` with another date, one range': { headers: (v) => ({ range: 'bytes=0-99', 'if-range': earlier(v) }), status: 200 },
  '`If-Range` with a weak ETag, one range': { headers: (v) => ({ range: 'bytes=0-99', 'if-range': `W/${v.etag}` }), status: 200 },
  '`If-Range` that is no validator, one range': { headers: () => ({ range: 'bytes=0-99', 'if-range': 'yesterday' }), status: 200 },
  '`If-None-Match` with the current ETag (`304`)': { headers: (v) => ({ 'if-none-match': v.etag }), status: 304 },
  '`If-None-Match` with another ETag (`200`)': { headers: () => ({ 'if-none-match': '"other"' }), status: 200 },
  '`If-Modified-Since` = `Last-Modified` (`304`)': {
    headers: (v) => ({ 'if-modified-since': v.lastModified.toUTCString() }),
    status: 304,
  },
  '`If-Modified-Since` a day earlier (`200`)': { headers: (v) => ({ 'if-modified-since': earlier(v) }), status: 200 },
  '`If-Match` with the current ETag, one range': { headers: (v) => ({ range: 'bytes=0-99', 'if-match': v.etag }), status: 206 },
  '`If-Match` with another ETag (`412`)': { headers: () => ({ 'if-match': '"other"' }), status: 412 },
  '`If-Unmodified-Since` a day earlier (`412`)': { headers: (v) => ({ 'if-unmodified-since': earlier(v) }), status: 412 },
  '`HEAD`': { method: 'HEAD', status: 200 },
  '3 ranges, each more than `UPSTREAM_GAP` from the next': { headers: range('bytes=0-9,5000-5009,9000-9009'), status: 206 },
  '3 ranges within `UPSTREAM_GAP`': { headers: range('bytes=0-9,100-109,200-209'), status: 206 },
  'no satisfiable range (`416`)': { headers: range('bytes=10000-'), status: 416 },
  'no such object (`404`)': { path: '/cases/no-such-object.bin', status: 404 },
};

/** The README's "Store calls per request" table: request → calls, for one store's column. */
export function documentedCalls(readme: string, column: StoreColumn): Map<string, number> {
  const section = readme.split(/^### Store calls per request$/m)[1];
  if (section === undefined) throw new Error('README.md has no "### Store calls per request" section');
  // The section's first table: its lines from the first `|` to the first line without one.
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  const rows = lines.slice(start, end).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  const [head, , ...body] = rows;
  const at = head?.indexOf(column) ?? -1;
  if (at < 0) throw new Error(`README.md's store-call table has no ${column} column`);
  return new Map(body.map((cells) => [cells[0]!, Number(cells[at])]));
}

/**
 * One test per row of the README's table: the request's status, and the
 * store calls it made (counted at the store, multipart GETs included once
 * the body is read), equal to the README's number; Server-Timing must say
 * the calls made before the response started.
 */
export function storeCallTests(readme: string, column: StoreColumn, make: () => Promise<{ store: ObjectStore; v: Validators }>): void {
  const documented = documentedCalls(readme, column);

  it('the README lists every kind this table knows, and no other', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(KINDS).sort());
    for (const [name, calls] of documented) expect(Number.isInteger(calls), name).toBe(true);
  });

  it.for([...documented])('%s', async ([name, calls]) => {
    const kind = KINDS[name];
    if (kind === undefined) throw new Error(`no request for README row ${name}`);
    const { store, v } = await make();
    const counted = counting(store);
    const app = createApp({ store: counted, limits: { upstreamGap: 1000 }, log: false });
    const res = await app.request(kind.path ?? pathOf(FIXTURES.data.key), {
      method: kind.method ?? 'GET',
      headers: kind.headers?.(v) ?? {},
    });
    expect(res.status).toBe(kind.status);
    const timing = /desc="(\d+) calls/.exec(res.headers.get('server-timing') ?? '');
    const callsAtStart = counted.calls.length;
    await res.arrayBuffer();
    expect(counted.calls, `${column}: ${name}`).toHaveLength(calls);
    expect(Number(timing?.[1]), 'Server-Timing').toBe(callsAtStart);
  });
}
