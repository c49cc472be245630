/**
 * Fetching the parts of a multipart answer: one guarded GET per planned
 * UpstreamGet, a bounded number open at once ahead of the part being
 * written, and each GET's body cut into its parts as it streams by.
 */
import type { PartSource } from './multipart.ts';
import { byteLength, type ByteRange } from './range/byte-range.ts';
import type { UpstreamGet } from './range/plan.ts';
import { BodyLengthError } from './body.ts';
import type { ObjectStore, Version } from './store/types.ts';

/**
 * Look-ahead GETs — those opened before their parts are being written —
 * allowed at once across every response of a process. A response whose
 * client does not read holds its current GET and no more than the
 * look-ahead it got; with a pool of `size`, N such responses hold at most
 * N + `size` store connections, whatever their `concurrency` (issue 18:
 * 36 idle 16-range answers held all 512 of the S3 client's sockets).
 * Without a pool (Workers: the platform caps connections per request) every
 * response opens up to `concurrency` GETs.
 */
export class LookAheadPool {
  private used = 0;

  /** `size`: look-ahead GETs open at once, process-wide (an integer >= 0). */
  constructor(readonly size: number) {}

  /** Look-ahead GETs open now. */
  get inUse(): number {
    return this.used;
  }

  /** Takes one permit if any is free; a response without one fetches its GETs one at a time. */
  take(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  give(): void {
    this.used--;
  }
}

/**
 * The PartSource of a multipart answer: one `store.get(key, version, …)` per
 * planned UpstreamGet (`gets`, in response order), at most `concurrency`
 * open at once; those ahead of the one being written also need a permit of
 * `lookAhead`, when given. Starts the first GETs and waits for the first
 * answer, so that an object replaced since its metadata was read fails
 * here, before the response has started (the caller starts over), and not
 * in the middle of the body. Rejects with the store's StoreError
 * (`changed`, `not-found`, `unavailable`, `overloaded`, `timeout`), every
 * GET then cancelled. A later body that ends early or runs long errors its
 * part with BodyLengthError.
 */
export async function openParts(
  store: ObjectStore,
  key: string,
  version: Version,
  gets: readonly UpstreamGet[],
  concurrency: number,
  lookAhead?: LookAheadPool,
): Promise<PartSource> {
  const parts = new UpstreamParts(store, key, version, gets, concurrency, lookAhead);
  try {
    await parts.first();
  } catch (err) {
    await parts.cancel(err);
    throw err;
  }
  return parts;
}

class UpstreamParts implements PartSource {
  /** The answer to each planned GET, once started; every GET is guarded by the version. */
  private readonly answers: Promise<ReadableStream<Uint8Array>>[] = [];
  /** Index of the GET whose parts are being written, and of the part within it. */
  private get = 0;
  private part = 0;
  private slicer: BodySlicer | undefined;
  private body: ReadableStream<Uint8Array> | undefined;
  private cancelled = false;
  /** GETs that hold a look-ahead permit: opened ahead, not yet being written. */
  private readonly ahead = new Set<number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly version: Version,
    private readonly gets: readonly UpstreamGet[],
    private readonly concurrency: number,
    private readonly lookAhead: LookAheadPool | undefined,
  ) {
    this.startGets();
  }

  first(): Promise<ReadableStream<Uint8Array>> {
    return this.answers[0]!;
  }

  async next(): Promise<ReadableStream<Uint8Array>> {
    const get = this.gets[this.get]!;
    if (this.part === 0) {
      // The GET before has been written out: its connection is free. This
      // one is no longer ahead: its permit goes back.
      this.release(this.get);
      this.startGets();
      this.body = await this.answers[this.get]!;
      this.slicer = get.parts.length > 1 ? new BodySlicer(this.body, get) : undefined;
    }
    const part = get.parts[this.part]!;
    // A GET of one part is the store's body itself, piped untouched (on
    // Workers, stream to stream without JavaScript). Its length is checked
    // with the whole body's: a short part makes the body short, and so an
    // aborted transfer.
    const stream = this.slicer ? this.slicer.slice(part) : this.body!;
    if (++this.part === get.parts.length) {
      this.part = 0;
      this.get++;
    }
    return stream;
  }

  async cancel(reason: unknown): Promise<void> {
    this.cancelled = true;
    for (const i of [...this.ahead]) this.release(i);
    // Mid-GET, the slicer holds that GET's body; a body being piped is
    // cancelled by its pipe. Every later GET is closed here.
    if (this.part > 0) await this.slicer?.cancel(reason);
    await Promise.all(
      this.answers.slice(this.part > 0 ? this.get + 1 : this.get).map(async (get) => {
        const body = await get.catch(() => undefined);
        if (body && !body.locked) await body.cancel(reason).catch(() => {});
      }),
    );
  }

  /**
   * Keeps `concurrency` GETs open: the one being written, always, and the
   * ones after it while look-ahead permits are to be had.
   */
  private startGets(): void {
    while (!this.cancelled && this.answers.length < this.gets.length && this.answers.length < this.get + this.concurrency) {
      const i = this.answers.length;
      if (i > this.get && this.lookAhead) {
        if (!this.lookAhead.take()) break;
        this.ahead.add(i);
      }
      const g = this.gets[i]!;
      const answer = this.store.get(this.key, this.version, { offset: g.start, length: byteLength(g) });
      // Observed later, in order; until then a failure must not count as unhandled.
      answer.catch(() => {});
      this.answers.push(answer);
    }
  }

  private release(i: number): void {
    if (this.ahead.delete(i)) this.lookAhead!.give();
  }
}

/**
 * Cuts the body of one upstream GET into its consecutive ascending parts,
 * dropping the bytes between them. Chunks are passed on as views, never copied.
 */
class BodySlicer {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Object offset of the first byte of `pending`, or of the next chunk read. */
  private pos: number;
  private pending: Uint8Array | undefined;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly asked: ByteRange,
  ) {
    this.reader = body.getReader();
    this.pos = asked.start;
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
              // After the GET's last part, read the end of the body, so the
              // connection is released rather than left half-read.
              if (this.pos > this.asked.end && this.pending === undefined && !(await this.reader.read()).done) {
                await this.cancel(new BodyLengthError('upstream body longer than asked'));
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
    if (done) throw new BodyLengthError(`upstream body ended early, at offset ${this.pos}`);
    return value;
  }
}
