import { describe, expect, it } from 'vitest';
import type { Tag } from '../../../agent/core/tag.js';
import { toReading } from '../../../agent/normalize/to-reading.js';
import { asLastReported, shouldReport } from '../../../agent/normalize/report-by-exception.js';

const tag = (over: Partial<Tag> = {}): Tag => ({
  name: 'chw_supply_temp',
  description: 'Chilled-water supply temperature',
  unit: '°C',
  source: { area: 'input', address: 0, type: 'int16', order: 'ABCD' },
  scale: 0.1,
  offset: 0,
  deadband: 0.2,
  maxSilenceMs: 60000,
  min: 0,
  max: 30,
  ...over,
});

describe('toReading', () => {
  it('applies scale and offset without binary noise', () => {
    const r = toReading('c1', tag(), { tagIndex: 0, value: 215, quality: 'good', timestampMs: 5 });
    expect(r).toEqual({ device: 'c1', tag: 'chw_supply_temp', unit: '°C', value: 21.5, quality: 'good', timestampMs: 5 });
    expect(toReading('c1', tag({ scale: 0.01, offset: -40, min: undefined, max: undefined }), { tagIndex: 0, value: 6543, quality: 'good', timestampMs: 0 }).value).toBe(25.43);
  });

  it('marks a value outside the plausible range uncertain but keeps it', () => {
    const r = toReading('c1', tag(), { tagIndex: 0, value: 412, quality: 'good', timestampMs: 0 });
    expect(r).toMatchObject({ value: 41.2, quality: 'uncertain', reason: 'out-of-range' });
    expect(r.detail).toContain('0…30 °C');
  });

  it('never carries a value with bad quality', () => {
    const r = toReading('c1', tag(), { tagIndex: 0, value: 215, quality: 'bad', reason: 'timeout', detail: 'no answer in 500 ms', timestampMs: 0 });
    expect(r).toMatchObject({ value: null, quality: 'bad', reason: 'timeout', detail: 'no answer in 500 ms' });
  });

  it('turns 64-bit integers into numbers and keeps booleans and strings', () => {
    expect(toReading('u', tag({ scale: 1, min: undefined, max: undefined }), { tagIndex: 0, value: 123456789012n, quality: 'good', timestampMs: 0 }).value).toBe(123456789012);
    expect(toReading('u', tag({ scale: 1 }), { tagIndex: 0, value: true, quality: 'good', timestampMs: 0 }).value).toBe(true);
    expect(toReading('u', tag({ scale: 1 }), { tagIndex: 0, value: 'UPS-9000', quality: 'good', timestampMs: 0 }).value).toBe('UPS-9000');
  });

  it('treats a non-finite number as a decode error', () => {
    expect(toReading('u', tag({ scale: 1 }), { tagIndex: 0, value: Number.NaN, quality: 'good', timestampMs: 0 })).toMatchObject({ value: null, quality: 'bad', reason: 'decode-error' });
  });
});

describe('report-by-exception', () => {
  const t = tag();
  const reading = (value: number | null, quality: 'good' | 'bad' = 'good') => toReading('c1', t, value === null ? { tagIndex: 0, quality: 'bad', reason: 'timeout', timestampMs: 0 } : { tagIndex: 0, value: value * 10, quality, timestampMs: 0 });

  it('reports the first reading, changes beyond the deadband, quality changes and the heartbeat', () => {
    const first = reading(7);
    expect(shouldReport(undefined, first, t, 0)).toBe(true);
    const last = asLastReported(first, 0);
    expect(shouldReport(last, reading(7.1), t, 1000)).toBe(false);
    expect(shouldReport(last, reading(7.2), t, 1000)).toBe(false);
    expect(shouldReport(last, reading(7.3), t, 1000)).toBe(true);
    expect(shouldReport(last, reading(6.7), t, 1000)).toBe(true);
    expect(shouldReport(last, reading(null), t, 1000)).toBe(true);
    expect(shouldReport(last, reading(7), t, 59999)).toBe(false);
    expect(shouldReport(last, reading(7), t, 60000)).toBe(true);
  });

  it('compares against the last reported value, so slow drift is still reported', () => {
    let last = asLastReported(reading(7), 0);
    let reported = 0;
    for (let i = 1; i <= 10; i++) {
      const r = reading(7 + i * 0.1);
      if (shouldReport(last, r, t, i)) {
        reported++;
        last = asLastReported(r, i);
      }
    }
    expect(reported).toBe(3);
  });

  it('with deadband 0 reports any change and nothing else; maxSilenceMs 0 reports every poll', () => {
    const t0 = tag({ deadband: 0 });
    const last = asLastReported(toReading('c1', t0, { tagIndex: 0, value: 70, quality: 'good', timestampMs: 0 }), 0);
    expect(shouldReport(last, toReading('c1', t0, { tagIndex: 0, value: 70, quality: 'good', timestampMs: 0 }), t0, 1)).toBe(false);
    expect(shouldReport(last, toReading('c1', t0, { tagIndex: 0, value: 71, quality: 'good', timestampMs: 0 }), t0, 1)).toBe(true);
    const every = tag({ maxSilenceMs: 0 });
    expect(shouldReport(last, toReading('c1', every, { tagIndex: 0, value: 70, quality: 'good', timestampMs: 0 }), every, 1)).toBe(true);
  });
});
