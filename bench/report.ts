/**
 * The results as a table on the console and as bench/RESULTS.md, with the
 * machine and versions they were measured on, the targets of issue 6 met or
 * missed, and the spread of the headline ratios over the runs recorded in
 * bench/history.jsonl (the machine is shared and noisy).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Check, Results, Row } from './scenarios.ts';

export interface Environment {
  readonly date: string;
  readonly machine: string;
  readonly versions: string;
  /** The commit measured, and uncommitted changes to the code under test, if any. */
  readonly code: string;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    // nginx -v writes to stderr; merge both.
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0] ?? '?';
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    return (e.stderr || e.stdout || '?').trim().split('\n')[0] ?? '?';
  }
}

function versionOf(root: string, pkg: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

export function environment(root: string): Environment {
  const nginx = execFileSyncStderr('nginx', ['-v']);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: `${firstLine('nproc', [])} CPUs (nproc), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${cpus()[0]?.model ?? 'unknown CPU'}, Linux ${firstLine('uname', ['-r'])}`,
    versions: [
      `node ${process.version}`,
      `wrangler ${versionOf(root, 'wrangler')}`,
      `workerd ${versionOf(root, 'workerd')}`,
      `radosgw ${firstLine('radosgw', ['--version']).replace(/^ceph version (\S+).*/, '$1')}`,
      nginx.replace('nginx version: ', ''),
      `range-parser ${versionOf(root, 'range-parser')}`,
    ].join(', '),
    code: codeState(root),
  };
}

