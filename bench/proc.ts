/**
 * Process measurements from /proc (Linux): CPU time and memory of any process by pid, read the
 * same way for the agent, the baselines, the simulator, the broker and the bench itself.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | null = null;

/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100). */
export function clkTck(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds consumed so far by `pid` ('self' for this process). */
export function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clkTck();
}

export interface MemoryKb {
  /** Resident set size now. */
  rssKb: number;
  /** Peak resident set size since the process started (VmHWM). */
  peakRssKb: number;
}

export function memory(pid: number | 'self'): MemoryKb {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakRssKb: field('VmHWM') };
}

/** /proc/stat's first line: CPU seconds (all cores) by kind. */
function machineTimes(): { irq: number; softirq: number; steal: number } {
  const v = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const t = clkTck();
  return { irq: v[5] / t, softirq: v[6] / t, steal: v[7] / t };
}

/**
 * CPU seconds of every process on the machine except `exclude`, split into user-space processes
 * (someone else's work) and kernel threads (kworker, jbd2, ksoftirqd…: mostly work done on behalf of
 * the processes that are running — fsync, loopback TCP, page reclaim).
 */
function otherProcessesSeconds(exclude: ReadonlySet<number>): Map<number, { kernel: boolean; seconds: number }> {
  const out = new Map<number, { kernel: boolean; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || exclude.has(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      out.set(pid, { kernel: pid === 2 || ppid === 2, seconds: (Number(fields[11]) + Number(fields[12])) / clkTck() });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Measures CPU of several processes over a window: `start()` now, `stop()` returns % of one core each. */
export class CpuWindow {
  private readonly startCpu = new Map<string, number>();
  private startMs = 0;
  private startOthers = new Map<number, { kernel: boolean; seconds: number }>();
  private startMachine = { irq: 0, softirq: 0, steal: 0 };

  constructor(private readonly pids: Record<string, number | 'self'>) {}

  start(): void {
    this.startMs = performance.now();
    this.startMachine = machineTimes();
    this.startOthers = otherProcessesSeconds(this.excluded());
    for (const [name, pid] of Object.entries(this.pids)) this.startCpu.set(name, safeCpu(pid));
  }

  /**
   * Percent of one core per process over the window, the window length, and what the rest of the
   * machine did meanwhile, in % of one core: `foreign` — user-space processes that are not part of
   * the measurement (someone else's work: the figures are disturbed); `kernel` — kernel threads plus
   * interrupt and softirq time (mostly on behalf of the measured processes); `steal` — time the
   * hypervisor gave to other guests.
   */
  stop(): { seconds: number; percent: Record<string, number>; foreign: number; kernel: number; steal: number } {
    const seconds = (performance.now() - this.startMs) / 1000;
    const percent: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      percent[name] = ((safeCpu(pid) - (this.startCpu.get(name) ?? 0)) / seconds) * 100;
    }
    let foreign = 0;
    let kernel = 0;
    for (const [pid, now] of otherProcessesSeconds(this.excluded())) {
      const used = now.seconds - (this.startOthers.get(pid)?.seconds ?? 0);
      if (now.kernel) kernel += used;
      else foreign += used;
    }
    const m = machineTimes();
    kernel += m.irq - this.startMachine.irq + (m.softirq - this.startMachine.softirq);
    const pct = (s: number) => Math.max(0, (s / seconds) * 100);
    return { seconds, percent, foreign: pct(foreign), kernel: pct(kernel), steal: pct(m.steal - this.startMachine.steal) };
  }

  private excluded(): Set<number> {
    return new Set(Object.values(this.pids).map((p) => (p === 'self' ? process.pid : p)));
  }
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return NaN;
  }
}

function safeCpu(pid: number | 'self'): number {
  return safe(() => cpuSeconds(pid));
}
