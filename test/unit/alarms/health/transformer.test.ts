import { describe, expect, it } from 'vitest';
import {
  ageingAccelerationFactor,
  ageingStep,
  equivalentAgeingFactor,
  initialTransformerThermalState,
  lossOfLifePct,
  newAgeingAccumulator,
  ONAN_DISTRIBUTION_TRANSFORMER,
  transformerLoadPu,
  transformerSteadyStateRises,
  transformerThermalStep,
  type AgeingAccumulator,
  type TransformerThermalParams,
  type TransformerThermalState,
} from '../../../../agent/alarms/health/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 5, 1);
const params = ONAN_DISTRIBUTION_TRANSFORMER;

/** Deterministic irregular intervals (ms) in [minMs, maxMs]. */
function irregularSteps(count: number, minMs: number, maxMs: number): number[] {
  let x = 12345;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(Math.round(minMs + (x / 2147483648) * (maxMs - minMs)));
  }
  return out;
}

/** Runs the model from a settled start at `startLoad` through samples (t, load) and returns the final state. */
function run(startLoad: number, samples: { tMs: number; loadPu: number }[], p: TransformerThermalParams = params): TransformerThermalState {
  let state = transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: startLoad, ambientC: 30 }, p).state;
  for (const s of samples) state = transformerThermalStep(state, { ...s, ambientC: 30 }, p).state;
  return state;
}

describe('ageing acceleration factor (IEEE C57.91 clause 5)', () => {
  it('is 1 at 110 °C, exp(15000/383 − 15000/393) ≈ 2.709 at 120 °C and ≈ 0.282 at 98 °C', () => {
    expect(ageingAccelerationFactor(110)).toBeCloseTo(1, 12);
    expect(ageingAccelerationFactor(120)).toBeCloseTo(Math.exp(15000 / 383 - 15000 / 393), 12);
    expect(ageingAccelerationFactor(120)).toBeCloseTo(2.70893, 5);
    expect(ageingAccelerationFactor(98)).toBeCloseTo(0.281738, 5);
    // the rule of thumb: ageing doubles about every 6 K above 110 °C
    expect(ageingAccelerationFactor(116)).toBeCloseTo(1.82957, 4);
  });

  it('is null, never NaN, for a missing or impossible temperature', () => {
    for (const bad of [null, undefined, Number.NaN, Number.NEGATIVE_INFINITY, -273, -300]) expect(ageingAccelerationFactor(bad)).toBeNull();
  });
});

