/**
 * The download client behind `edge-ranges get` (Node only: it writes files):
 * segmented, resumable, verified downloads over HTTP ranges.
 */
export { download, Downloader, type DownloadEvent, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download.ts';
export { DownloadError, type DownloadFailure } from './errors.ts';
