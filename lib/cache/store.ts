/**
 * The edge cache as an ObjectStore decorator (README, "Caching ranges"):
 *
 * - `head` answers from the metadata cache for METADATA_TTL seconds.
 * - `get` serves a span from the fixed, aligned slices it touches: hits
 *   from the slice cache, each run of consecutive missing slices from ONE
 *   store GET guarded by the version announced (the store's own guard: R2
 *   and S3 If-Match; the HTTP store If-Match for a strong ETag, else
 *   If-Unmodified-Since, never If-Match with a weak one), whose bytes go to
 *   the client and are stored slice by slice as they pass. A request never
 *   starts more store GETs than MAX_UPSTREAM_GETS (the Workers subrequest
 *   cap): each span the handler planned has one, and a span splits into more
 *   runs only while GETs are left over beyond the plan; otherwise its runs
 *   are joined into one GET that also reads the cached slices between them.
 *   The slice key names the object key, ETag (and for a weak one
 *   Last-Modified), size, slice size and index, so versions never mix; a
 *   cached slice of the wrong length is a miss, never served.
 * - `read` (the one-call fast path) serves from slices when the metadata is
 *   cached; otherwise one store GET, widened to whole slices, answers
 *   metadata and bytes and fills both caches.
 * - Where the slice cache calls of a request are capped (Workers), a body
 *   touching more slices than one request may look up (`reachOf`) is not cut
 *   from slices: the store's body goes to the client as it is. The cache
 *   could neither serve nor fill most of it, and an R2 body left untouched
 *   keeps a client's abort quiet (lib/body.ts).
 *
 * Memory: at most one slice per open store GET (the slice being filled) and
 * one cached slice being sent. A store GET that meets a replaced version
 * fails its guard (`changed`): the cached metadata is dropped, so the
 * handler's one retry sees the new version.
 *
 * Built per request (it counts into that request's stats); the caches it is
 * given live as long as the process or isolate.
 */
import { BodyLengthError } from '../body.ts';
import { byteLength, type ByteRange } from '../range/byte-range.ts';
import type { RangeSpec } from '../range/parse.ts';
import { resolveRanges } from '../range/plan.ts';
import type { UpstreamStats } from '../store/resilient.ts';
import {
  StoreError,
  type ObjectMeta,
  type ObjectStore,
  type ReadAnswer,
  type ReadAsk,
  type ReadConditions,
  type Span,
  type Version,
} from '../store/types.ts';
import { cachedHead, type MetadataCache } from './metadata.ts';
import { SliceFiller, SliceGrid } from './slices.ts';
import { newCacheStats, sameVersion, sliceVersion, type CachedSlice, type CacheStats, type SliceCache, type SliceId } from './types.ts';

/** The long-lived part of the cache: one per process or isolate. */
export interface ObjectCache {
  readonly slices: SliceCache;
  readonly metadata: MetadataCache;
  /** Bytes per slice (SLICE_SIZE). */
  readonly sliceSize: number;
  /**
   * Slice cache calls one request may make (half for lookups, half for
   * stores and deletes); beyond them slices are read from the store without
   * the cache. Workers cap the Cache API calls of a request; memory has no cap.
   */
  readonly callsPerRequest?: number;
}

/** The per-request part. */
export interface CacheContext {
  /** The request's counters; `cache` is created in it. */
  readonly stats: UpstreamStats;
  /** Keeps work going after the response has ended (Workers: `ctx.waitUntil`); absent where it goes on anyway. */
  readonly waitUntil?: ((work: Promise<unknown>) => void) | undefined;
  /** Store GETs this request may start in all (MAX_UPSTREAM_GETS). Default: no cap. */
  readonly maxGets?: number | undefined;
  /** Store GETs the handler's plan makes (one per span it reads); read when a span would start one more. Default 0. */
  readonly plannedGets?: (() => number) | undefined;
}

/** Slices looked up at once, ahead of the bytes being sent; a run of misses never crosses two windows. */
export const LOOKUP_WINDOW = 64;

/**
 * The most slices a body cut from slices may touch: those one request may
 * look up (half of `callsPerRequest`), or no limit where calls are not
 * capped. On Workers: 20 (20 MiB of the default 1 MiB slices).
 */
export function reachOf(cache: ObjectCache): number {
  return cache.callsPerRequest === undefined ? Infinity : Math.ceil(cache.callsPerRequest / 2);
}