describe('transformer thermal model (IEEE C57.91 clause 7)', () => {
  it('steady state: rated rises at K = 1, ΔθTO,R·[(K²R+1)/(R+1)]^n and ΔθH,R·K^2m elsewhere', () => {
    expect(transformerSteadyStateRises(1, params)).toEqual({ topOilRiseK: 45, hotSpotRiseK: 30 });
    const half = transformerSteadyStateRises(0.5, params);
    expect(half.topOilRiseK).toBeCloseTo(20.53230, 4); // 45 · (2.25/6)^0.8
    expect(half.hotSpotRiseK).toBeCloseTo(9.89631, 4); // 30 · 0.5^1.6
    const overload = transformerSteadyStateRises(1.5, params);
    expect(overload.topOilRiseK).toBeCloseTo(79.65268, 4);
    expect(overload.hotSpotRiseK).toBeCloseTo(57.39410, 4);
    expect(transformerSteadyStateRises(0, params).hotSpotRiseK).toBe(0);
  });

  it('θH = θA + ΔθTO + ΔθH from the ambient: 105 °C at rated load in a 30 °C ambient', () => {
    const r = transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: 1, ambientC: 30 }, params);
    expect(r.topOilC).toBeCloseTo(75, 9);
    expect(r.hotSpotC).toBeCloseTo(105, 9);
    expect(r.hotSpotBasis).toBe('ambient-model');
    expect(r.ageingFactor).toBeCloseTo(Math.exp(15000 / 383 - 15000 / 378), 9);
  });

  it('a load step reaches 63.2 % of the top-oil change after τTO and of the hot-spot change after τw', () => {
    const from = transformerSteadyStateRises(0.5, params);
    const to = transformerSteadyStateRises(1, params);
    const afterTauTo = run(0.5, [{ tMs: T0 + params.oilTimeConstantMin * MIN, loadPu: 1 }]);
    expect((afterTauTo.topOilRiseK - from.topOilRiseK) / (to.topOilRiseK - from.topOilRiseK)).toBeCloseTo(1 - Math.exp(-1), 9);
    expect((afterTauTo.topOilRiseK - from.topOilRiseK) / (to.topOilRiseK - from.topOilRiseK)).toBeCloseTo(0.632, 3);
    const afterTauW = run(0.5, [{ tMs: T0 + params.windingTimeConstantMin * MIN, loadPu: 1 }]);
    expect((afterTauW.hotSpotRiseK - from.hotSpotRiseK) / (to.hotSpotRiseK - from.hotSpotRiseK)).toBeCloseTo(0.632, 3);
    // and the same after τTO in one-minute steps
    const minuteSteps = Array.from({ length: params.oilTimeConstantMin }, (_, i) => ({ tMs: T0 + (i + 1) * MIN, loadPu: 1 }));
    expect(run(0.5, minuteSteps).topOilRiseK).toBeCloseTo(afterTauTo.topOilRiseK, 9);
    // after 5 τTO it has settled within 1 %
    const settled = run(0.5, [{ tMs: T0 + 5 * params.oilTimeConstantMin * MIN, loadPu: 1 }]);
    expect(Math.abs(settled.topOilRiseK - to.topOilRiseK) / (to.topOilRiseK - from.topOilRiseK)).toBeLessThan(0.01);
  });

  it('irregular steps give the result of small regular steps: exactly for step loads, within 0.2 K for a varying load', () => {
    // piecewise-constant load (a morning ramp in three steps and an overload): exact
    const load = (tMs: number) => (tMs <= T0 + 2 * HOUR ? 0.6 : tMs <= T0 + 5 * HOUR ? 1.2 : 0.9);
    const end = T0 + 8 * HOUR;
    const regular: { tMs: number; loadPu: number }[] = [];
    for (let t = T0 + 10_000; t <= end; t += 10_000) regular.push({ tMs: t, loadPu: load(t) });
    const irregular: { tMs: number; loadPu: number }[] = [];
    let t = T0;
    for (const dt of irregularSteps(10_000, 1_000, 15 * MIN)) {
      // land on the load changes, as a poll after each change would
      const next = [T0 + 2 * HOUR, T0 + 5 * HOUR, end].find((b) => b > t && b < t + dt) ?? t + dt;
      t = Math.min(next, end);
      irregular.push({ tMs: t, loadPu: load(t) });
      if (t === end) break;
    }
    const a = run(0.6, regular);
    const b = run(0.6, irregular);
    expect(b.topOilRiseK).toBeCloseTo(a.topOilRiseK, 6);
    expect(b.hotSpotRiseK).toBeCloseTo(a.hotSpotRiseK, 6);

    // a smoothly varying load (daily cycle) with irregular polls of 1 s … 60 s against 1 s steps
    const daily = (tMs: number) => 0.8 + 0.4 * Math.sin((2 * Math.PI * (tMs - T0)) / (24 * HOUR));
    const fine: { tMs: number; loadPu: number }[] = [];
    for (let u = T0 + 1_000; u <= T0 + 12 * HOUR; u += 1_000) fine.push({ tMs: u, loadPu: daily(u) });
    const coarse: { tMs: number; loadPu: number }[] = [];
    let u = T0;
    for (const dt of irregularSteps(100_000, 1_000, 60_000)) {
      u = Math.min(u + dt, T0 + 12 * HOUR);
      coarse.push({ tMs: u, loadPu: daily(u) });
      if (u === T0 + 12 * HOUR) break;
    }
    const c = run(daily(T0), fine);
    const d = run(daily(T0), coarse);
    expect(Math.abs(d.topOilRiseK - c.topOilRiseK)).toBeLessThan(0.2);
    expect(Math.abs(d.hotSpotRiseK - c.hotSpotRiseK)).toBeLessThan(0.2);
    expect(c.topOilRiseK).not.toBeCloseTo(transformerSteadyStateRises(daily(T0 + 12 * HOUR), params).topOilRiseK, 0); // it lags
  });

  it('with a measured top oil, θH = θTO,measured + ΔθH, and the model continues from the measured oil if the sensor fails', () => {
    const start = transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: 1, ambientC: 30, topOilC: 80 }, params);
    expect(start.hotSpotBasis).toBe('measured-top-oil');
    expect(start.topOilC).toBe(80);
    expect(start.hotSpotC).toBeCloseTo(110, 9);
    expect(start.ageingFactor).toBeCloseTo(1, 9);
    expect(start.state.topOilRiseK).toBeCloseTo(50, 9); // re-anchored: 80 − 30, not the model's 45
    const sensorLost = transformerThermalStep(start.state, { tMs: T0 + MIN, loadPu: 1, ambientC: 30, topOilC: null }, params);
    expect(sensorLost.hotSpotBasis).toBe('ambient-model');
    expect(sensorLost.topOilC as number).toBeCloseTo(30 + 45 + 5 * Math.exp(-1 / 180), 9);
    // without an ambient the measured top oil still gives a hot spot
    const noAmbient = transformerThermalStep(start.state, { tMs: T0 + MIN, loadPu: 1, ambientC: null, topOilC: 81 }, params);
    expect(noAmbient.hotSpotC).toBeCloseTo(111, 9);
  });

  it('a bad load leaves the state alone (outputs null); the next good sample covers the interval; old samples are ignored', () => {
    const start = transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: 0.5, ambientC: 30 }, params).state;
    for (const loadPu of [null, undefined, Number.NaN, -0.1, 50]) {
      const r = transformerThermalStep(start, { tMs: T0 + HOUR, loadPu, ambientC: 30 }, params);
      expect(r.state).toBe(start);
      expect([r.topOilC, r.hotSpotC, r.hotSpotBasis, r.ageingFactor]).toEqual([null, null, null, null]);
    }
    const later = transformerThermalStep(start, { tMs: T0 + HOUR, loadPu: 1, ambientC: 30 }, params);
    expect(later.state.topOilRiseK).toBeCloseTo(run(0.5, [{ tMs: T0 + HOUR, loadPu: 1 }]).topOilRiseK, 12);
    const older = transformerThermalStep(later.state, { tMs: T0 + 30 * MIN, loadPu: 1, ambientC: 30 }, params);
    expect(older.state).toBe(later.state);
    expect(older.hotSpotC).toBeNull();
  });

  it('without an ambient or a measured top oil the rises still advance but the temperatures are null, not NaN', () => {
    const r = transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: 1, ambientC: null }, params);
    expect(r.state.topOilRiseK).toBe(45);
    expect([r.topOilC, r.hotSpotC, r.hotSpotBasis, r.ageingFactor]).toEqual([null, null, null, null]);
  });

  it('throws on invalid parameters (a configuration error)', () => {
    expect(() => transformerThermalStep(initialTransformerThermalState(), { tMs: T0, loadPu: 1, ambientC: 30 }, { ...params, oilTimeConstantMin: 0 })).toThrow(
      /oilTimeConstantMin/,
    );
  });

  it('per-unit load from kVA', () => {
    expect(transformerLoadPu(1894.7, 2500)).toBeCloseTo(0.75788, 5);
    expect(transformerLoadPu(null, 2500)).toBeNull();
    expect(transformerLoadPu(1000, 0)).toBeNull();
  });
});

