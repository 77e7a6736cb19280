import { describe, expect, it } from 'vitest';
import { ewmaInit, ewmaUpdate, residualAnomalyUpdate, type EwmaOptions, type EwmaState } from '../../../../agent/alarms/predict/index.js';
import { gaussian, mulberry32 } from '../../../helpers/seeded-noise.js';

const options: EwmaOptions = { alpha: 0.02, warmupSamples: 200, zThreshold: 4 };

/** Learn N(mean, sd²) for `count` samples. */
function learned(seed: number, mean: number, sd: number, count: number, opts = options): EwmaState {
  const noise = gaussian(seed);
  let state = ewmaInit();
  for (let i = 0; i < count; i++) state = ewmaUpdate(state, mean + sd * noise(), opts).state;
  return state;
}

describe('EWMA anomaly detector', () => {
  it('starts as a plain running mean and population variance', () => {
    let state = ewmaInit();
    state = ewmaUpdate(state, 1, options).state;
    state = ewmaUpdate(state, 3, options).state;
    expect(state).toEqual({ n: 2, mean: 2, variance: 1 });
    state = ewmaUpdate(state, 5, options).state;
    expect(state.mean).toBeCloseTo(3, 12);
    expect(state.variance).toBeCloseTo(8 / 3, 12);
  });

  it('reports no anomaly while learning, however wild the value', () => {
    const state = learned(1, 10, 2, 50);
    const r = ewmaUpdate(state, 1000, options);
    expect(r.learning).toBe(true);
    expect(r.anomalous).toBe(false);
    expect(r.z).toBeGreaterThan(100);
    expect(r.state.n).toBe(51);
  });

  it('learns the normal and detects a 6 σ step after warm-up', () => {
    // a memory of ~200 samples, so σ is learned within about 10 %
    const steady: EwmaOptions = { alpha: 0.005, warmupSamples: 400, zThreshold: 4 };
    const state = learned(2, 10, 2, 1500, steady);
    expect(state.mean).toBeGreaterThan(9.5);
    expect(state.mean).toBeLessThan(10.5);
    expect(Math.sqrt(state.variance)).toBeGreaterThan(1.8);
    expect(Math.sqrt(state.variance)).toBeLessThan(2.2);
    const std = Math.sqrt(state.variance);
    const first = ewmaUpdate(state, state.mean + 6 * std, steady);
    expect(first.learning).toBe(false);
    expect(first.anomalous).toBe(true);
    expect(first.z).toBeCloseTo(6, 9);
    // with the default anomalyWeight 0 the fault is not learned as normal
    expect(first.state).toBe(state);
    // the fault persists (6 σ above, with its noise): it stays flagged and the model stays put
    const noise = gaussian(3);
    let s = first.state;
    let flagged = 0;
    for (let i = 0; i < 100; i++) {
      const r = ewmaUpdate(s, 22 + 2 * noise(), steady);
      if (r.anomalous) flagged++;
      s = r.state;
    }
    expect(flagged).toBeGreaterThanOrEqual(90);
    expect(s.mean).toBeLessThan(state.mean + 0.3);
    expect(ewmaUpdate(s, 10.5, steady).anomalous).toBe(false);
  });

  it('accepts a persistent shift only slowly with a small anomalyWeight', () => {
    const state = learned(4, 10, 2, 500);
    const slow = { ...options, anomalyWeight: 0.1 };
    let s = state;
    let firstNormal = -1;
    for (let i = 0; i < 5000 && firstNormal < 0; i++) {
      const r = ewmaUpdate(s, 22, slow);
      if (!r.anomalous) firstNormal = i;
      s = r.state;
    }
    // (22 − m)·(1 − 0.002)^k < 4σ  →  k ≈ ln(12/8)/0.002 ≈ 200
    expect(firstNormal).toBeGreaterThan(120);
    expect(firstNormal).toBeLessThan(300);
  });

  it('does not flag a slow drift within the noise on every sample, where a frozen model would', () => {
    const trained = learned(5, 0, 1, 500);
    const noise = gaussian(6);
    let s = trained;
    let flagged = 0;
    let frozenFlagged = 0;
    const frozenStd = Math.sqrt(trained.variance);
    for (let i = 0; i < 5000; i++) {
      const x = 0.002 * i + noise(); // drifts 10 σ over the run, 0.002 σ per sample
      const r = ewmaUpdate(s, x, options);
      if (r.anomalous) flagged++;
      if (Math.abs((x - trained.mean) / frozenStd) > options.zThreshold) frozenFlagged++;
      s = r.state;
    }
    expect(flagged).toBeLessThan(50); // < 1 %
    expect(frozenFlagged).toBeGreaterThan(2000);
    expect(s.mean).toBeGreaterThan(9);
  });

  it('scores an outlier against the state before it, so it cannot mask itself', () => {
    const aggressive = { alpha: 0.5, warmupSamples: 20, zThreshold: 4 };
    const state = learned(7, 0, 1, 100, aggressive);
    const std = Math.sqrt(state.variance);
    const r = ewmaUpdate(state, state.mean + 8 * std, aggressive);
    expect(r.z).toBeCloseTo(8, 9);
    expect(r.anomalous).toBe(true);
    expect(r.state).toBe(state);
    // had it been absorbed first (alpha 0.5), its own z would have been about 1: masked
    const absorbedMean = state.mean + 0.5 * 8 * std;
    const absorbedVar = 0.5 * (state.variance + 0.5 * 64 * state.variance);
    expect((8 * std + state.mean - absorbedMean) / Math.sqrt(absorbedVar)).toBeLessThan(1.1);
    // a second identical outlier is still caught
    expect(ewmaUpdate(r.state, state.mean + 8 * std, aggressive).anomalous).toBe(true);
  });

  it('absorbs a value just under the threshold with its deviation clipped to 2 σ', () => {
    const state = learned(12, 0, 1, 500);
    const v = state.variance;
    const r = ewmaUpdate(state, state.mean + 3.9 * Math.sqrt(v), options);
    expect(r.anomalous).toBe(false);
    expect(r.state.mean).toBeCloseTo(state.mean + 0.02 * 2 * Math.sqrt(v), 12);
    expect(r.state.variance).toBeCloseTo(0.98 * (v + (0.02 * 4 * v) / 0.9206), 12);
    expect(r.state.variance).toBeLessThan(1.07 * v); // unclipped it would be 1.28·v
  });

  it('floors the standard deviation with minStd for a constant history', () => {
    let s = ewmaInit();
    for (let i = 0; i < 300; i++) s = ewmaUpdate(s, 21.5, options).state;
    expect(s.variance).toBe(0);
    expect(ewmaUpdate(s, 21.6, options).z).toBe(Infinity);
    const floored = ewmaUpdate(s, 21.6, { ...options, minStd: 0.1 });
    expect(floored.z).toBeCloseTo(1, 9);
    expect(floored.anomalous).toBe(false);
    expect(ewmaUpdate(s, 22.0, { ...options, minStd: 0.1 }).anomalous).toBe(true);
  });

  it('ignores non-finite values', () => {
    const s = learned(9, 1, 1, 300);
    const r = ewmaUpdate(s, Number.NaN, options);
    expect(r).toEqual({ state: s, z: 0, anomalous: false, learning: false });
  });

  it('on a relation: chiller kW against the kW expected from the load, blind to load swings, sees fouling', () => {
    // kW = 0.62 kW/ton · load + σ 3 kW; the load steps between 200 and 800 tons
    const pick = mulberry32(10);
    const noise = gaussian(11);
    const rel: EwmaOptions = { alpha: 0.01, warmupSamples: 600, zThreshold: 5 };
    let raw = ewmaInit();
    let residual = ewmaInit();
    let rawFlags = 0;
    let residualFlags = 0;
    let loadTons = 500;
    for (let i = 0; i < 5000; i++) {
      if (i % 250 === 0) loadTons = 200 + 600 * pick();
      const kw = 0.62 * loadTons + 3 * noise();
      const r = ewmaUpdate(raw, kw, rel);
      const q = residualAnomalyUpdate(residual, kw, 0.62 * loadTons, rel);
      if (r.anomalous) rawFlags++;
      if (q.anomalous) residualFlags++;
      raw = r.state;
      residual = q.state;
    }
    expect(rawFlags).toBeGreaterThan(100);
    expect(residualFlags).toBeLessThanOrEqual(2);
    // condenser fouling: 10 % more kW for the same tons
    let detectedAfter = -1;
    for (let i = 0; i < 20 && detectedAfter < 0; i++) {
      const kw = 1.1 * 0.62 * loadTons + 3 * noise();
      if (residualAnomalyUpdate(residual, kw, 0.62 * loadTons, rel).anomalous) detectedAfter = i;
    }
    expect(detectedAfter).toBeGreaterThanOrEqual(0);
    expect(detectedAfter).toBeLessThan(3);
  });
});
