/**
 * The segmented, resumable, parallel download of one object over HTTP
 * ranges. Node only (file I/O); HTTP through the global fetch.
 *
 *   probe (GET bytes=0-0)  -> 200: the server ignores Range -> one streamed download
 *                          -> 206: size, ETag, Last-Modified
 *   <file>.part.json       -> resume: the ranges already written, if it is the same object
 *   small holes            -> multi-range requests (§14.2), multipart/byteranges answers (§14.6)
 *   the rest               -> segments over N connections; an idle connection
 *                             splits the largest segment still running; each
 *                             segment retries from the byte where it stopped
 *   every request          -> one retry loop (retry.ts): backoff, stall guard, a
 *                             budget of tries without progress
 *   every ranged request   -> If-Range / If-Match on the ETag (§13.1.5, §13.1.1);
 *                             a changed object restarts the download from scratch
 *   finished               -> size and MD5 (when the ETag is one) checked, then
 *                             <file>.part renamed to <file>
 */
import { rename, rm } from 'node:fs/promises';
import { totalLength, type ByteRange } from '../range/byte-range.ts';
import { judgeAnswer, type RangedAnswer } from './answer.ts';
import { DEFAULT_DOWNLOAD_RETRY, TryAgain, withRetries, type DownloadRetryPolicy, type RetryLoop } from './retry.ts';
import { chunksOf } from './chunks.ts';
import { DownloadError, ObjectChanged } from './errors.ts';
import { readByteranges } from './multipart-reader.ts';
import { PartialFile } from './partial-file.ts';
import { probe, validatorHeaders, type ProbeResult, type RemoteObject } from './probe.ts';
import { StallGuard } from './stall.ts';
import { rangeField } from '../range/content-range.ts';
import { Coverage, segmentSizeFor, smallHoleGroups, split, stealTail, type Segment } from './segments.ts';
import { doneRanges, readState, removeState, stateFor, stateMatches, writeState } from './state.ts';
import { verifyFile } from './verify.ts';

const MiB = 1024 * 1024;

export interface DownloadOptions {
  readonly url: string;
  /** The finished file; `<output>.part` and `<output>.part.json` sit beside it meanwhile. */
  readonly output: string;
  /** Connections at once (default 4). */
  readonly connections?: number;
  /** Largest segment (default: the missing bytes divided by the connections). */
  readonly segmentSize?: number;
  /**
   * An idle connection splits a running segment only if at least twice this
   * is left of it (default 256 KiB): small enough that connections finish
   * within a fraction of a second of each other, large enough to be worth a request.
   */
  readonly minSplit?: number;
  /** Holes up to this size are fetched together in multi-range requests (default 1 MiB). */
  readonly smallHole?: number;
  /** At most this many ranges per multi-range request (default 64). */
  readonly maxRangesPerRequest?: number;
  readonly retry?: Partial<DownloadRetryPolicy>;
  /** How often the download starts over for a changed object before it gives up (default 3). */
  readonly maxRestarts?: number;
  /** A connection that moves no byte for this long is abandoned and retried (default 30 s). */
  readonly stallMs?: number;
  /** How often the state file is rewritten (default 500 ms). */
  readonly stateIntervalMs?: number;
  /** Extra request headers (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  readonly onEvent?: (event: DownloadEvent) => void;
}

export type DownloadEvent =
  | { readonly kind: 'start'; readonly object: RemoteObject; readonly mode: 'segmented' | 'single'; readonly resumedBytes: number }
  | { readonly kind: 'retry'; readonly range: ByteRange; readonly reason: string; readonly waitMs: number }
  | { readonly kind: 'restart'; readonly reason: string }
  | { readonly kind: 'multi-range'; readonly ranges: number; readonly answer: 'multipart' | 'single' | 'refused' | 'failed' };

export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  readonly etag: string | null;
  readonly mode: 'segmented' | 'single';
  readonly verified: 'md5' | 'size';
  /** Bytes found on disk from an earlier run and not fetched again. */
  readonly resumedBytes: number;
  /** Bytes received in this run (repeats after a cut connection included). */
  readonly fetchedBytes: number;
  /** HTTP requests made in this run, probes included. */
  readonly requests: number;
  /** Multi-range requests answered with multipart/byteranges. */
  readonly multipartAnswers: number;
  readonly restarts: number;
}