describe('agreement with the plant simulator', () => {
  // The simulated 2500 kVA transformer documents its thermal parameters (IEC 60076-7 exponential
  // form, identical to C57.91 clause 7 with x = n and y = 2m): 52 K, 26 K, R = 6, x = 0.8,
  // y = 1.6, 45 min, 7 min. Register values (tenths of a degree, load in 0.1 %) copied from two
  // settled simulator states: 1800 kW at pf 0.95 in 25 °C, and with the overload fault in 32 °C.
  const simulated: TransformerThermalParams = {
    topOilRiseRatedK: 52,
    hotSpotRiseRatedK: 26,
    lossRatio: 6,
    oilExponent: 0.8,
    windingExponent: 0.8,
    oilTimeConstantMin: 45,
    windingTimeConstantMin: 7,
  };
  const fixture = [
    { load_pct: 75.8, ambient_temp: 25, oil_temp: 61.2, winding_temp: 77.9 },
    { load_pct: 136.4, ambient_temp: 32, oil_temp: 112.9, winding_temp: 155.6 },
  ];

  it('the steady hot spot from load and ambient matches the simulated winding temperature, and likewise from the measured oil', () => {
    for (const row of fixture) {
      const input = { tMs: T0, loadPu: row.load_pct / 100, ambientC: row.ambient_temp };
      const model = transformerThermalStep(initialTransformerThermalState(), input, simulated);
      expect(Math.abs((model.topOilC as number) - row.oil_temp)).toBeLessThan(0.2);
      expect(Math.abs((model.hotSpotC as number) - row.winding_temp)).toBeLessThan(0.2);
      const measured = transformerThermalStep(initialTransformerThermalState(), { ...input, topOilC: row.oil_temp }, simulated);
      expect(Math.abs((measured.hotSpotC as number) - row.winding_temp)).toBeLessThan(0.2);
    }
  });
});

