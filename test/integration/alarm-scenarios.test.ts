/**
 * The plant simulator's faults against the alarm engine: for a fault that develops over time, the
 * predictive alarm on a tag fires before the plain limit alarm on the same tag; over a fault-free
 * simulated day neither fires. The plant is stepped in-process and its values fed to the engine as
 * readings — the physics, not the transport, is under test here. docs/alarms.md records the lead
 * times and false alarms these scenarios give over five seeds.
 */
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../agent/alarms/engine.js';
import type { AlarmEvent, AlarmRule } from '../../agent/alarms/types.js';
import { startPlantSimulator } from '../../simulators/index.js';

const START = Date.UTC(2026, 6, 14, 0, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

export interface Scenario {
  device: string;
  fault: string;
  tag: string;
  unit: string;
  /** 'H': the limit alarm raises at value ≥ limit and the predictive rule watches a rise; 'L': ≤ and a fall. */
  level: 'H' | 'L';
  /** Well outside the tag's fault-free range, reached by the fault at full severity. */
  limit: number;
  /** Simulated seconds for the fault to develop from 0 to full severity; absent: the simulator's default. */
  rampSeconds?: number;
  /** The predictive rule, sized to how fast the fault develops. */
  predict: { windowMs: number; horizonMs: number; sampleEveryMs: number; onDelayMs: number };
  /** Simulated seconds between readings fed to the engine (the plant itself always integrates in 1 s steps). */
  stepS: number;
  /** When the fault is injected, and how long the faulted run lasts (hours from the start). */
  faultAfterH: number;
  hours: number;
}

const FAST_RULE = { windowMs: 20 * MIN, horizonMs: 30 * MIN, sampleEveryMs: 30_000, onDelayMs: 2 * MIN };

export const SCENARIOS: Scenario[] = [
  // Fault-free max about 2 K; fouling develops over the simulator's default hour.
  { device: 'chiller-1', fault: 'condenser-fouling', tag: 'cond_approach', unit: 'K', level: 'H', limit: 5, predict: FAST_RULE, stepS: 10, faultAfterH: 1, hours: 5 },
  // Fault-free max about 79 °C; the overload steps in over 5 min and the winding follows its thermal time constant.
  { device: 'transformer-1', fault: 'overload', tag: 'winding_temp', unit: '°C', level: 'H', limit: 90, predict: FAST_RULE, stepS: 10, faultAfterH: 1, hours: 5 },
  // Fault-free 2.8–4.2 K (the fan holds 3.5 K). The simulator's default 2-minute ramp is a step to a
  // limit alarm; a drive or belt that loses speed over hours is what a trend can see, and the rule
  // gets a longer window and horizon because the approach rises along 1/(1 − s)^0.7 — slowly at first.
  { device: 'cooling-tower-1', fault: 'fan-failure', tag: 'approach_temp', unit: 'K', level: 'H', limit: 6, rampSeconds: 4 * 3600, predict: { windowMs: 30 * MIN, horizonMs: 60 * MIN, sampleEveryMs: 30_000, onDelayMs: 2 * MIN }, stepS: 10, faultAfterH: 1, hours: 4 },
  // Fault-free 100 %; "replace below 80 %" is a low limit. Ageing takes months to years in a real
  // string; here it is compressed to 10 simulated days (80 % after 3.6 days) and the rule with it.
  // 96 points a window: the serially correlated residuals of this noise-free line cost the trend
  // test up to 19× its variance, and then fewer than 72 points fail it however monotonic the window.
  { device: 'ups-1', fault: 'battery-ageing', tag: 'battery_health_pct', unit: '%', level: 'L', limit: 80, rampSeconds: 10 * 86_400, predict: { windowMs: 24 * HOUR, horizonMs: 48 * HOUR, sampleEveryMs: 15 * MIN, onDelayMs: 1 * HOUR }, stepS: 60, faultAfterH: 24, hours: 24 + 4 * 24 },
];

function rules(s: Scenario): AlarmRule[] {
  const base = { device: s.device, tag: s.tag, unit: s.unit, onDelayMs: 0, offDelayMs: 0, chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 }, suppressOnCommLoss: true, message: '{value}' };
  const { onDelayMs, ...window } = s.predict;
  return [
    { ...base, id: 'limit', priority: 'high', condition: { kind: 'limit', level: s.level, limit: s.limit, deadband: 0.5 } },
    { ...base, id: 'predict', priority: 'medium', onDelayMs, condition: { kind: 'predict', threshold: s.limit, direction: s.level === 'H' ? 'rising' : 'falling', minConfidence: 0.95, ...window } },
  ];
}

/** Runs the plant for `hours`, the fault injected after `faultAfterH` (null: none); returns the alarm events. */
export async function runScenario(s: Scenario, hours: number, faultAfterH: number | null, seed = 3): Promise<{ events: AlarmEvent[]; faultMs: number | null }> {
  const sim = await startPlantSimulator({ autoRun: false, seed, startTimeMs: START, ports: { chiller: 0, 'cooling-tower': 0, transformer: 0, ups: 0 } });
  try {
    const engine = new AlarmEngine(rules(s));
    const events: AlarmEvent[] = [];
    let faultMs: number | null = null;
    for (let t = 0; t < hours * 3600; t += s.stepS) {
      if (faultAfterH !== null && faultMs === null && t >= faultAfterH * 3600) {
        sim.injectFault(s.device, s.fault, 1, s.rampSeconds === undefined ? undefined : { rampSeconds: s.rampSeconds });
        faultMs = START + t * 1000;
      }
      sim.step(s.stepS);
      const now = START + (t + s.stepS) * 1000;
      const value = sim.values(s.device)[s.tag] as number;
      events.push(...engine.evaluate({ device: s.device, tag: s.tag, value, quality: 'good', timestampMs: now }, now));
      events.push(...engine.tick(now));
    }
    return { events, faultMs };
  } finally {
    await sim.close();
  }
}

describe('alarm scenarios with the plant simulator\'s faults', () => {
  for (const s of SCENARIOS) {
    it(`${s.fault} on ${s.device}: the predictive alarm on ${s.tag} fires before the ${s.level} limit alarm`, async () => {
      const { events, faultMs } = await runScenario(s, s.hours, s.faultAfterH);
      const predicted = events.find((e) => e.ruleId === 'predict' && e.type === 'raised');
      const limited = events.find((e) => e.ruleId === 'limit' && e.type === 'raised');
      expect(limited, 'the fault reaches the limit').toBeDefined();
      expect(predicted, 'the predictive alarm fires').toBeDefined();
      const leadMin = (limited!.tsMs - predicted!.tsMs) / MIN;
      expect(leadMin, `lead time ${leadMin.toFixed(1)} min`).toBeGreaterThan(5);
      // Nothing before the fault began.
      expect(events.filter((e) => e.tsMs < faultMs!)).toEqual([]);
      expect(predicted!.prediction!.confidence).toBeGreaterThanOrEqual(0.95);
      // The trend heads the way of the limit (a low limit: falling).
      expect(Math.sign(predicted!.prediction!.slopePerMin)).toBe(s.level === 'H' ? 1 : -1);
    }, 60_000);
  }

  it('raises nothing, predictive or limit, over a fault-free simulated day', async () => {
    for (const s of SCENARIOS) {
      const { events } = await runScenario(s, 24, null);
      expect(events.filter((e) => e.type === 'raised'), `${s.device}.${s.tag}`).toEqual([]);
    }
  }, 120_000);
});
