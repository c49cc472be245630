/**
 * Slice arithmetic and the one piece of code that stores slices as bytes
 * stream past: pure, no I/O of its own.
 */
import { BodyLengthError } from '../body.ts';
import type { ByteRange } from '../range/byte-range.ts';

/** The slices of an object of `size` bytes cut every `sliceSize` bytes. */
export class SliceGrid {
  constructor(
    readonly size: number,
    readonly sliceSize: number,
  ) {}

  /** Index of the slice holding object offset `offset`. */
  indexOf(offset: number): number {
    return Math.floor(offset / this.sliceSize);
  }

  start(index: number): number {
    return index * this.sliceSize;
  }

  /** Length of slice `index`: sliceSize, or less for the last one. */
  length(index: number): number {
    return Math.max(0, Math.min(this.sliceSize, this.size - index * this.sliceSize));
  }

  /** The slice-aligned range covering `range` (the last slice clamped to the object). */
  aligned(range: ByteRange): ByteRange {
    const last = this.indexOf(range.end);
    return { start: this.start(this.indexOf(range.start)), end: this.start(last) + this.length(last) - 1 };
  }
}

/**
 * Copies a byte stream that starts at object offset `from` into slices, and
 * hands each complete slice to `store`. At most one slice is held at a time:
 * a slice is given away only when every byte of it has passed, so a stream
 * that stops early (a client abort, a broken upstream) leaves no partial
 * slice behind. Bytes of slices that began before `from` are not kept.
 */
export class SliceFiller {
  private pos: number;
  private fill: { index: number; bytes: Uint8Array; filled: number } | undefined;

  constructor(
    private readonly grid: SliceGrid,
    from: number,
    private readonly store: (index: number, bytes: Uint8Array) => void,
  ) {
    this.pos = from;
  }

  /** Object offset of the next byte expected. */
  get position(): number {
    return this.pos;
  }

  write(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.pos >= this.grid.size) throw new BodyLengthError(`upstream body runs past the object's ${this.grid.size} bytes`);
      const index = this.grid.indexOf(this.pos);
      if (this.fill === undefined && this.pos === this.grid.start(index)) {
        this.fill = { index, bytes: new Uint8Array(this.grid.length(index)), filled: 0 };
      }
      const room = this.fill ? this.fill.bytes.length - this.fill.filled : this.grid.start(index + 1) - this.pos;
      const n = Math.min(chunk.length - off, room);
      if (this.fill) {
        this.fill.bytes.set(chunk.subarray(off, off + n), this.fill.filled);
        this.fill.filled += n;
        if (this.fill.filled === this.fill.bytes.length) {
          this.store(this.fill.index, this.fill.bytes);
          this.fill = undefined;
        }
      }
      off += n;
      this.pos += n;
    }
  }

  /** Drops the slice being filled: it is never stored. */
  abandon(): void {
    this.fill = undefined;
  }
}
