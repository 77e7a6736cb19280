import { describe, expect, it } from 'vitest';
import {
  coolingKwPerItKw,
  energyCounterStep,
  facilityKpis,
  facilityPowerKw,
  itLoadKw,
  newEnergyCounter,
  pue,
  sumMetersKw,
  type EnergyCounter,
  type PowerSample,
} from '../../../../agent/alarms/health/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 1);

const meters = {
  itMeters: ['ups-1.output_power_kw', 'ups-2.output_power_kw', 'pdu-raw.active_power_kw'],
  facilityMeters: ['incomer-1.active_power_kw', 'incomer-2.active_power_kw'],
  coolingMeters: ['chiller-1.power_kw', 'tower-1.fan_power_kw', 'chw-pumps.active_power_kw'],
};
const values: Record<string, number | null> = {
  'ups-1.output_power_kw': 800,
  'ups-2.output_power_kw': 650,
  'pdu-raw.active_power_kw': 150,
  'incomer-1.active_power_kw': 1100,
  'incomer-2.active_power_kw': 900,
  'chiller-1.power_kw': 219,
  'tower-1.fan_power_kw': 12,
  'chw-pumps.active_power_kw': 45,
};

describe('facility KPIs', () => {
  it('IT load, facility power, PUE and cooling kW per IT kW from named meters', () => {
    expect(itLoadKw(values, meters.itMeters)).toBe(1600);
    expect(facilityPowerKw(values, meters.facilityMeters)).toBe(2000);
    expect(pue(2000, 1600)).toBeCloseTo(1.25, 12);
    expect(coolingKwPerItKw(276, 1600)).toBeCloseTo(0.1725, 12);
    const kpis = facilityKpis(values, meters);
    expect(kpis.itLoadKw).toBe(1600);
    expect(kpis.facilityPowerKw).toBe(2000);
    expect(kpis.coolingPowerKw).toBe(276);
    expect(kpis.pue).toBeCloseTo(1.25, 12);
    expect(kpis.coolingKwPerItKw).toBeCloseTo(0.1725, 12);
  });

  it('accepts a Map, and counts a meter named twice once', () => {
    const map = new Map(Object.entries(values));
    expect(sumMetersKw(map, ['incomer-1.active_power_kw', 'incomer-2.active_power_kw', 'incomer-1.active_power_kw'])).toBe(2000);
  });

  it('a sum with any named meter missing or bad is null (a partial sum would flatter PUE)', () => {
    expect(itLoadKw({ ...values, 'ups-2.output_power_kw': null }, meters.itMeters)).toBeNull();
    expect(itLoadKw({ ...values, 'ups-2.output_power_kw': Number.NaN }, meters.itMeters)).toBeNull();
    expect(facilityPowerKw(values, ['incomer-3.active_power_kw'])).toBeNull();
    expect(sumMetersKw(values, [])).toBeNull();
    expect(sumMetersKw(values, ['toString'])).toBeNull(); // not fooled by the object's prototype
    const kpis = facilityKpis({ ...values, 'incomer-2.active_power_kw': null }, { itMeters: meters.itMeters, facilityMeters: meters.facilityMeters });
    expect(kpis).toEqual({ itLoadKw: 1600, facilityPowerKw: null, coolingPowerKw: null, pue: null, coolingKwPerItKw: null });
  });

  it('PUE is null for IT power ≈ 0 or missing, never Infinity or NaN', () => {
    expect(pue(2000, 0)).toBeNull();
    expect(pue(2000, 0.5)).toBeNull();
    expect(pue(2000, 0.5, { minItKw: 0.1 })).toBeCloseTo(4000, 9);
    expect(pue(null, 1600)).toBeNull();
    expect(pue(2000, Number.POSITIVE_INFINITY)).toBeNull();
    expect(coolingKwPerItKw(276, -3)).toBeNull();
  });
});