/** How many slices of `sliceSize` bytes the bytes first..last (inclusive) touch. */
function slicesTouched(first: number, last: number, sliceSize: number): number {
  return Math.floor(last / sliceSize) - Math.floor(first / sliceSize) + 1;
}

export function cachedStore(store: ObjectStore, cache: ObjectCache, context: CacheContext): ObjectStore {
  const { stats } = context;
  const counts = (stats.cache ??= newCacheStats());
  /** Metadata this request has seen, whatever the TTL: `get` needs the size to cut slices. */
  const seen = new Map<string, ObjectMeta>();
  /** Spans asked of this decorator (each may start one store GET), and GETs started beyond one per span. */
  let spans = 0;
  let extraGets = 0;

  const env: SliceEnv = {
    cache: { ...cache, slices: budgeted(cache.slices, cache.callsPerRequest ?? Infinity) },
    reach: reachOf(cache),
    stats,
    counts,
    spareGet() {
      // Each span planned or asked keeps its own GET; what is left is spare.
      const reserved = Math.max(context.plannedGets?.() ?? 0, spans) + extraGets;
      if (reserved >= (context.maxGets ?? Infinity)) return false;
      extraGets++;
      return true;
    },
    background(work) {
      const quiet = work.catch(() => {});
      context.waitUntil?.(quiet);
    },
    async upstream(key, version, span) {
      try {
        return await store.get(key, version, span);
      } catch (err) {
        // The version we hold is gone: forget it, so the handler's retry asks the store.
        if (err instanceof StoreError && (err.kind === 'changed' || err.kind === 'not-found')) forget(key);
        throw err;
      }
    },
  };

  function remember(key: string, meta: ObjectMeta): void {
    seen.set(key, meta);
    cache.metadata.set(key, meta);
  }

  function forget(key: string): void {
    seen.delete(key);
    cache.metadata.drop(key);
  }

  function freshMeta(key: string): ObjectMeta | undefined {
    const meta = cache.metadata.fresh(key);
    if (meta) {
      counts.metadataHits++;
      seen.set(key, meta);
    }
    return meta;
  }

  async function head(key: string): Promise<ObjectMeta | null> {
    const meta = await cachedHead(cache.metadata, store, key, () => counts.metadataHits++);
    if (meta) seen.set(key, meta);
    else seen.delete(key);
    return meta;
  }

  /** `range` of the object (undefined: all of it) from slices. */
  async function fromSlices(key: string, meta: ObjectMeta, range: ByteRange | undefined): Promise<ReadableStream<Uint8Array>> {
    if (range === undefined) return empty();
    return new SlicedBody(env, key, meta, range).open();
  }

  const { read } = store;
  return {
    head,

    async get(key, version, span?: Span) {
      spans++;
      const meta = seen.get(key);
      const offset = span?.offset ?? 0;
      const length = span?.length ?? version.size;
      const beyond = length > 0 && slicesTouched(offset, offset + length - 1, cache.sliceSize) > env.reach;
      if (meta === undefined || !sameVersion(meta, version) || offset + length > meta.size || beyond) {
        // Not a version this request has seen (the handler always looks first), or beyond the cache's reach: pass through.
        stats.bytesRead += length;
        return env.upstream(key, version, span);
      }
      return fromSlices(key, meta, length === 0 ? undefined : { start: offset, end: offset + length - 1 });
    },

    // Without a metadata TTL every request asks the store for metadata: the
    // handler's long way (HEAD, then slices) does exactly that.
    ...(read &&
      cache.metadata.enabled && {
        // Preconditions are evaluated by the handler on the metadata a
        // refusal carries (below), so the decorator takes all of them.
        readConditions: ALL_CONDITIONS,
        async read(key: string, ask: ReadAsk): Promise<ReadAnswer> {
          spans++;
          let meta = freshMeta(key);
          const conditional = Object.keys(ask.conditions ?? {}).length > 0;
          const takes = store.readConditions ?? new Set<keyof ReadConditions>();
          // Metadata known but old (slices of that version are likely cached),
          // or preconditions the store cannot take: ask for metadata only.
          const passable = Object.keys(ask.conditions ?? {}).every((c) => takes.has(c as keyof ReadConditions));
          if (!meta && (cache.metadata.last(key) || !passable)) {
            const current = await head(key);
            if (current === null) return { kind: 'missing' };
            meta = current;
          }
          if (meta) {
            // A conditional request is decided by the handler on this
            // metadata (every precondition, §13.2.2), its bytes from slices.
            if (conditional) return { kind: 'refused', meta };
            const wanted = wantedRange(ask.range, meta.size);
            if (wanted === 'unsatisfiable') return { kind: wanted };
            if (wanted && slicesTouched(wanted.start, wanted.end, cache.sliceSize) > env.reach) return coldRead(env, read.bind(store), key, ask, remember, forget, true);
            return { kind: 'bytes', meta, body: await fromSlices(key, meta, wanted) };
          }
          return coldRead(env, read.bind(store), key, ask, remember, forget);
        },
      }),
  };
}

