/**
 * An in-memory ObjectStore for unit tests of the handler's logic only (no
 * integration test uses it). It records every call and can be told to fail.
 */
import { StoreError, type ObjectMeta, type ObjectStore, type Span } from '../../lib/store/types.ts';

export interface StoredObject {
  bytes: Uint8Array;
  etag: string;
}

export interface Call {
  readonly op: 'head' | 'get';
  readonly key: string;
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
    return o ? { size: o.bytes.length, etag: o.etag, lastModified: new Date('2024-01-02T03:04:05Z'), http: {} } : null;
  }

  async get(key: string, etag: string, span?: Span): Promise<ReadableStream<Uint8Array>> {
    this.record({ op: 'get', key, etag, span });
    const o = this.objects.get(key);
    if (!o) throw new StoreError('not-found', `no ${key}`);
    if (o.etag !== etag) throw new StoreError('changed', `${key} is ${o.etag}, not ${etag}`);
    const start = span?.offset ?? 0;
    const end = (span ? start + span.length : o.bytes.length) - this.truncate;
    const bytes = o.bytes.slice(start, end);
    this.maxOpen = Math.max(this.maxOpen, ++this.open);
    let pos = 0;
    let closed = false;
    const close = () => {
      if (!closed) this.open--;
      closed = true;
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          if (pos >= bytes.length) {
            close();
            controller.close();
            return;
          }
          controller.enqueue(bytes.slice(pos, pos + this.chunkSize));
          pos += this.chunkSize;
        },
        cancel: close,
      },
      { highWaterMark: 0 },
    );
  }

  private record(call: Call): void {
    this.calls.push(call);
    this.before(call);
  }
}