describe('energy counter', () => {
  function feed(counter: EnergyCounter, samples: PowerSample[], maxGapMs?: number): EnergyCounter {
    for (const s of samples) counter = energyCounterStep(counter, s, maxGapMs === undefined ? undefined : { maxGapMs });
    return counter;
  }
  /** Deterministic irregular sample times from start to end (inclusive), steps of 1 s … 5 min. */
  function irregularTimes(startMs: number, endMs: number): number[] {
    const out = [startMs];
    let x = 987654321;
    let t = startMs;
    while (t < endMs) {
      x = (x * 1103515245 + 12345) % 2147483648;
      t = Math.min(endMs, t + 1_000 + Math.round((x / 2147483648) * 299_000));
      out.push(t);
    }
    return out;
  }

  it('a constant 100 kW for one hour is 100 kWh, with irregular steps', () => {
    const times = irregularTimes(T0, T0 + HOUR);
    expect(times.length).toBeGreaterThan(20);
    const c = feed(newEnergyCounter(), times.map((tMs) => ({ tMs, kw: 100 })));
    expect(c.totalKwh).toBeCloseTo(100, 9);
    expect(c.coveredMs).toBe(HOUR);
  });

  it('integrates by the trapezoid rule: a ramp 0 → 120 kW over an hour is 60 kWh exactly', () => {
    const times = irregularTimes(T0, T0 + HOUR);
    const c = feed(newEnergyCounter(), times.map((tMs) => ({ tMs, kw: (120 * (tMs - T0)) / HOUR })));
    expect(c.totalKwh).toBeCloseTo(60, 9);
  });

  it('does not integrate a 2-hour gap', () => {
    const before = irregularTimes(T0, T0 + HOUR).map((tMs) => ({ tMs, kw: 100 }));
    const after = irregularTimes(T0 + 3 * HOUR, T0 + 4 * HOUR).map((tMs) => ({ tMs, kw: 100 }));
    const c = feed(newEnergyCounter(), [...before, ...after]);
    expect(c.totalKwh).toBeCloseTo(200, 9);
    expect(c.coveredMs).toBe(2 * HOUR);
    // with a maxGapMs longer than the gap it would have been bridged
    expect(feed(newEnergyCounter(), [...before, ...after], 3 * HOUR).totalKwh).toBeCloseTo(400, 9);
  });

  it('does not integrate across a bad value (neither side of it), nor across an uncertain one unless asked', () => {
    const minutes = (kw: (i: number) => PowerSample) => Array.from({ length: 61 }, (_, i) => kw(i));
    const bad = feed(newEnergyCounter(), minutes((i) => (i === 30 ? { tMs: T0 + i * MIN, kw: null, quality: 'bad' } : { tMs: T0 + i * MIN, kw: 100 })));
    expect(bad.totalKwh).toBeCloseTo((100 * 58) / 60, 9);
    expect(bad.coveredMs).toBe(58 * MIN);
    const badWithValue = feed(newEnergyCounter(), minutes((i) => ({ tMs: T0 + i * MIN, kw: 100, quality: i === 30 ? 'bad' : 'good' })));
    expect(badWithValue.totalKwh).toBeCloseTo((100 * 58) / 60, 9);
    const samples = minutes((i) => ({ tMs: T0 + i * MIN, kw: i === 30 ? 5000 : 100, quality: i === 30 ? 'uncertain' : 'good' }));
    expect(feed(newEnergyCounter(), samples).totalKwh).toBeCloseTo((100 * 58) / 60, 9);
    let accepting = newEnergyCounter();
    for (const s of samples) accepting = energyCounterStep(accepting, s, { maxGapMs: 15 * MIN, acceptUncertain: true });
    expect(accepting.totalKwh).toBeCloseTo((100 * 58) / 60 + ((100 + 5000) / 2) * (2 / 60), 9);
  });

  it('is monotonic and never NaN: negative power counts as 0, duplicates and out-of-order samples are ignored', () => {
    let c = newEnergyCounter(1_000_000.5); // continuing a saved total
    let previous = c.totalKwh;
    const odd = [100, -50, Number.NaN, 200, null, Number.POSITIVE_INFINITY, 0, -1e9, 80];
    for (let i = 0; i < 200; i++) {
      c = energyCounterStep(c, { tMs: T0 + i * 10_000, kw: odd[i % odd.length] });
      expect(Number.isFinite(c.totalKwh)).toBe(true);
      expect(c.totalKwh).toBeGreaterThanOrEqual(previous);
      previous = c.totalKwh;
    }
    expect(c.totalKwh).toBeGreaterThan(1_000_000.5);
    const same = energyCounterStep(c, { tMs: c.lastMs as number, kw: 1e6 });
    expect(same).toBe(c);
    expect(energyCounterStep(c, { tMs: T0, kw: 1e6 })).toBe(c);
    expect(energyCounterStep(c, { tMs: Number.NaN, kw: 1e6 })).toBe(c);
  });

  it('a dip below zero between 100 kW samples counts only the positive part of each end', () => {
    const c = feed(newEnergyCounter(), [
      { tMs: T0, kw: 100 },
      { tMs: T0 + HOUR, kw: -100 },
      { tMs: T0 + 2 * HOUR, kw: 100 },
    ], 2 * HOUR);
    expect(c.totalKwh).toBeCloseTo(100, 9);
  });

  it('rejects an invalid maxGapMs or start total (configuration errors)', () => {
    expect(() => energyCounterStep(newEnergyCounter(), { tMs: T0, kw: 1 }, { maxGapMs: 0 })).toThrow(/maxGapMs/);
    expect(() => newEnergyCounter(-1)).toThrow(/startKwh/);
  });
});
