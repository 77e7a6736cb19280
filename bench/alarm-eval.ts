/**
 * Alarm evaluation cost: 10k tags, each with a limit, a rate and a predictive rule (30k rules),
 * fed 60 s of once-a-second readings (600k readings) through the live engine in this process,
 * with the engine's once-a-second tick. Reported as CPU µs per reading and as % of one core at
 * 10k tags per second. Baselines in the same run: the same engine with no rules (routing only),
 * with limits only, and with limits and rates.
 */
import { AlarmEngine } from '../agent/alarms/engine.js';
import type { AlarmRule } from '../agent/alarms/types.js';

export interface AlarmEvalCase {
  rules: string;
  rulesCount: number;
  readings: number;
  cpuUsPerReading: number;
  /** CPU of one core at 10k tags read once a second. */
  cpuPercentAt10k: number;
  events: number;
}

export interface AlarmEvalReport {
  tags: number;
  seconds: number;
  cases: AlarmEvalCase[];
}

function rulesFor(tags: number, kinds: readonly ('limit' | 'rate' | 'predict')[]): AlarmRule[] {
  const out: AlarmRule[] = [];
  const base = { device: 'bench', unit: '°C', onDelayMs: 0, offDelayMs: 0, chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 }, suppressOnCommLoss: true, priority: 'medium' as const, message: '{tag} {value}' };
  for (let i = 0; i < tags; i++) {
    const tag = `t${i}`;
    if (kinds.includes('limit')) out.push({ ...base, id: `${tag}.high`, tag, condition: { kind: 'limit', level: 'H', limit: 80, deadband: 1 } });
    if (kinds.includes('rate')) out.push({ ...base, id: `${tag}.rate`, tag, condition: { kind: 'rate', windowMs: 60_000, maxRisePerMin: 5 } });
    if (kinds.includes('predict')) {
      out.push({ ...base, id: `${tag}.predict`, tag, condition: { kind: 'predict', threshold: 80, direction: 'rising', windowMs: 1_800_000, horizonMs: 1_800_000, sampleEveryMs: 30_000, minConfidence: 0.95 } });
    }
  }
  return out;
}

function runCase(name: string, tags: number, seconds: number, kinds: readonly ('limit' | 'rate' | 'predict')[]): AlarmEvalCase {
  const rules = rulesFor(tags, kinds);
  const engine = new AlarmEngine(rules);
  const start = Date.UTC(2026, 0, 1);
  // A deterministic wander around 50 with slow drifts; a few tags drift up into their limits.
  const values = Float64Array.from({ length: tags }, (_, i) => 40 + (i % 20));
  let events = 0;
  // Warm-up: fill the predictive windows (30 min at one point per 30 s = 60 points).
  const warmSeconds = kinds.includes('predict') ? 1800 : 60;
  const feed = (second: number): void => {
    const t = start + second * 1000;
    for (let i = 0; i < tags; i++) {
      values[i] += Math.sin(second * 0.01 + i) * 0.05 + (i % 500 === 0 ? 0.02 : 0);
      events += engine.evaluate({ device: 'bench', tag: `t${i}`, value: values[i], quality: 'good', timestampMs: t }, t).length;
    }
    events += engine.tick(t).length;
  };
  for (let s = 0; s < warmSeconds; s += kinds.includes('predict') ? 30 : 1) feed(s);
  events = 0;
  const cpu0 = process.cpuUsage();
  for (let s = warmSeconds; s < warmSeconds + seconds; s++) feed(s);
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  const readings = tags * seconds;
  return { rules: name, rulesCount: rules.length, readings, cpuUsPerReading: cpuUs / readings, cpuPercentAt10k: (cpuUs / 1e6 / seconds) * (10_000 / tags) * 100, events };
}

export function runAlarmEval(log: (line: string) => void, tags = 10_000, seconds = 60): AlarmEvalReport {
  const cases: AlarmEvalCase[] = [];
  for (const [name, kinds] of [
    ['none (routing only)', []],
    ['limit', ['limit']],
    ['limit + rate', ['limit', 'rate']],
    ['limit + rate + predict', ['limit', 'rate', 'predict']],
  ] as const) {
    const c = runCase(name, tags, seconds, kinds);
    cases.push(c);
    log(`[alarms] ${name}: ${c.rulesCount} rules, ${c.cpuUsPerReading.toFixed(2)} µs per reading, ${c.cpuPercentAt10k.toFixed(1)} % of a core at 10k tags/s, ${c.events} events`);
  }
  return { tags, seconds, cases };
}