/** The slice cache within a per-request budget of calls: half for lookups, half for stores and deletes. */
function budgeted(slices: SliceCache, calls: number): SliceCache {
  if (calls === Infinity) return slices;
  let lookups = Math.ceil(calls / 2);
  let writes = Math.floor(calls / 2);
  return {
    match: (id) => (lookups-- > 0 ? slices.match(id) : Promise.resolve(undefined)),
    put: (id, bytes) => (writes-- > 0 ? slices.put(id, bytes) : Promise.resolve()),
    delete: (id) => (writes-- > 0 ? slices.delete(id) : Promise.resolve()),
  };
}

/** What the decorator's parts share within one request. */
interface SliceEnv {
  readonly cache: ObjectCache;
  /** The most slices a body cut from slices may touch (reachOf). */
  readonly reach: number;
  readonly stats: UpstreamStats;
  readonly counts: CacheStats;
  /**
   * Takes one store GET beyond a span's own from the request's budget
   * (MAX_UPSTREAM_GETS less one per span); false when none is left.
   */
  spareGet(): boolean;
  /** Runs `work` to its end even after the response has ended; its failure is ignored. */
  background(work: Promise<unknown>): void;
  /** A store GET guarded by `version` (the store's guard rules decide how). */
  upstream(key: string, version: Version, span: Span | undefined): Promise<ReadableStream<Uint8Array>>;
}

/** The range a spec selects (undefined: the whole object, or an empty one), as RFC 9110 §14.1.1 resolves it. */
function wantedRange(spec: RangeSpec | undefined, size: number): ByteRange | undefined | 'unsatisfiable' {
  if (spec === undefined) return size === 0 ? undefined : { start: 0, end: size - 1 };
  return resolveRanges([spec], size)[0] ?? 'unsatisfiable';
}

/**
 * Whether `spec` is known, before the object's length is, to touch more
 * than `reach` slices: a closed range or a suffix that long. (An open
 * range or the whole object is known only once the store answers.)
 */
function beyondReach(spec: RangeSpec | undefined, reach: number, sliceSize: number): boolean {
  if (spec === undefined) return false;
  if ('suffix' in spec) return Math.ceil(spec.suffix / sliceSize) > reach;
  return spec.last !== Infinity && slicesTouched(spec.first, spec.last, sliceSize) > reach;
}

/** Every precondition a one-call read may carry. */
const ALL_CONDITIONS: ReadonlySet<keyof ReadConditions> = new Set(['ifMatch', 'ifNoneMatch', 'ifModifiedSince', 'ifUnmodifiedSince']);

/**
 * Metadata not cached: one store GET answers metadata and bytes (with the
 * preconditions, which the store takes). The range is widened to whole
 * slices (a suffix as far as it can be without knowing the length), so the
 * slices it touches are stored as they pass; the answer is cut back to it.
 * Where the cache's reach is limited (Workers), a range known to be beyond
 * it (`exact`) and an open range are asked as they are; a body beyond it is
 * passed on untouched, nothing stored.
 */
