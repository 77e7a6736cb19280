/**
 * The plant simulator's faults against the alarm engine: for a fault that develops over time, the
 * predictive alarm on a tag fires before the plain limit alarm on the same tag; over a fault-free
 * simulated day neither fires. The plant is stepped in-process (10 s steps) and its values fed to
 * the engine as readings — the physics, not the transport, is under test here. docs/alarms.md
 * records the lead times and false alarms these scenarios give.
 */
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../agent/alarms/engine.js';
import type { AlarmEvent, AlarmRule } from '../../agent/alarms/types.js';
import { startPlantSimulator } from '../../simulators/index.js';

const START = Date.UTC(2026, 6, 14, 0, 0, 0);
const STEP_S = 10;
const MIN = 60_000;

interface Scenario {
  device: string;
  fault: string;
  tag: string;
  unit: string;
  limit: number;
}

/** Limits well above each tag's fault-free range (a simulated July day), reached by the fault. */
export const SCENARIOS: Scenario[] = [
  { device: 'chiller-1', fault: 'condenser-fouling', tag: 'cond_approach', unit: 'K', limit: 5 },
  { device: 'transformer-1', fault: 'overload', tag: 'winding_temp', unit: '°C', limit: 90 },
];

function rules(s: Scenario): AlarmRule[] {
  const base = { device: s.device, tag: s.tag, unit: s.unit, onDelayMs: 0, offDelayMs: 0, chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 }, suppressOnCommLoss: true, message: '{value}' };
  return [
    { ...base, id: 'limit', priority: 'high', condition: { kind: 'limit', level: 'H', limit: s.limit, deadband: 0.5 } },
    { ...base, id: 'predict', priority: 'medium', onDelayMs: 2 * MIN, condition: { kind: 'predict', threshold: s.limit, direction: 'rising', windowMs: 20 * MIN, horizonMs: 30 * MIN, sampleEveryMs: 30_000, minConfidence: 0.95 } },
  ];
}

/** Runs the plant for `hours`, the fault injected after `faultAfterH` (null: none); returns the alarm events. */
export async function runScenario(s: Scenario, hours: number, faultAfterH: number | null, seed = 3): Promise<{ events: AlarmEvent[]; faultMs: number | null }> {
  const sim = await startPlantSimulator({ autoRun: false, seed, startTimeMs: START, ports: { chiller: 0, 'cooling-tower': 0, transformer: 0, ups: 0 } });
  try {
    const engine = new AlarmEngine(rules(s));
    const events: AlarmEvent[] = [];
    let faultMs: number | null = null;
    for (let t = 0; t < hours * 3600; t += STEP_S) {
      if (faultAfterH !== null && faultMs === null && t >= faultAfterH * 3600) {
        sim.injectFault(s.device, s.fault, 1);
        faultMs = START + t * 1000;
      }
      sim.step(STEP_S);
      const now = START + (t + STEP_S) * 1000;
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
    it(`${s.fault} on ${s.device}: the predictive alarm on ${s.tag} fires before the limit alarm`, async () => {
      const { events, faultMs } = await runScenario(s, 5, 1);
      const predicted = events.find((e) => e.ruleId === 'predict' && e.type === 'raised');
      const limited = events.find((e) => e.ruleId === 'limit' && e.type === 'raised');
      expect(limited, 'the fault reaches the limit').toBeDefined();
      expect(predicted, 'the predictive alarm fires').toBeDefined();
      const leadMin = (limited!.tsMs - predicted!.tsMs) / MIN;
      expect(leadMin, `lead time ${leadMin.toFixed(1)} min`).toBeGreaterThan(5);
      // Nothing before the fault began.
      expect(events.filter((e) => e.tsMs < faultMs!)).toEqual([]);
      expect(predicted!.prediction!.confidence).toBeGreaterThanOrEqual(0.95);
    }, 60_000);
  }

  it('raises nothing, predictive or limit, over a fault-free simulated day', async () => {
    for (const s of SCENARIOS) {
      const { events } = await runScenario(s, 24, null);
      expect(events.filter((e) => e.type === 'raised'), `${s.device}.${s.tag}`).toEqual([]);
    }
  }, 120_000);
});
