import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../agent/alarms/engine.js';
import { gaussian } from '../../helpers/seeded-noise.js';
import type { AlarmEvent, AlarmRule } from '../../../agent/alarms/types.js';

const T0 = Date.UTC(2026, 10, 28, 0, 0, 0);
const MIN = 60_000;

const base = { device: 'chiller-1', tag: 'chw_supply_temp', unit: '°C', onDelayMs: 0, offDelayMs: 0, chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 }, suppressOnCommLoss: true };
const limit: AlarmRule = { ...base, id: 'limit', priority: 'high', message: '{value}', condition: { kind: 'limit', level: 'H', limit: 18, deadband: 0.3 } };
const predict: AlarmRule = {
  ...base,
  id: 'predict',
  priority: 'medium',
  message: '{device} {tag} predicted to reach {limit} {unit} in {eta} (confidence {confidence})',
  condition: { kind: 'predict', threshold: 18, direction: 'rising', windowMs: 30 * MIN, horizonMs: 30 * MIN, sampleEveryMs: 30_000, minConfidence: 0.95 },
};

/** Feeds a signal sampled every 10 s; returns the events. */
function run(signal: (tMs: number) => number, hours: number): AlarmEvent[] {
  const engine = new AlarmEngine([limit, predict]);
  const events: AlarmEvent[] = [];
  for (let t = T0; t < T0 + hours * 60 * MIN; t += 10_000) {
    events.push(...engine.evaluate({ device: 'chiller-1', tag: 'chw_supply_temp', value: signal(t), quality: 'good', timestampMs: t }, t));
  }
  return events;
}

describe('predictive alarm rule', () => {
  it('fires before the plain limit alarm on a rising, noisy trend, with the prediction in the event', () => {
    const noise = gaussian(7);
    // 7 °C rising 0.05 K/min (a fouling condenser): reaches 18 °C after 220 min.
    const events = run((t) => 7 + 0.05 * ((t - T0) / MIN) + 0.05 * noise(), 5);
    const predicted = events.find((e) => e.ruleId === 'predict' && e.type === 'raised');
    const limited = events.find((e) => e.ruleId === 'limit' && e.type === 'raised');
    expect(predicted).toBeDefined();
    expect(limited).toBeDefined();
    const leadMin = (limited!.tsMs - predicted!.tsMs) / MIN;
    // Raised when the crossing comes within the 30-minute horizon, give or take the sampling.
    expect(leadMin).toBeGreaterThan(20);
    expect(leadMin).toBeLessThanOrEqual(31);
    expect(predicted!.prediction!.confidence).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(predicted!.prediction!.crossingMs - (T0 + 220 * MIN)) / MIN).toBeLessThan(5);
    expect(predicted!.message).toMatch(/^chiller-1 chw_supply_temp predicted to reach 18 °C in \d+ min \(confidence \d+ %\)$/);
  });

  it('raises nothing predictive on a flat, noisy signal over a day', () => {
    const noise = gaussian(11);
    const events = run(() => 7 + 0.3 * noise(), 24);
    expect(events.filter((e) => e.ruleId === 'predict')).toEqual([]);
  });

  it('raises nothing predictive on a trend that flattens below the threshold', () => {
    const noise = gaussian(13);
    // An approach to 17 °C: steep at first, never reaching 18.
    const events = run((t) => 17 - 10 * Math.exp(-(t - T0) / (40 * MIN)) + 0.03 * noise(), 6);
    expect(events.filter((e) => e.ruleId === 'predict' && e.type === 'raised')).toEqual([]);
  });
});