async function coldRead(
  env: SliceEnv,
  read: NonNullable<ObjectStore['read']>,
  key: string,
  ask: ReadAsk,
  remember: (key: string, meta: ObjectMeta) => void,
  forget: (key: string) => void,
  exact = beyondReach(ask.range, env.reach, env.cache.sliceSize),
): Promise<ReadAnswer> {
  const size = env.cache.sliceSize;
  const spec = ask.range;
  // Where the cache's reach is limited, an open range is asked as it is: once
  // its length is known it may be beyond reach, and then its body goes on
  // untouched (a slice edge before it would have to be cut off in JavaScript).
  const asked = exact || (env.reach !== Infinity && spec !== undefined && 'last' in spec && spec.last === Infinity);
  // A suffix of n + size - 1 bytes starts at or before the slice holding the
  // first byte of the last n: that slice is then stored whole (at most
  // size - 1 bytes before it are read and dropped).
  const widened: RangeSpec | undefined =
    spec === undefined || asked
      ? spec
      : 'suffix' in spec
        ? { suffix: spec.suffix + size - 1 <= Number.MAX_SAFE_INTEGER ? spec.suffix + size - 1 : spec.suffix }
        : {
            first: Math.floor(spec.first / size) * size,
            last: spec.last === Infinity ? Infinity : (Math.floor(spec.last / size) + 1) * size - 1,
          };
  const answer = await read(key, { ...ask, range: widened });
  if (answer.kind === 'missing') forget(key);
  if (answer.kind === 'refused' && answer.meta) remember(key, answer.meta);
  if (answer.kind !== 'bytes') return answer;
  const { meta } = answer;
  remember(key, meta);
  const wanted = wantedRange(spec, meta.size);
  const served = wantedRange(widened, meta.size);
  if (wanted === undefined || served === undefined) return answer; // an empty object
  if (wanted === 'unsatisfiable' || served === 'unsatisfiable') {
    await answer.body.cancel().catch(() => {});
    return { kind: 'unsatisfiable' };
  }
  env.stats.bytesRead += byteLength(served);
  const asWanted = served.start === wanted.start && served.end === wanted.end;
  if (exact || (asWanted && slicesTouched(served.start, served.end, size) > env.reach)) return answer;
  // Within reach: stored slice by slice from the first slice edge on.
  const grid = new SliceGrid(meta.size, size);
  env.counts.misses += grid.indexOf(wanted.end) - grid.indexOf(wanted.start) + 1;
  const run = new Run(env, key, meta, answer.body, served.start, served.end + 1);
  return { kind: 'bytes', meta, body: cut(env, run, wanted) };
}

