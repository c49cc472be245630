/**
 * The benchmark objects' names, sizes and bytes, without I/O: shared by the
 * harness (bench/objects.ts writes and uploads them) and the in-isolate
 * store of bench/isolate-worker.ts, which holds the same bytes.
 */
const MiB = 1024 * 1024;

export interface BenchObject {
  /** Object key, file name under the data dir, and URL path on every target. */
  readonly key: string;
  readonly size: number;
}

/** 256 MiB for scenarios a–e, g and i. */
export const BIG: BenchObject = { key: 'big-256m.bin', size: 256 * MiB };
/** 1 GiB for scenario f. Too large for local R2 (wrangler puts at most 300 MiB). */
export const HUGE: BenchObject = { key: 'huge-1g.bin', size: 1024 * MiB };

/** The bytes are made in pieces of this size, piece n from seed SEED + n (infra/local/bytes.ts). */
export const PIECE = 64 * MiB;
export const SEED = 0x9e3779b9;
