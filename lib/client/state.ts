/**
 * The state file beside a partial download (`<file>.part.json`): which
 * object it is (size, ETag, Last-Modified) and which byte ranges of the
 * partial file are written. It is replaced atomically (write a temporary
 * file, then rename), and the caller records only bytes already written and
 * synced to the partial file, so a process killed at any moment leaves a
 * state that is true: at worst some written bytes are fetched again.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { ByteRange } from '../range/byte-range.ts';
import type { RemoteObject } from './probe.ts';

export interface DownloadState {
  readonly version: 1;
  readonly url: string;
  readonly size: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** Written ranges, inclusive, sorted: [start, end]. */
  readonly done: readonly (readonly [number, number])[];
}

/** The state, or null when there is none or it cannot be read (then the download starts over). */
export async function readState(path: string): Promise<DownloadState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const s = JSON.parse(text) as Partial<DownloadState>;
    const ok =
      s.version === 1 &&
      typeof s.url === 'string' &&
      Number.isSafeInteger(s.size) &&
      (s.etag === null || typeof s.etag === 'string') &&
      (s.lastModified === null || typeof s.lastModified === 'string') &&
      Array.isArray(s.done) &&
      s.done.every((r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] <= r[1] && r[0] >= 0 && r[1] < s.size!);
    return ok ? (s as DownloadState) : null;
  } catch {
    return null;
  }
}

export async function writeState(path: string, state: DownloadState): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, JSON.stringify(state));
  await rename(temp, path);
}

export async function removeState(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.tmp`, { force: true });
}

export function stateFor(object: RemoteObject & { readonly size: number }, done: readonly ByteRange[]): DownloadState {
  return {
    version: 1,
    url: object.url,
    size: object.size,
    etag: object.etag,
    lastModified: object.lastModified,
    done: done.map((r) => [r.start, r.end] as const),
  };
}

/**
 * Whether a saved state belongs to the object the server has now: same
 * size, and the same strong ETag — or, without ETags on either side, the
 * same Last-Modified. Without any validator nothing can be resumed safely.
 */
export function stateMatches(state: DownloadState, object: RemoteObject & { readonly size: number }): boolean {
  if (state.size !== object.size) return false;
  if (state.etag !== null || object.etag !== null) return state.etag === object.etag && !state.etag?.startsWith('W/');
  return state.lastModified !== null && state.lastModified === object.lastModified;
}

export function doneRanges(state: DownloadState): ByteRange[] {
  return state.done.map(([start, end]) => ({ start, end }));
}
