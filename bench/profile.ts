/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, written by the agent when it exits): self time
 * per function and per source file, so `npm run bench -- --profile` shows where the agent's CPU
 * goes without opening DevTools. Profiling itself costs CPU: figures of a profiled run are not the
 * benchmark's figures.
 */
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from '../config/package-root.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Whether only the measurement window was counted. */
  windowed: boolean;
  totalMs: number;
  /** Share of samples in which the agent was idle (program idle / GC are listed separately). */
  idlePercent: number;
  topFunctions: ProfileEntry[];
  topFiles: ProfileEntry[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const root = `file://${PACKAGE_ROOT}/`;
  let u = url.startsWith(root) ? url.slice(root.length) : url;
  u = u.replace(/^.*node_modules\//, 'node_modules/');
  return u;
}

/**
 * Self time per function and file. With `windowUs` (CLOCK_MONOTONIC µs, the clock of V8's profile
 * timestamps and of process.hrtime), only samples inside the window count: start-up (config
 * parsing, module loading) and shutdown are left out.
 */
export function summariseCpuProfile(file: string, windowUs?: { start: number; end: number }, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (windowUs && (t < windowUs.start || t > windowUs.end)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  if (windowUs && selfUs.size === 0) return summariseCpuProfile(file, undefined, top); // clocks did not line up
  let total = 0;
  let idle = 0;
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    const f = url ? shortUrl(url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1') : functionName.startsWith('(') ? functionName : '(native)';
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, percent: busy > 0 ? (us / busy) * 100 : 0 }));
  return { file, windowed: windowUs !== undefined && total > 0, totalMs: total / 1000, idlePercent: total > 0 ? (idle / total) * 100 : 0, topFunctions: rank(fns), topFiles: rank(files) };
}
