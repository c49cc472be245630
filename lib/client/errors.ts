/** The failures a download can end with, each with a message fit for a user (no stack trace needed). */
export type DownloadFailure =
  /** The server answered with a status we cannot use (404, 403, ...). */
  | 'http'
  /** Connections kept failing without progress, past the retry budget. */
  | 'network'
  /** The object changed more often than the restart budget allows. */
  | 'changed'
  /** The finished file does not match the size or the MD5 the server stated. */
  | 'verify'
  /** The output, partial or state file could not be written. */
  | 'file'
  /** Stopped by the caller's AbortSignal. */
  | 'aborted';

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly failure: DownloadFailure,
    message: string,
    /** The HTTP status behind an 'http' failure. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The object is not the one the download began with (RFC 9110 §13.1.5: an
 * If-Range that no longer matches answers 200; §13.1.1: a failed If-Match
 * answers 412; or the ETag or length of a 206 differs). The bytes on disk are
 * from the old object: start again, never splice.
 */
export class ObjectChanged extends Error {
  override readonly name = 'ObjectChanged';
}