/** The bytes of `wanted` from a run that covers it; what follows is read and stored in the background. */
function cut(env: SliceEnv, run: Run, wanted: ByteRange): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const at = run.position;
            const chunk = await run.read();
            if (chunk === undefined) throw new BodyLengthError(`upstream body ended early, at offset ${run.position}`);
            const out = clip(chunk, at, wanted);
            if (run.position > wanted.end) {
              if (out.length > 0) controller.enqueue(out);
              controller.close();
              env.background(run.rest());
              return;
            }
            if (out.length > 0) return controller.enqueue(out);
          }
        } catch (err) {
          await run.abandon(err);
          throw err;
        }
      },
      cancel: (reason) => run.abandon(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * One store body covering [from, end) of the object: its bytes counted and
 * stored slice by slice as they pass (only whole slices, only once every
 * byte of one has passed).
 */
class Run {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly filler: SliceFiller;

  constructor(
    private readonly env: SliceEnv,
    key: string,
    meta: ObjectMeta,
    body: ReadableStream<Uint8Array>,
    from: number,
    private readonly end: number,
    /** Slices already cached (read within this run only to keep to the GET budget): not stored again. */
    cached: ReadonlySet<number> = new Set(),
  ) {
    this.reader = body.getReader();
    const { slices, sliceSize } = env.cache;
    this.filler = new SliceFiller(new SliceGrid(meta.size, sliceSize), from, (index, bytes) => {
      if (!cached.has(index)) env.background(slices.put({ key, ...sliceVersion(meta), sliceSize, index }, bytes));
    });
  }

  /** Object offset of the next byte. */
  get position(): number {
    return this.filler.position;
  }

  /** The next chunk (already stored where it completes a slice), or undefined at a complete end. */
  async read(): Promise<Uint8Array | undefined> {
    const { done, value } = await this.reader.read();
    if (done) {
      if (this.position !== this.end) throw new BodyLengthError(`upstream body ended early, at offset ${this.position}`);
      return undefined;
    }
    if (this.position + value.length > this.end) throw new BodyLengthError('upstream body longer than asked');
    this.filler.write(value);
    return value;
  }

  /** Reads the rest (past what the client asked) so its last slice is stored. */
  async rest(): Promise<void> {
    try {
      while ((await this.read()) !== undefined);
    } catch (err) {
      await this.abandon(err);
    }
  }

  /** Stops: the slice being filled is dropped, never stored. */
  async abandon(reason: unknown): Promise<void> {
    this.filler.abandon();
    await this.reader.cancel(reason).catch(() => {});
  }
}

/** Slices from..to (inclusive) read from the store: one GET (`to` grows while the GET is not opened). */
interface RunPiece {
  readonly kind: 'miss';
  readonly from: number;
  to: number;
  body?: Promise<ReadableStream<Uint8Array>>;
}

type Piece = { readonly kind: 'hit'; readonly index: number; readonly slice: CachedSlice } | RunPiece;

/**
 * A range served slice by slice: looked up a window at a time, hits sent
 * as they are read, each run of misses one store GET.
 *
 * GET budget: the span's first run is the GET the handler planned for it;
 * each further run takes one from the request's spare (`env.spareGet`).
 * With none left, a new run of misses is joined to the run before it (the
 * cached slices between are read from the store, not stored again). A run
 * is joinable only until its GET is opened, so a run opened while slices
 * after it are still to be looked up first keeps a GET in reserve for
 * them, or, with none spare, reads to the end of the span.
 */
class SlicedBody {
  private readonly grid: SliceGrid;
  /** The next slice to look up, and the range's last slice. */
  private next: number;
  private readonly last: number;
  private readonly pieces: Piece[] = [];
  private current: Piece | undefined;
  private run: Run | undefined;
  /** Store GETs this span has planned or opened, and whether one more is held in reserve. */
  private runs = 0;
  private reserved = false;
  /** Cached slices read within a run: counted as misses, not stored again. */
  private readonly absorbed = new Set<number>();

  constructor(
    private readonly env: SliceEnv,
    private readonly key: string,
    private readonly meta: ObjectMeta,
    private readonly range: ByteRange,
  ) {
    this.grid = new SliceGrid(meta.size, env.cache.sliceSize);
    this.next = this.grid.indexOf(range.start);
    this.last = this.grid.indexOf(range.end);
  }

  /**
   * Looks up the first window and opens its first store GET before any byte
   * is sent, so a replaced version fails here (the handler starts over)
   * rather than in the middle of the body.
   */
  async open(): Promise<ReadableStream<Uint8Array>> {
    await this.lookUp();
    const miss = this.pieces.find((p) => p.kind === 'miss');
    if (miss?.kind === 'miss') await (miss.body = this.openRun(miss));
    return new ReadableStream<Uint8Array>(
      { pull: (controller) => this.pull(controller), cancel: (reason) => this.stop(reason) },
      { highWaterMark: 0 },
    );
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        if (this.current === undefined) {
          if (this.pieces.length === 0) {
            if (this.next > this.last) return controller.close();
            await this.lookUp();
          }
          this.current = this.pieces.shift()!;
        }
        const piece = this.current;
        if (piece.kind === 'hit') {
          const bytes = await piece.slice.read().catch(() => undefined);
          if (bytes?.length !== this.grid.length(piece.index)) {
            // Not the slice's length: a miss, never served; read it from the store.
            this.env.background(this.env.cache.slices.delete(this.id(piece.index)));
            if (!this.takeGet()) {
              // Rare (a cache that breaks its word); failing this response beats breaking the cap.
              throw new Error(`cached slice ${piece.index} of ${this.key} is damaged and no store GET is left (MAX_UPSTREAM_GETS)`);
            }
            this.env.counts.hits--;
            this.env.counts.misses++;
            this.env.counts.getsAhead++;
            this.env.stats.bytesRead += this.grid.length(piece.index);
            this.current = { kind: 'miss', from: piece.index, to: piece.index };
            continue;
          }
          this.current = undefined;
          // Every slice looked up touches the range: never empty.
          return controller.enqueue(clip(bytes, this.grid.start(piece.index), this.range));
        }
        if (this.run === undefined) {
          const body = await (piece.body ??= this.openRun(piece));
          const end = this.grid.start(piece.to) + this.grid.length(piece.to);
          this.run = new Run(this.env, this.key, this.meta, body, this.grid.start(piece.from), end, this.absorbed);
        }
        const at = this.run.position;
        const chunk = await this.run.read();
        if (chunk === undefined) {
          this.run = undefined;
          this.current = undefined;
          continue;
        }
        const out = clip(chunk, at, this.range);
        if (this.run.position > this.range.end) {
          // The client has its last byte; the rest of the last slice is stored in the background.
          if (out.length > 0) controller.enqueue(out);
          controller.close();
          this.env.background(this.run.rest());
          this.run = undefined;
          return;
        }
        if (out.length > 0) return controller.enqueue(out);
      }
    } catch (err) {
      await this.stop(err);
      throw err;
    }
  }

  /** Looks up the next window of slices and plans it: hits, and runs of misses. */
  private async lookUp(): Promise<void> {
    const from = this.next;
    const to = Math.min(this.last, from + LOOKUP_WINDOW - 1);
    this.next = to + 1;
    const { slices } = this.env.cache;
    const found = await Promise.all(
      Array.from({ length: to - from + 1 }, async (_, i) => {
        const id = this.id(from + i);
        const slice = await slices.match(id).catch(() => undefined);
        if (slice && slice.length !== this.grid.length(id.index)) {
          // Stated with the wrong length: a miss, and dropped.
          this.env.background(slices.delete(id));
          return undefined;
        }
        return slice;
      }),
    );
    const { counts } = this.env;
    found.forEach((slice, i) => {
      const index = from + i;
      const before = this.pieces.at(-1);
      if (slice) {
        counts.hits++;
        this.pieces.push({ kind: 'hit', index, slice });
      } else {
        counts.misses++;
        this.env.stats.bytesRead += this.grid.length(index);
        if (before?.kind === 'miss' && before.to === index - 1 && before.from >= from) {
          before.to = index;
        } else if (this.takeGet()) {
          counts.getsAhead++;
          this.pieces.push({ kind: 'miss', from: index, to: index });
        } else {
          this.joinLastRun(index, from);
        }
      }
    });
  }

  /** Whether this span may plan one more run: its first is its own; later ones use the reserve or the request's spare. */
  private takeGet(): boolean {
    if (this.runs > 0) {
      if (this.reserved) this.reserved = false;
      else if (!this.env.spareGet()) return false;
    }
    this.runs++;
    return true;
  }

  /**
   * No GET left for a new run at slice `index`: the last run, planned in
   * the window starting at `window` and not opened (openRun sees to that),
   * reaches `index` across the hits after it.
   */
  private joinLastRun(index: number, window: number): void {
    let at = this.pieces.length - 1;
    while (at >= 0 && this.pieces[at]!.kind !== 'miss') at--;
    const run = this.pieces[at];
    if (run?.kind !== 'miss' || run.from < window) throw new Error('edge cache: a run of missing slices has no store GET (a bug)');
    for (const p of this.pieces.splice(at + 1)) if (p.kind === 'hit') this.absorb(p.index);
    run.to = index;
  }

  /** Cached slice `index` is read from the store within a run instead. */
  private absorb(index: number): void {
    const { counts, stats } = this.env;
    counts.hits--;
    counts.misses++;
    stats.bytesRead += this.grid.length(index);
    this.absorbed.add(index);
  }

  private openRun(piece: RunPiece): Promise<ReadableStream<Uint8Array>> {
    this.env.counts.getsAhead--;
    const at = this.pieces.indexOf(piece);
    if (this.next <= this.last && !this.reserved && !this.pieces.slice(at + 1).some((p) => p.kind === 'miss')) {
      // Slices after this run are still to be looked up, and once opened it
      // cannot grow: keep a GET for a run among them, or with none spare,
      // read to the end of the span (hits after it included).
      if (this.env.spareGet()) this.reserved = true;
      else {
        for (const p of this.pieces.splice(at + 1)) if (p.kind === 'hit') this.absorb(p.index);
        for (let i = this.next; i <= this.last; i++) {
          this.env.counts.misses++;
          this.env.stats.bytesRead += this.grid.length(i);
        }
        this.next = this.last + 1;
        piece.to = this.last;
      }
    }
    const offset = this.grid.start(piece.from);
    const length = this.grid.start(piece.to) + this.grid.length(piece.to) - offset;
    return this.env.upstream(this.key, this.meta, { offset, length });
  }

  private id(index: number): SliceId {
    return { key: this.key, ...sliceVersion(this.meta), sliceSize: this.grid.sliceSize, index };
  }

  /** Closes whatever is open: the run being read (its partial slice dropped) and GETs opened ahead. */
  private async stop(reason: unknown): Promise<void> {
    const run = this.run;
    this.run = undefined;
    const opened = [this.current, ...this.pieces].flatMap((p) => (p?.kind === 'miss' && p.body ? [p.body] : []));
    this.pieces.length = 0;
    this.current = undefined;
    await Promise.all([
      run?.abandon(reason),
      ...opened.map(async (get) => {
        const body = await get.catch(() => undefined);
        if (body && !body.locked) await body.cancel(reason).catch(() => {});
      }),
    ]);
  }
}

/** The part of `chunk` (starting at object offset `at`) inside `range`, as a view. */
function clip(chunk: Uint8Array, at: number, range: ByteRange): Uint8Array {
  const from = Math.max(0, range.start - at);
  const to = Math.min(chunk.length, range.end + 1 - at);
  return to > from ? chunk.subarray(from, to) : chunk.subarray(0, 0);
}

function empty(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}
