/**
 * A passive probe preloaded into the agent process by the bench (`node --import <this> bin/allbit.js
 * run …`); it does not touch the agent's code or objects. Active only when
 * ALLBIT_BENCH_PROBE_FILE is set. It keeps
 *   - the event-loop delay (perf_hooks.monitorEventLoopDelay, native, a 10 ms timer): how much later
 *     than due the timer ran, i.e. how long ready work (a Modbus answer, a PUBACK) can wait behind
 *     other work;
 *   - garbage-collection pauses (a PerformanceObserver on 'gc' entries).
 * First SIGUSR2: reset both (the measurement window starts). Second SIGUSR2: write them, with
 * process.memoryUsage() and V8's heap spaces, and — when the agent runs with --expose-gc — the same
 * after a full collection (what is live vs. what is garbage V8 has not collected yet), to the file.
 * Cost: one timer per 10 ms and one callback per GC.
 */
import { writeFileSync, writeSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface ProbeReport {
  seconds: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  gc: { count: number; totalMs: number; maxMs: number; byKind: Record<string, { count: number; totalMs: number }> };
  memoryMb: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  afterFullGcMb: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number } | null;
  heapSpacesMb: Record<string, { size: number; used: number }>;
}

/** Marker lines the probe writes to stdout at the window's edges (bench/gc-trace.ts cuts the GC trace with them). */
export const WINDOW_START = 'allbit-bench-probe: window start';
export const WINDOW_END = 'allbit-bench-probe: window end';

const RESOLUTION_MS = 10;
const GC_KINDS: Record<number, string> = { 1: 'scavenge (young)', 2: 'mark-compact (full)', 4: 'incremental marking', 8: 'weak callbacks' };
const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const memoryMb = (m: NodeJS.MemoryUsage) => ({ rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });

const file = process.env.ALLBIT_BENCH_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0, byKind: {} as Record<string, { count: number; totalMs: number }> };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const k = (gc.byKind[kind] ??= { count: 0, totalMs: 0 });
      k.count++;
      k.totalMs += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });

  let windowStart: number | null = null;
  process.on('SIGUSR2', () => {
    if (windowStart === null) {
      delay.reset();
      gc = { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
      windowStart = performance.now();
      writeSync(1, `${WINDOW_START}\n`); // for --trace-gc-nvp lines in the same stream
      return;
    }
    // The histogram holds the time between the probe's 10 ms timer ticks; the delay is what exceeds 10 ms.
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const heapSpacesMb: ProbeReport['heapSpacesMb'] = {};
    for (const s of v8.getHeapSpaceStatistics()) heapSpacesMb[s.space_name] = { size: mb(s.space_size), used: mb(s.space_used_size) };
    const report: ProbeReport = {
      seconds: (performance.now() - windowStart) / 1000,
      eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean) },
      gc: { ...gc, totalMs: Math.round(gc.totalMs * 10) / 10, maxMs: Math.round(gc.maxMs * 10) / 10 },
      memoryMb: memoryMb(process.memoryUsage()),
      afterFullGcMb: null,
      heapSpacesMb,
    };
    const fullGc = (globalThis as { gc?: () => void }).gc;
    if (fullGc) {
      fullGc();
      report.afterFullGcMb = memoryMb(process.memoryUsage());
    }
    windowStart = null;
    writeSync(1, `${WINDOW_END}\n`);
    writeFileSync(file, JSON.stringify(report));
  });
}
