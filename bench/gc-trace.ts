/**
 * `--gc-trace`: the agent runs with V8's `--trace-gc-nvp` (one line of name=value pairs per
 * collection on stdout, copied to bench/results/agent-<scenario>.log). This summarises the lines
 * between the probe's window markers: how many bytes the agent allocates and promotes to the old
 * generation per second, and how far the heap swings between full collections — the evidence
 * behind RSS. Tracing costs a little CPU; a traced run's CPU figure is not the benchmark's.
 */
import { readFileSync } from 'node:fs';
import { WINDOW_END, WINDOW_START } from './agent-probe.js';

export interface GcTraceSummary {
  seconds: number;
  scavenges: number;
  markCompacts: number;
  allocatedMbPerS: number;
  promotedMbPerS: number;
  maxScavengePauseMs: number;
  maxMarkCompactPauseMs: number;
  /** Heap size right after each collection in the window: min and max (the swing). */
  heapAfterGcMb: { min: number; max: number };
}

export function summariseGcTrace(logFile: string): GcTraceSummary | null {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const start = lines.indexOf(WINDOW_START);
  const end = lines.indexOf(WINDOW_END, start + 1);
  if (start < 0 || end < 0) return null;
  const entries = lines
    .slice(start + 1, end)
    .filter((l) => l.includes(' pause=') && l.includes(' gc='))
    .map((l) => {
      const kv = Object.fromEntries([...l.matchAll(/ ([\w.]+)=([\w.%]+)/g)].map((m) => [m[1], m[2]]));
      return { atMs: Number(/(\d+) ms: /.exec(l)?.[1]), gc: kv.gc, pauseMs: Number(kv.pause), allocated: Number(kv.allocated), promoted: Number(kv.promoted), after: Number(kv.total_size_after) };
    });
  if (entries.length < 2) return null;
  const seconds = (entries[entries.length - 1].atMs - entries[0].atMs) / 1000;
  const mb = (b: number) => b / 2 ** 20;
  // A trace line can be torn by a log line written in the middle of it: ignore implausible values.
  const sum = (f: (e: (typeof entries)[number]) => number) => entries.slice(1).reduce((n, e) => n + (f(e) >= 0 && f(e) < 2 ** 31 ? f(e) : 0), 0);
  const scav = entries.filter((e) => e.gc === 's');
  const mc = entries.filter((e) => e.gc === 'mc');
  return {
    seconds,
    scavenges: scav.length,
    markCompacts: mc.length,
    allocatedMbPerS: mb(sum((e) => e.allocated)) / seconds,
    promotedMbPerS: mb(sum((e) => e.promoted)) / seconds,
    maxScavengePauseMs: Math.max(0, ...scav.map((e) => e.pauseMs)),
    maxMarkCompactPauseMs: Math.max(0, ...mc.map((e) => e.pauseMs)),
    heapAfterGcMb: { min: mb(Math.min(...entries.map((e) => e.after))), max: mb(Math.max(...entries.map((e) => e.after))) },
  };
}
