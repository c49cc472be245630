#!/usr/bin/env node
/**
 * `edge-ranges get <url> -o <file>`: the download client of lib/client as a
 * command. Arguments and output only; the download itself is lib/client/download.ts.
 *
 * Exit codes: 0 done and verified; 1 the download failed (HTTP status,
 * network, object kept changing, verification, file system); 2 usage;
 * 130 interrupted (the state file is kept: rerun to resume).
 */
import { parseArgs } from 'node:util';
import { DownloadError } from '../../lib/client/errors.ts';
import { Downloader, type DownloadEvent, type DownloadResult } from '../../lib/client/download.ts';
import { RateMeter, barLine, formatBytes, formatDuration, jsonLine, plainLine, progressLine } from '../../lib/client/progress.ts';

const USAGE = `usage: edge-ranges get <url> -o <file> [options]

Downloads <url> to <file> over several connections with HTTP ranges,
resuming from <file>.part and <file>.part.json if a run was interrupted.

options:
  -o, --output <file>        where to write the file (required)
  -c, --connections <n>      connections at once (default 4)
      --segment-size <size>  largest segment, e.g. 4M, 512K (default: the size / connections)
      --json                 progress as JSON lines on stdout
  -q, --quiet                no progress, errors only
  -h, --help                 this text

exit codes: 0 done, 1 download failed, 2 usage, 130 interrupted (rerun to resume)`;

class UsageError extends Error {}

interface Command {
  readonly url: string;
  readonly output: string;
  readonly connections: number;
  readonly segmentSize: number | undefined;
  readonly mode: 'bar' | 'plain' | 'json' | 'quiet';
}

function parseSize(text: string, name: string): number {
  const m = /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(text);
  if (!m) throw new UsageError(`${name}: not a size: ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * unit;
  if (n < 1 || !Number.isSafeInteger(n)) throw new UsageError(`${name}: out of range: ${text}`);
  return n;
}

function parseCommand(argv: readonly string[]): Command | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        connections: { type: 'string', short: 'c' },
        'segment-size': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [verb, url, ...extra] = positionals;
  if (verb !== 'get') throw new UsageError(verb === undefined ? 'no command (the only one is `get`)' : `unknown command: ${verb}`);
  if (url === undefined) throw new UsageError('get: no URL');
  if (extra.length > 0) throw new UsageError(`get: unexpected arguments: ${extra.join(' ')}`);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`get: not a URL: ${url}`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new UsageError(`get: only http and https URLs: ${url}`);
  if (!values.output) throw new UsageError('get: -o <file> is required');
  const connections = values.connections === undefined ? 4 : Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1 || connections > 64) {
    throw new UsageError(`-c: a whole number from 1 to 64, not ${values.connections}`);
  }
  if (values.json && values.quiet) throw new UsageError('--json and --quiet do not go together');
  return {
    url,
    output: values.output,
    connections,
    segmentSize: values['segment-size'] === undefined ? undefined : parseSize(values['segment-size'], '--segment-size'),
    mode: values.json ? 'json' : values.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'plain',
  };
}

function describe(event: DownloadEvent): string {
  switch (event.kind) {
    case 'start':
      return `${event.object.url}: ${event.object.size === undefined ? 'size unknown' : formatBytes(event.object.size)}, ${
        event.mode === 'single' ? 'the server ignores ranges: one stream' : `ETag ${event.object.etag ?? 'none'}`
      }${event.resumedBytes > 0 ? `, resuming with ${formatBytes(event.resumedBytes)} on disk` : ''}`;
    case 'retry':
      return `bytes ${event.range.start}-${event.range.end}: ${event.reason}; again in ${event.waitMs} ms`;
    case 'restart':
      return `the object changed (${event.reason}): starting over`;
    case 'multi-range':
      return `${event.ranges} small holes in one request: ${event.answer}`;
  }
}

async function get(command: Command): Promise<number> {
  const controller = new AbortController();
  const json = (line: string) => process.stdout.write(`${line}\n`);
  const say = (line: string) => {
    if (command.mode === 'bar') process.stderr.write('\r\x1b[K');
    if (command.mode === 'bar' || command.mode === 'plain') process.stderr.write(`${line}\n`);
  };
  const downloader = new Downloader({
    url: command.url,
    output: command.output,
    connections: command.connections,
    ...(command.segmentSize !== undefined && { segmentSize: command.segmentSize }),
    signal: controller.signal,
    onEvent: (event) => {
      if (command.mode === 'json') json(JSON.stringify(event.kind === 'start' ? { event: 'start', ...event.object, mode: event.mode, resumed: event.resumedBytes } : { event: event.kind, ...event, kind: undefined }));
      else say(describe(event));
    },
  });
  const meter = new RateMeter();
  meter.sample(performance.now(), 0); // so the first line has a rate
  const now = () => progressLine(downloader.progress(), meter.sample(performance.now(), downloader.progress().fetchedBytes));
  const timer =
    command.mode === 'quiet'
      ? undefined
      : setInterval(
          () => {
            const p = now();
            if (command.mode === 'bar') process.stderr.write(`\r${barLine(p, process.stderr.columns || 80)}`);
            else if (command.mode === 'plain') process.stderr.write(`${plainLine(p)}\n`);
            else json(jsonLine('progress', p));
          },
          command.mode === 'bar' ? 200 : 1000,
        );
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const started = performance.now();
  try {
    const result: DownloadResult = await downloader.run();
    const seconds = (performance.now() - started) / 1000;
    if (command.mode === 'json') json(JSON.stringify({ event: 'done', ...result, seconds }));
    else {
      say(
        `${result.path}: ${formatBytes(result.size)} in ${formatDuration(seconds)} (${formatBytes(Math.round(result.fetchedBytes / Math.max(seconds, 0.001)))}/s), ` +
          `${result.verified === 'md5' ? 'MD5 verified' : 'size verified'}${result.resumedBytes > 0 ? `, ${formatBytes(result.resumedBytes)} resumed` : ''}`,
      );
    }
    return 0;
  } catch (err) {
    const aborted = err instanceof DownloadError && err.failure === 'aborted';
    const message = err instanceof Error ? err.message : String(err);
    if (command.mode === 'json') json(JSON.stringify({ event: 'error', failure: err instanceof DownloadError ? err.failure : 'file', message }));
    if (command.mode === 'bar') process.stderr.write('\r\x1b[K');
    process.stderr.write(`edge-ranges: ${aborted ? 'interrupted; run the same command again to resume' : message}\n`);
    // Unexpected errors (not a DownloadError nor a file-system error) keep their stack.
    if (!(err instanceof DownloadError) && !(err instanceof Error && 'code' in err)) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return aborted ? 130 : 1;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command | 'help';
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`edge-ranges: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return get(command);
}

process.exitCode = await main(process.argv.slice(2));
