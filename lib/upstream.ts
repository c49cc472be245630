/**
 * Fetching the parts of a multipart answer: one guarded GET per planned
 * span, a bounded number open at once ahead of the part being written, and
 * each span cut into its parts as it streams by.
 */
import type { PartSource } from './multipart.ts';
import { byteLength, type ByteRange, type UpstreamSpan } from './range/plan.ts';
import type { ObjectStore } from './store/types.ts';

/**
 * Starts the first GETs and waits for the first answer, so that an object
 * replaced since its metadata was read fails here, before the response has
 * started (the caller starts over), and not in the middle of the body.
 */
export async function openParts(
  store: ObjectStore,
  key: string,
  etag: string,
  spans: readonly UpstreamSpan[],
  concurrency: number,
): Promise<PartSource> {
  const parts = new UpstreamParts(store, key, etag, spans, concurrency);
  try {
    await parts.first();
  } catch (err) {
    await parts.cancel(err);
    throw err;
  }
  return parts;
}

class UpstreamParts implements PartSource {
  /** The GET of each span, once started; every GET carries If-Match: etag. */
  private readonly gets: Promise<ReadableStream<Uint8Array>>[] = [];
  private span = 0;
  private part = 0;
  private slicer: SpanSlicer | undefined;
  private body: ReadableStream<Uint8Array> | undefined;
  private cancelled = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly etag: string,
    private readonly spans: readonly UpstreamSpan[],
    private readonly concurrency: number,
  ) {
    this.startGets();
  }

  first(): Promise<ReadableStream<Uint8Array>> {
    return this.gets[0]!;
  }

  async next(): Promise<ReadableStream<Uint8Array>> {
    const span = this.spans[this.span]!;
    if (this.part === 0) {
      // The span before has been written out: its connection is free.
      this.startGets();
      this.body = await this.gets[this.span]!;
      this.slicer = span.parts.length > 1 ? new SpanSlicer(this.body, span) : undefined;
    }
    const part = span.parts[this.part]!;
    // A span of one part is the store's body itself, piped untouched (on
    // Workers, stream to stream without JavaScript). Its length is checked
    // with the whole body's: a short part makes the body short, and so an
    // aborted transfer.
    const stream = this.slicer ? this.slicer.slice(part) : this.body!;
    if (++this.part === span.parts.length) {
      this.part = 0;
      this.span++;
    }
    return stream;
  }

  async cancel(reason: unknown): Promise<void> {
    this.cancelled = true;
    // Mid-span, the slicer holds that span's body; a body being piped is
    // cancelled by its pipe. Every later GET is closed here.
    if (this.part > 0) await this.slicer?.cancel(reason);
    await Promise.all(
      this.gets.slice(this.part > 0 ? this.span + 1 : this.span).map(async (get) => {
        const body = await get.catch(() => undefined);
        if (body && !body.locked) await body.cancel(reason).catch(() => {});
      }),
    );
  }

  /** Keeps `concurrency` GETs open: the span being written and the ones after it. */
  private startGets(): void {
    while (!this.cancelled && this.gets.length < this.spans.length && this.gets.length < this.span + this.concurrency) {
      const s = this.spans[this.gets.length]!;
      const get = this.store.get(this.key, this.etag, { offset: s.start, length: byteLength(s) });
      // Observed later, in order; until then a failure must not count as unhandled.
      get.catch(() => {});
      this.gets.push(get);
    }
  }
}

/**
 * Cuts one upstream body into consecutive ascending parts, dropping the
 * bytes between them. Chunks are passed on as views, never copied.
 */
class SpanSlicer {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Object offset of the first byte of `pending`, or of the next chunk read. */
  private pos: number;
  private pending: Uint8Array | undefined;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly span: ByteRange,
  ) {
    this.reader = body.getReader();
    this.pos = span.start;
  }

  slice(range: ByteRange): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            const chunk = this.pending ?? (await this.read());
            this.pending = undefined;
            const chunkStart = this.pos;
            if (chunkStart + chunk.length <= range.start) {
              this.pos += chunk.length; // wholly in the gap before the part
              continue;
            }
            const from = Math.max(0, range.start - chunkStart);
            const to = Math.min(chunk.length, range.end + 1 - chunkStart);
            if (to < chunk.length) this.pending = chunk.subarray(to);
            this.pos = chunkStart + to;
            controller.enqueue(chunk.subarray(from, to));
            if (this.pos > range.end) {
              // After the span's last part, read the end of the body, so the
              // connection is released rather than left half-read.
              if (this.pos > this.span.end && this.pending === undefined && !(await this.reader.read()).done) {
                await this.cancel(new RangeError('upstream body longer than asked'));
              }
              controller.close();
            }
            return;
          }
        },
        cancel: (reason) => this.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  cancel(reason: unknown): Promise<void> {
    return this.reader.cancel(reason).catch(() => {});
  }

  private async read(): Promise<Uint8Array> {
    const { done, value } = await this.reader.read();
    if (done) throw new RangeError(`upstream body ended early, at offset ${this.pos}`);
    return value;
  }
}
