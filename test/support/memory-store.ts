/**
 * An in-memory ObjectStore for unit tests of the handler's logic only (no
 * integration test uses it). It records every call and can be told to fail.
 */
import { resolveRanges } from '../../lib/range/plan.ts';
import {
  StoreError,
  type ObjectMeta,
  type ObjectStore,
  type ReadAnswer,
  type ReadAsk,
  type ReadConditions,
  type Span,
  type Version,
} from '../../lib/store/types.ts';
import { chunkedBody } from './streams.ts';

export interface StoredObject {
  bytes: Uint8Array;
  etag: string;
}

export interface Call {
  readonly op: 'head' | 'get' | 'read';
  readonly key: string;
  readonly ask?: ReadAsk;
  readonly etag?: string;
  readonly span?: Span | undefined;
}

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, StoredObject>();
  readonly calls: Call[] = [];
  /** Runs before each call; may throw or change `objects` to simulate a race. */
  before: (call: Call) => void = () => {};
  /** Bytes to drop from the end of every body (a truncating upstream). */
  truncate = 0;
  /** Bodies come in chunks of this size, so slicing across chunk edges is exercised. */
  chunkSize = 4096;
  /** GETs whose body is still open (neither read to the end nor cancelled), and the most at once. */
  open = 0;
  maxOpen = 0;

  async head(key: string): Promise<ObjectMeta | null> {
    this.record({ op: 'head', key });
    const o = this.objects.get(key);
    return o ? metaOf(o) : null;
  }

  async get(key: string, { etag }: Version, span?: Span): Promise<ReadableStream<Uint8Array>> {
    this.record({ op: 'get', key, etag, span });
    const o = this.objects.get(key);
    if (!o) throw new StoreError('not-found', `no ${key}`);
    if (o.etag !== etag) throw new StoreError('changed', `${key} is ${o.etag}, not ${etag}`);
    return this.body(o, span?.offset ?? 0, span ? span.offset + span.length : o.bytes.length);
  }

  protected body(o: StoredObject, start: number, stop: number): ReadableStream<Uint8Array> {
    const bytes = o.bytes.slice(start, stop - this.truncate);
    this.maxOpen = Math.max(this.maxOpen, ++this.open);
    return chunkedBody(bytes, this.chunkSize, () => this.open--);
  }

  protected record(call: Call): void {
    this.calls.push(call);
    this.before(call);
  }
}

/** Every object here was last modified at this time. */
export const LAST_MODIFIED = new Date('2024-01-02T03:04:05Z');

function metaOf(o: StoredObject): ObjectMeta {
  return { size: o.bytes.length, etag: o.etag, lastModified: LAST_MODIFIED, http: {} };
}

/**
 * A MemoryStore with the one-call read, shaped like a real store: `r2`
 * takes every condition and refuses with the metadata; `s3` takes only
 * If-Match and If-Unmodified-Since and refuses bare. `lenient` ignores the
 * conditions it takes (a store whose rules are looser than RFC 9110's).
 */
export class ReadingStore extends MemoryStore {
  readonly readConditions: ReadonlySet<keyof ReadConditions>;

  constructor(
    readonly like: 'r2' | 's3',
    readonly lenient = false,
  ) {
    super();
    this.readConditions = new Set(
      like === 'r2' ? ['ifMatch', 'ifNoneMatch', 'ifModifiedSince', 'ifUnmodifiedSince'] : ['ifMatch', 'ifUnmodifiedSince'],
    );
  }

  async read(key: string, ask: ReadAsk): Promise<ReadAnswer> {
    this.record({ op: 'read', key, ask });
    const o = this.objects.get(key);
    if (!o) return { kind: 'missing' };
    const c = ask.conditions ?? {};
    for (const name of Object.keys(c)) {
      if (!this.readConditions.has(name as keyof ReadConditions)) throw new Error(`read was given ${name}`);
    }
    const seconds = LAST_MODIFIED.getTime() / 1000;
    const refused =
      !this.lenient &&
      ((c.ifMatch !== undefined && c.ifMatch !== o.etag) ||
        (c.ifUnmodifiedSince !== undefined && seconds > c.ifUnmodifiedSince.getTime() / 1000) ||
        (c.ifNoneMatch !== undefined && c.ifNoneMatch === o.etag) ||
        (c.ifModifiedSince !== undefined && seconds <= c.ifModifiedSince.getTime() / 1000));
    if (refused) return { kind: 'refused', meta: this.like === 'r2' ? metaOf(o) : undefined };
    if (ask.range === undefined) return { kind: 'bytes', meta: metaOf(o), body: this.body(o, 0, o.bytes.length) };
    const range = resolveRanges([ask.range], o.bytes.length)[0];
    if (range === undefined) return { kind: 'unsatisfiable' };
    return { kind: 'bytes', meta: metaOf(o), body: this.body(o, range.start, range.end + 1) };
  }
}
