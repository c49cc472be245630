/**
 * The partial file of a download (`<file>.part`): written at any position
 * by several connections at once (pwrite), synced before the state file
 * says its bytes are there. Node only.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';

export class PartialFile {
  private constructor(private readonly handle: FileHandle) {}

  /**
   * Opens `path` for a download of `size` bytes. With `resume`, an existing
   * file of exactly that size is kept; anything else starts an empty file of
   * that size (sparse: holes read as zeros until written).
   * Returns whether the existing bytes were kept.
   */
  static async open(path: string, size: number, resume: boolean): Promise<{ file: PartialFile; kept: boolean }> {
    if (resume) {
      const existing = await stat(path).catch(() => null);
      if (existing?.isFile() && existing.size === size) return { file: new PartialFile(await open(path, 'r+')), kept: true };
    }
    const handle = await open(path, 'w');
    await handle.truncate(size);
    return { file: new PartialFile(handle), kept: false };
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** fdatasync: what was written is on disk before the state file claims it. */
  sync(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
