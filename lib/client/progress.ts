/**
 * Progress of a download for people and programs: the transfer rate over
 * the last seconds, the time left, and three renderings — a bar for a
 * terminal, a plain line for logs, a JSON line for programs. Pure.
 */
import type { DownloadProgress } from './download.ts';

/** Rate over a sliding window of samples. */
export class RateMeter {
  readonly #samples: { at: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records `bytes` (a running total) at `at` ms; returns bytes per second over the window. */
  sample(at: number, bytes: number): number {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > this.windowMs) this.#samples.shift();
    const first = this.#samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? (bytes - first.bytes) / seconds : 0;
  }
}

export interface ProgressLine extends DownloadProgress {
  /** Bytes per second of fetched data, over the last seconds. */
  readonly rate: number;
  /** Seconds left at that rate; undefined when unknown. */
  readonly eta: number | undefined;
}

export function progressLine(p: DownloadProgress, rate: number): ProgressLine {
  const left = p.size === undefined ? undefined : p.size - p.written;
  return { ...p, rate, eta: left !== undefined && rate > 0 ? left / rate : undefined };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `12.0 MiB / 64.0 MiB (18%)  8.1 MiB/s  ETA 6s  4 conn` */
export function plainLine(p: ProgressLine): string {
  const of = p.size === undefined ? '' : ` / ${formatBytes(p.size)} (${percent(p)}%)`;
  return `${formatBytes(p.written)}${of}  ${formatBytes(Math.round(p.rate))}/s  ETA ${formatDuration(p.eta)}  ${p.connections} conn`;
}

/** The plain line behind a bar that fills `columns` (a terminal's width). */
export function barLine(p: ProgressLine, columns: number): string {
  const text = plainLine(p);
  const width = Math.max(10, Math.min(50, columns - text.length - 4));
  const filled = p.size ? Math.round((width * p.written) / p.size) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`.slice(0, Math.max(1, columns - 1));
}

export function jsonLine(event: string, p: ProgressLine): string {
  return JSON.stringify({
    event,
    written: p.written,
    size: p.size ?? null,
    fetched: p.fetchedBytes,
    rate: Math.round(p.rate),
    eta: p.eta === undefined ? null : Math.round(p.eta * 10) / 10,
    connections: p.connections,
  });
}

function percent(p: DownloadProgress): number {
  return p.size ? Math.floor((100 * p.written) / p.size) : 100;
}
