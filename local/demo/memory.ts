/**
 * Peak resident memory of the demo's process tree (this Node process, the Python jobs it starts and their Spark
 * JVMs), sampled from /proc twice a second: the figure the memory target is about. Linux only; elsewhere
 * it reports this process's own peak (process.resourceUsage().maxRSS).
 */
import * as fs from 'node:fs';

const PAGE = 4096;

function children(): Map<number, number[]> {
  const tree = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const list = tree.get(ppid) ?? [];
      list.push(Number(entry));
      tree.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  return tree;
}

function rssBytes(pid: number): number {
  try {
    const statm = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** RSS of a process and all its descendants, in bytes. */
export function treeRss(root: number = process.pid): number {
  const tree = children();
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    total += rssBytes(pid);
    stack.push(...(tree.get(pid) ?? []));
  }
  return total;
}

/** Starts sampling; stop() returns the peak in MiB. */
export function sampleTreeRss(intervalMs = 500): { stop: () => number } {
  const linux = fs.existsSync('/proc/self/statm');
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, linux ? treeRss() : process.resourceUsage().maxRSS * 1024);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return Math.round(peak / (1024 * 1024));
    },
  };
}