export interface DownloadProgress {
  /** Bytes of the object on disk (for a resumed download, including those from before). */
  readonly written: number;
  readonly size: number | undefined;
  readonly fetchedBytes: number;
  readonly connections: number;
}

type Known = RemoteObject & { readonly size: number };

/**
 * One download (see download()): `run()` once; `progress()` at any time
 * for the bytes written and fetched and the connections open.
 */
export class Downloader {
  readonly #o: Required<Omit<DownloadOptions, 'segmentSize' | 'signal' | 'onEvent' | 'retry'>> & Pick<DownloadOptions, 'segmentSize' | 'onEvent'>;
  readonly #retry: DownloadRetryPolicy;
  readonly #signal: AbortSignal;
  readonly #part: string;
  readonly #statePath: string;
  #coverage = new Coverage();
  #size: number | undefined;
  #streamed = 0;
  #fetched = 0;
  #requests = 0;
  #multipart = 0;
  #active = 0;

  constructor(options: DownloadOptions) {
    this.#o = {
      connections: 4,
      minSplit: MiB / 4,
      smallHole: MiB,
      maxRangesPerRequest: 64,
      maxRestarts: 3,
      stateIntervalMs: 500,
      stallMs: 30_000,
      headers: {},
      fetch: globalThis.fetch,
      ...options,
    };
    this.#retry = { ...DEFAULT_DOWNLOAD_RETRY, ...options.retry };
    this.#signal = options.signal ?? new AbortController().signal;
    this.#part = `${options.output}.part`;
    this.#statePath = `${options.output}.part.json`;
  }

  progress(): DownloadProgress {
    return {
      written: Math.max(this.#coverage.bytes(), this.#streamed),
      size: this.#size,
      fetchedBytes: this.#fetched,
      connections: this.#active,
    };
  }

  async run(): Promise<DownloadResult> {
    for (let restarts = 0; ; restarts++) {
      try {
        return { ...(await this.#attempt()), restarts };
      } catch (err) {
        if (this.#signal.aborted) throw new DownloadError('aborted', 'stopped; run it again to resume');
        if (!(err instanceof ObjectChanged)) throw err;
        // Never splice two versions: what is on disk goes.
        await this.#discard();
        if (restarts >= this.#o.maxRestarts) {
          throw new DownloadError('changed', `the object changed ${restarts + 1} times during the download (${err.message})`);
        }
        this.#o.onEvent?.({ kind: 'restart', reason: err.message });
      }
    }
  }

  async #discard(): Promise<void> {
    await rm(this.#part, { force: true });
    await removeState(this.#statePath);
    this.#coverage = new Coverage();
    this.#streamed = 0;
  }

  async #attempt(): Promise<Omit<DownloadResult, 'restarts'>> {
    const { result: first, control } = await this.#probe();
    this.#size = first.object.size;
    if (first.kind === 'whole') {
      this.#o.onEvent?.({ kind: 'start', object: first.object, mode: 'single', resumedBytes: 0 });
      return this.#single(first.object, first.response, control);
    }
    return this.#segmented(first.object);
  }

  /** The retry loop (lib/client/retry.ts) with this download's policy, stall limit and events. */
  #loop(signal: AbortSignal, subject: () => string, range: () => ByteRange, progress?: () => number): RetryLoop {
    return {
      policy: this.#retry,
      stallMs: this.#o.stallMs,
      signal,
      subject,
      range,
      ...(progress && { progress }),
      onRetry: (r, reason, waitMs) => this.#o.onEvent?.({ kind: 'retry', range: r, reason, waitMs }),
    };
  }

  /** The probe, retried on network errors, stalls and transient statuses. */
  #probe(): Promise<{ result: ProbeResult; control: AbortController }> {
    const loop = this.#loop(this.#signal, () => this.#o.url, () => ({ start: 0, end: 0 }));
    return withRetries(loop, async ({ signal, control }) => {
      this.#requests++;
      // The control is kept for the answer's body: with a server that ignores Range, it is the download.
      return { result: await probe(this.#o.url, { fetch: this.#o.fetch, signal, headers: this.#o.headers }), control };
    });
  }

  // -------------------------------------------------------------------------------------------
  // A server that ignores Range: one stream, from the start on every try.

  async #single(object: RemoteObject, response: Response, probeControl: AbortController): Promise<Omit<DownloadResult, 'restarts'>> {
    await removeState(this.#statePath); // nothing of it can be resumed
    // The first try reads the probe's answer; a try that got further than any before resets the count.
    let first: { res: Response; control: AbortController } | undefined = { res: response, control: probeControl };
    const loop = this.#loop(
      this.#signal,
      () => object.url,
      () => ({ start: 0, end: (object.size ?? 1) - 1 }),
      () => this.#streamed,
    );
    await withRetries(loop, async (t) => {
      const { file } = await PartialFile.open(this.#part, 0, false);
      this.#streamed = 0;
      try {
        let res: Response;
        if (first !== undefined) {
          // The probe's own stall guard has stopped: this try's guard aborts the probe's exchange.
          ({ res } = first);
          const probeCtl = first.control;
          first = undefined;
          t.signal.addEventListener('abort', () => probeCtl.abort(t.signal.reason), { once: true });
        } else {
          this.#requests++;
          res = await this.#o.fetch(object.url, { headers: { ...this.#o.headers }, signal: t.signal });
          if (res.status !== 200) {
            await res.body?.cancel();
            throw new DownloadError('http', `${object.url}: HTTP ${res.status} ${res.statusText}`.trim(), res.status);
          }
        }
        if (res.body) {
          for await (const chunk of chunksOf(res.body, () => t.guard.kick())) {
            await file.write(chunk, this.#streamed);
            this.#streamed += chunk.length;
            this.#fetched += chunk.length;
          }
        }
        if (object.size !== undefined && this.#streamed !== object.size) throw new TryAgain(`ended after ${this.#streamed} of ${object.size} bytes`);
        await file.sync();
      } finally {
        await file.close();
      }
    });
    return this.#finish(object, this.#streamed, 'single', 0);
  }

  /** Verifies `<file>.part` and renames it into place. */
  async #finish(object: RemoteObject, size: number, mode: 'segmented' | 'single', resumedBytes: number): Promise<Omit<DownloadResult, 'restarts'>> {
    let verified: 'md5' | 'size';
    try {
      verified = await verifyFile(this.#part, size, object.etag);
    } catch (err) {
      await this.#discard();
      throw err;
    }
    await rename(this.#part, this.#o.output);
    await removeState(this.#statePath);
    return {
      path: this.#o.output,
      size,
      etag: object.etag,
      mode,
      verified,
      resumedBytes,
      fetchedBytes: this.#fetched,
      requests: this.#requests,
      multipartAnswers: this.#multipart,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Ranges: resume, fill small holes in multi-range requests, then segments.

  async #segmented(object: Known): Promise<Omit<DownloadResult, 'restarts'>> {
    const state = await readState(this.#statePath);
    const resume = state !== null && stateMatches(state, object);
    const { file, kept } = await PartialFile.open(this.#part, object.size, resume);
    this.#coverage = new Coverage(resume && kept ? doneRanges(state) : []);
    const resumedBytes = this.#coverage.bytes();
    this.#o.onEvent?.({ kind: 'start', object, mode: 'segmented', resumedBytes });

    let saving: Promise<void> = Promise.resolve();
    // Only ranges whose writes have completed are in the snapshot; the sync
    // puts them on disk before the state says so.
    const save = () =>
      (saving = saving.then(async () => {
        const snapshot = this.#coverage.ranges();
        await file.sync();
        await writeState(this.#statePath, stateFor(object, snapshot));
      }));
    const timer = setInterval(() => void save().catch(() => {}), this.#o.stateIntervalMs);
    let changed = false;
    try {
      await save();
      for (const group of smallHoleGroups(this.#coverage.holes(object.size), { maxHole: this.#o.smallHole, maxRanges: this.#o.maxRangesPerRequest })) {
        await this.#fillHoles(object, file, group);
      }
      await this.#segments(object, file);
    } catch (err) {
      changed = err instanceof ObjectChanged;
      throw err;
    } finally {
      clearInterval(timer);
      if (!changed) await save().catch(() => {});
      await saving.catch(() => {});
      await file.close();
    }
    return this.#finish(object, object.size, 'segmented', resumedBytes);
  }

  #headers(object: Known, ranges: readonly ByteRange[]): Record<string, string> {
    return { ...this.#o.headers, ...validatorHeaders(object), range: rangeField(ranges) };
  }

  /** Writes bytes of the object at `position` and records them as written. */
  async #write(file: PartialFile, bytes: Uint8Array, position: number): Promise<void> {
    this.#fetched += bytes.length;
    await file.write(bytes, position);
    this.#coverage.add(position, position + bytes.length - 1);
  }

  /**
   * One request for many small holes (§14.2). The answer may be multipart
   * (§14.6), a single range (radosgw sends the first range only; a server
   * may coalesce), or 200 (a server's range limit): whatever is left over is
   * fetched by the segments afterwards.
   */
  async #fillHoles(object: Known, file: PartialFile, group: readonly ByteRange[]): Promise<void> {
    const report = (answer: 'multipart' | 'single' | 'refused' | 'failed') => this.#o.onEvent?.({ kind: 'multi-range', ranges: group.length, answer });
    const control = new AbortController();
    const signal = AbortSignal.any([this.#signal, control.signal]);
    const guard = new StallGuard(this.#o.stallMs, control);
    let answer: RangedAnswer | undefined;
    try {
      this.#requests++;
      const res = await this.#o.fetch(object.url, { headers: this.#headers(object, group), signal });
      answer = judgeAnswer(res, object, group);
      if (answer.kind === 'multipart') {
        this.#multipart++;
        for await (const event of readByteranges(chunksOf(res.body!, () => guard.kick()), answer.boundary)) {
          if (event.kind === 'part') {
            if (event.length !== undefined && event.length !== object.size) throw new ObjectChanged(`a part states length ${event.length}, was ${object.size}`);
            if (event.range.end >= object.size) throw new Error(`a part beyond the end: ${event.range.end}`);
          } else {
            await this.#write(file, event.bytes, event.position);
          }
        }
      } else if (answer.kind === 'single') {
        await this.#pump(file, res.body!, answer.range.start, { pos: answer.range.start, end: answer.range.end }, control, guard);
      } else {
        await res.body?.cancel();
        if (answer.kind === 'changed') throw new ObjectChanged(answer.reason);
      }
      report(answer.kind === 'multipart' || answer.kind === 'single' ? answer.kind : answer.kind === 'refused' ? 'refused' : 'failed');
    } catch (err) {
      if (err instanceof ObjectChanged || this.#signal.aborted) throw err;
      // A cut or malformed answer: what was written stays; the segments fetch the rest.
      report('failed');
    } finally {
      guard.stop();
      control.abort();
    }
  }

  /** The missing bytes over N connections; a connection without work takes half of the largest running segment. */
  async #segments(object: Known, file: PartialFile): Promise<void> {
    const missing = this.#coverage.holes(object.size);
    const remaining = totalLength(missing);
    if (remaining === 0) return;
    const size = this.#o.segmentSize ?? segmentSizeFor(remaining, this.#o.connections, this.#o.minSplit);
    const queue: Segment[] = split(missing, size).map((r) => ({ pos: r.start, end: r.end }));
    const running = new Set<Segment>();
    const next = (): Segment | undefined => {
      const queued = queue.shift();
      if (queued) return queued;
      const steal = stealTail(running, this.#o.minSplit);
      if (!steal) return undefined;
      const tail = { pos: steal.at, end: steal.victim.end };
      steal.victim.end = steal.at - 1;
      return tail;
    };
    // One failing connection stops the others: its error is the download's.
    const stop = new AbortController();
    const signal = AbortSignal.any([this.#signal, stop.signal]);
    const worker = async () => {
      for (let s = next(); s; s = next()) {
        running.add(s);
        try {
          await this.#fetchSegment(object, file, s, signal);
        } finally {
          running.delete(s);
        }
      }
    };
    const workers = Array.from({ length: this.#o.connections }, async () => {
      try {
        await worker();
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    });
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw stop.signal.reason ?? failed.reason;
  }

  /** One segment, retried from the byte where it stopped; progress resets the failure count. */
  #fetchSegment(object: Known, file: PartialFile, seg: Segment, signal: AbortSignal): Promise<void> {
    const loop = this.#loop(
      signal,
      () => `bytes ${seg.pos}-${seg.end}`,
      () => ({ start: seg.pos, end: seg.end }),
      () => seg.pos,
    );
    return withRetries(loop, async ({ signal: trySignal, control, guard }) => {
      // A try that failed after writing the segment's last byte leaves nothing to fetch.
      if (seg.pos > seg.end) return;
      this.#active++;
      try {
        const asked = { start: seg.pos, end: seg.end };
        this.#requests++;
        const res = await this.#o.fetch(object.url, { headers: this.#headers(object, [asked]), signal: trySignal });
        const answer = judgeAnswer(res, object, [asked]);
        if (answer.kind !== 'single') {
          await res.body?.cancel();
          if (answer.kind === 'changed') throw new ObjectChanged(answer.reason);
          if (answer.kind === 'fatal') throw new DownloadError('http', `${object.url}: ${answer.reason}`);
          throw new TryAgain(answer.kind === 'multipart' ? 'a multipart answer to one range' : answer.reason);
        }
        await this.#pump(file, res.body!, answer.range.start, seg, control, guard);
        if (seg.pos <= seg.end) throw new TryAgain('no bytes');
      } finally {
        this.#active--;
      }
    });
  }

  /**
   * Writes a single-range body that starts at `start` into the segment,
   * stopping (and closing the connection) once the segment's end is passed:
   * its tail may have been given to another connection meanwhile.
   */
  async #pump(file: PartialFile, body: ReadableStream<Uint8Array>, start: number, seg: Segment, control: AbortController, guard: StallGuard): Promise<void> {
    let position = start;
    for await (const chunk of chunksOf(body, () => guard.kick())) {
      const room = seg.end - position + 1;
      const bytes = room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
      if (bytes.length > 0) await this.#write(file, bytes, position);
      position += bytes.length;
      seg.pos = Math.max(seg.pos, position);
      if (position > seg.end) {
        control.abort();
        return;
      }
    }
  }
}

/**
 * Downloads `options.url` to `options.output` (see Downloader and the steps
 * at the top of this file). Defaults: 4 connections, segments of the missing
 * bytes / connections, splits down to 256 KiB, holes up to 1 MiB fetched 64
 * ranges a request, 6 tries without progress (DEFAULT_DOWNLOAD_RETRY),
 * 3 restarts, 30 s stall limit. Resolves with what it did (DownloadResult);
 * rejects with DownloadError: `http` (an unusable status), `network` (tries
 * ran out), `changed` (restarts ran out), `verify` (size or MD5 wrong),
 * `aborted` (options.signal; the partial file and state are kept); a file
 * system error passes through as Node's own (the CLI reports it as `file`).
 */
export function download(options: DownloadOptions): Promise<DownloadResult> {
  return new Downloader(options).run();
}
