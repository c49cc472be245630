/**
 * What the benchmarks read about processes from /proc: the tree below a PID
 * we started (to find the real server behind tsx or wrangler), resident
 * memory, and CPU time. Linux only, like the rest of the local stack.
 */
import { readFileSync, readdirSync } from 'node:fs';

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(')');
    const rest = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(rest[1]), comm: text.slice(text.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** The command name of a living process, or undefined. */
export function commOf(pid: number): string | undefined {
  return stat(pid)?.comm;
}

/** Every living process below `root` (not `root` itself), parents before children. */
export function descendants(root: number): Stat[] {
  const all: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) all.push(s);
  }
  const out: Stat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const s of all) {
      if (s.ppid === parent) {
        out.push(s);
        queue.push(s.pid);
      }
    }
  }
  return out;
}

/** Resident set size in bytes (0 once the process is gone). */
export function rss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time (user + system) of all threads of a process, in ms, from each
 * thread's schedstat (nanoseconds, unlike /proc/<pid>/stat's 10 ms ticks).
 * Threads that have exited are not counted: fine for long-lived servers.
 */
export function cpuMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e6;
}

/** Samples the RSS of `pid` every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid: number, everyMs = 10): { peak(): number; stop(): number } {
  let peak = rss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rss(pid))), everyMs);
  return {
    peak: () => Math.max(peak, rss(pid)),
    stop() {
      clearInterval(timer);
      return Math.max(peak, rss(pid));
    },
  };
}
