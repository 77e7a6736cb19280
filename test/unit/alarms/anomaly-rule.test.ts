import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../agent/alarms/engine.js';
import { gaussian } from '../../helpers/seeded-noise.js';
import type { AlarmEvent, AlarmRule } from '../../../agent/alarms/types.js';

const T0 = Date.UTC(2026, 10, 28, 0, 0, 0);

const rule: AlarmRule = {
  id: 'vib.anomaly',
  device: 'cooling-tower-1',
  tag: 'fan_vibration',
  unit: 'mm/s',
  priority: 'medium',
  message: '{device} {tag} departs from its normal: {value} {unit} (more than {z} standard deviations)',
  onDelayMs: 0,
  offDelayMs: 0,
  chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 },
  suppressOnCommLoss: true,
  condition: { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 6, sampleEveryMs: 10_000, minStd: 0 },
};

function run(signal: (i: number) => number, samples: number): AlarmEvent[] {
  const engine = new AlarmEngine([rule]);
  const events: AlarmEvent[] = [];
  for (let i = 0; i < samples; i++) {
    const t = T0 + i * 10_000;
    events.push(...engine.evaluate({ device: 'cooling-tower-1', tag: 'fan_vibration', value: signal(i), quality: 'good', timestampMs: t }, t));
  }
  return events;
}

describe('anomaly alarm rule', () => {
  it('raises on a departure from the learned normal after the warm-up, with the value and the threshold in the message', () => {
    const noise = gaussian(5);
    // 2.0 ± 0.1 mm/s, then a bearing starts to go at sample 400: +1.2 mm/s (12 σ).
    const events = run((i) => 2 + 0.1 * noise() + (i >= 400 ? 1.2 : 0), 500);
    expect(events.map((e) => e.type)).toEqual(['raised']);
    expect((events[0].tsMs - T0) / 10_000).toBe(400);
    expect(events[0].message).toMatch(/^cooling-tower-1 fan_vibration departs from its normal: 3\.\d+ mm\/s \(more than 6 standard deviations\)$/);
  });

  it('says nothing while learning, even at a step', () => {
    const noise = gaussian(6);
    const events = run((i) => 2 + 0.1 * noise() + (i >= 100 ? 1.2 : 0), 180);
    expect(events).toEqual([]);
  });

  it('raises nothing on normal noise over a simulated day', () => {
    const noise = gaussian(7);
    expect(run(() => 2 + 0.1 * noise(), 8640)).toEqual([]);
  });
});