describe('equivalent ageing and loss of life', () => {
  function feed(acc: AgeingAccumulator, samples: { tMs: number; hotSpotC: number | null; quality?: 'good' | 'uncertain' | 'bad' }[], maxGapMs?: number) {
    for (const s of samples) acc = ageingStep(acc, s, maxGapMs === undefined ? undefined : { maxGapMs });
    return acc;
  }

  it('a day at a constant 110 °C is 24 h of loss of life (F_EQA = 1), with irregular steps', () => {
    const samples = [{ tMs: T0, hotSpotC: 110 }];
    let t = T0;
    for (const dt of irregularSteps(100_000, 5_000, 10 * MIN)) {
      t = Math.min(t + dt, T0 + 24 * HOUR);
      samples.push({ tMs: t, hotSpotC: 110 });
      if (t === T0 + 24 * HOUR) break;
    }
    const acc = feed(newAgeingAccumulator(), samples);
    expect(acc.lossOfLifeHours).toBeCloseTo(24, 9);
    expect(acc.coveredMs).toBe(24 * HOUR);
    expect(equivalentAgeingFactor(acc)).toBeCloseTo(1, 9);
    expect(lossOfLifePct(acc.lossOfLifeHours)).toBeCloseTo((24 * 100) / 180_000, 12);
  });

  it('a day at 120 °C consumes 2.709 days of life; F_EQA over a period comes from two snapshots', () => {
    const day = (start: number, c: number) => Array.from({ length: 24 * 60 + 1 }, (_, i) => ({ tMs: start + i * MIN, hotSpotC: c }));
    const first = feed(newAgeingAccumulator(), day(T0, 120));
    expect(first.lossOfLifeHours).toBeCloseTo(24 * 2.7089251, 5);
    const second = feed(first, day(T0 + 24 * HOUR, 98).slice(1));
    // the second day: its first minute is the trapezoid from 120 °C down to 98 °C, the rest at 98 °C
    const secondDayHours = (0.2817385 * 1439 + (2.7089251 + 0.2817385) / 2) / 60;
    expect(equivalentAgeingFactor(second, first)).toBeCloseTo(secondDayHours / 24, 6);
    expect(equivalentAgeingFactor(second, first)).toBeCloseTo(0.2826, 4);
    expect(equivalentAgeingFactor(second)).toBeCloseTo((24 * 2.7089251 + secondDayHours) / 48, 6);
  });

  it('does not integrate across a gap longer than maxGapMs, nor across a bad value', () => {
    const gap = feed(newAgeingAccumulator(), [
      { tMs: T0, hotSpotC: 110 },
      { tMs: T0 + HOUR, hotSpotC: 110 },
      { tMs: T0 + 3 * HOUR, hotSpotC: 110 },
      { tMs: T0 + 4 * HOUR, hotSpotC: 110 },
    ], 2 * HOUR - 1);
    expect(gap.lossOfLifeHours).toBeCloseTo(2, 9);
    const bad = feed(newAgeingAccumulator(), [
      { tMs: T0, hotSpotC: 110 },
      { tMs: T0 + 10 * MIN, hotSpotC: 110 },
      { tMs: T0 + 20 * MIN, hotSpotC: null, quality: 'bad' },
      { tMs: T0 + 30 * MIN, hotSpotC: 110 },
      { tMs: T0 + 40 * MIN, hotSpotC: 110, quality: 'uncertain' },
      { tMs: T0 + 50 * MIN, hotSpotC: 110 },
      { tMs: T0 + 60 * MIN, hotSpotC: 110 },
    ]);
    expect(bad.lossOfLifeHours).toBeCloseTo(20 / 60, 9);
    expect(bad.coveredMs).toBe(20 * MIN);
    expect(equivalentAgeingFactor(newAgeingAccumulator())).toBeNull();
    expect(lossOfLifePct(null)).toBeNull();
  });
});