function codeState(root: string): string {
  // Not trimmed: porcelain lines start with a status column that may be a space.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
  try {
    const dirty = git('status', '--porcelain', '--', 'lib', 'functions', 'wrangler.toml', 'package-lock.json')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return `commit ${git('rev-parse', '--short', 'HEAD').trim()}${dirty.length ? `, with uncommitted changes to ${dirty.join(', ')}` : ', clean'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The first line a command prints on stdout or stderr (nginx -v uses stderr). */
function execFileSyncStderr(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || '?';
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'B') return value >= 1e6 ? `${(value / 2 ** 20).toFixed(2)} MiB (${value.toLocaleString('en-US')} B)` : `${value.toLocaleString('en-US')} B`;
  if (unit === 'ops/s') return `${Math.round(value).toLocaleString('en-US')} ops/s`;
  if (unit === 'req') return `${value.toFixed(1)}`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function short(v: number): string {
  return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(1);
}

function ratio(r: Row): string {
  if (!r.ratio || !Number.isFinite(r.ratio.value)) return '';
  const v = r.ratio.value;
  return `${v >= 0.01 ? v.toFixed(2) : v.toExponential(1)}× ${r.ratio.to}`;
}

/** The table as plain text for the console. */
export function consoleTable(results: Results): string {
  const lines = results.rows.map((r) => [r.scenario, r.target, r.metric, fmt(r.value, r.unit), ratio(r)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i]!.length)));
  const table = lines.map((l) => l.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n');
  const checks = results.checks.map((c) => `${c.met ? 'met   ' : 'MISSED'}  ${c.scenario}: ${c.goal} — ${c.measured}`).join('\n');
  return `${table}\n\nTargets:\n${checks}\n${results.notes.map((n) => `note: ${n}`).join('\n')}`;
}

/** The figures compared across runs. */
function headline(results: Results): Record<string, number> {
  const pick = (scenario: string, target: string, metric: string, useRatio = true): number => {
    const r = results.rows.find((x) => x.scenario === scenario && x.target === target && x.metric.startsWith(metric));
    return r ? (useRatio && r.ratio ? r.ratio.value : r.value) : NaN;
  };
  return {
    'a node/radosgw req/s': pick('a', 'node entry', 'req/s'),
    'a workers/radosgw req/s': pick('a', 'workers entry', 'req/s'),
    'a node/nginx MB/s': pick('a', 'node entry', 'MB/s'),
    'b node RSS growth MiB': pick('b', 'node entry', 'RSS growth', false),
    'b workers RSS growth MiB': pick('b', 'workers entry', 'RSS growth', false),
    'c node/nginx p50': pick('c', 'node entry', 'p50'),
    'd upstream RTTs in sequence': pick('d', 'node entry, store 20 ms away', 'upstream round trips', false),
    'e lib/range-parser, 16 ranges': pick('e', 'lib/range parse+resolve', 'ops/s, 16'),
    'f node wire/full 200': pick('f', 'node entry', 'bytes on the wire'),
    'g workerd CPU ms (a)': pick('g', 'workerd ×2 (workers entry)', 'CPU per request, (a)', false),
    'g workerd CPU ms (c)': pick('g', 'workerd ×2 (workers entry)', 'CPU per request, (c)', false),
    'h edge-ranges get/aria2c MB/s': pick('h', 'edge-ranges get -c 8', 'MB/s ('),
    'a node/tcp proxy req/s': pick('a', 'node entry', 'req/s against the tcp proxy', false),
    'a node CPU ms/MiB': pick('a', 'node entry', 'CPU per MiB', false),
    'b node/tcp proxy MB/s': pick('b', 'node entry', 'MB/s against the tcp proxy', false),
    'i node/radosgw p50': pick('i', 'node entry', 'p50'),
    'i workers/radosgw p50': pick('i', 'workers entry', 'p50'),
    'i node CPU ms/req': pick('i', 'node entry', 'CPU per request', false),
    'g Worker own CPU ms (a)': pick('g', 'workerd running the Worker, in-isolate store', 'CPU per request, (a)', false),
    'g Worker own CPU ms (c)': pick('g', 'workerd running the Worker, in-isolate store', 'CPU per request, (c)', false),
  };
}

/**
 * Why a target is missed, where we know it: written from reading lib/ and
 * from the figures, shown only when the check fails in this run.
 */
const WHY: Record<string, string> = {
  a: 'Why: see "a, b: the Node entry is CPU-bound" and "a: the Workers entry reads local R2" in METHODS.md.',
  b: 'Why: see "a, b: the Node entry is CPU-bound" and "b: Node RSS growth" in METHODS.md.',
  i: 'Why: see "i: what a hop adds to a 4 KiB range" in METHODS.md.',
  d: 'Why: the depth is exact; the latency bound is noisy on this machine (see the spread below and METHODS.md).',
  e: 'Why: see "e: 1 and 16 ranges" in METHODS.md.',
  h: 'Why: see "h: the download client" in METHODS.md.',
  g: 'Why: see "g: the Worker\'s own CPU" in METHODS.md.',
};

export function writeResults(dir: string, env: Environment, results: Results, quick: boolean, seconds: number): void {
  const historyFile = join(dir, 'history.jsonl');
  appendFileSync(historyFile, `${JSON.stringify({ date: env.date, quick, headline: headline(results) })}\n`);
  const history = readFileSync(historyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { date: string; quick: boolean; headline: Record<string, number> });

  const table = [
    '| | target | measure | value | ratio (same run) |',
    '|---|---|---|---|---|',
    ...results.rows.map((r) => `| ${r.scenario} | ${r.target} | ${r.metric} | ${fmt(r.value, r.unit)} | ${ratio(r)} |`),
  ].join('\n');
  const checks = results.checks
    .map((c: Check) => `- ${c.met ? '**met**' : '**missed**'} — ${c.scenario}: ${c.goal}: ${c.measured}.${!c.met && WHY[c.scenario] ? ` ${WHY[c.scenario]}` : ''}`)
    .join('\n');
  const keys = Object.keys(headline(results));
  const spread = [
    `| figure | ${history.map((h) => `${h.date.slice(5, 16)}${h.quick ? ' q' : ''}`).join(' | ')} |`,
    `|---|${history.map(() => '---').join('|')}|`,
    ...keys.map((k) => `| ${k} | ${history.map((h) => (Number.isFinite(h.headline[k]) ? short(h.headline[k]!) : 'n/a')).join(' | ')} |`),
  ].join('\n');

  writeFileSync(
    join(dir, 'RESULTS.md'),
    `# Benchmark results

Written by \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/run.ts) on ${env.date}, in ${Math.round(seconds)} s. Do not edit by hand: rerun.

- Machine: ${env.machine}
- Versions: ${env.versions}
- Code measured: ${env.code}
- Mode: ${quick ? '--quick (short loads, few samples: ratios moved by ±30% between runs here)' : 'full'}

The machine is shared (other engineers run test suites at the same time) and has two cores for the
load generator, the function, the store and the reference at once. Absolute figures say little;
compare figures **within one run** (the ratio column), and see the spread over runs below.

## Figures

${table}

## Targets (issues 6, 8 and 12)

${checks}
${results.notes.length ? `\nNotes from this run:\n${results.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
## Spread over runs on this machine (bench/history.jsonl)

${spread}

How each figure is measured, and the known reasons behind the misses: [METHODS.md](METHODS.md).
`,
  );
}

