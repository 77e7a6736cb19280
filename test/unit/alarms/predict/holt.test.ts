import { describe, expect, it } from 'vitest';
import { holtForecastCrossing, holtInit, holtUpdate, type CrossingEstimate, type HoltState } from '../../../../agent/alarms/predict/index.js';
import { gaussian, MINUTE_MS, T0_MS } from '../../../helpers/seeded-noise.js';

const smoothing = { alpha: 0.2, beta: 0.05 };

function feed(samples: { tMs: number; value: number }[], options = smoothing): HoltState {
  let state = holtInit();
  for (const s of samples) state = holtUpdate(state, s.tMs, s.value, options);
  return state;
}

describe('Holt double exponential smoothing', () => {
  it('tracks a noisy ramp and forecasts its crossing', () => {
    // 60 + 0.5 per minute, σ = 0.2, every 10 s for 20 minutes: 70 at the end, 80 reached at 40 min
    const noise = gaussian(3);
    const samples = Array.from({ length: 121 }, (_, i) => {
      const tMs = T0_MS + i * 10_000;
      return { tMs, value: 60 + (0.5 * (tMs - T0_MS)) / MINUTE_MS + 0.2 * noise() };
    });
    const state = feed(samples);
    expect(state.n).toBe(121);
    expect(state.trendPerMs * MINUTE_MS).toBeGreaterThan(0.4);
    expect(state.trendPerMs * MINUTE_MS).toBeLessThan(0.6);
    expect(Math.abs(state.level - 70)).toBeLessThan(0.3);
    const p = holtForecastCrossing(state, 80, 'rising', 60 * MINUTE_MS) as CrossingEstimate;
    expect(p.kind).toBe('crossing');
    expect(Math.abs(p.crossingMs - (T0_MS + 40 * MINUTE_MS))).toBeLessThan(3 * MINUTE_MS);
    expect(Math.abs(p.inMs - (p.crossingMs - state.tMs))).toBeLessThan(1);
    expect(p.current).toBe(state.level);
    expect(holtForecastCrossing(state, 80, 'rising', 10 * MINUTE_MS)).toMatchObject({ kind: 'none', reason: 'beyond-horizon' });
  });

  it('handles irregular steps: an exact ramp stays exact across gaps', () => {
    const times = [0, 1, 2, 7, 8, 30, 31, 32, 95, 96].map((s) => T0_MS + s * 1000);
    const state = feed(times.map((tMs) => ({ tMs, value: 5 + 0.003 * (tMs - T0_MS) })));
    expect(state.trendPerMs).toBeCloseTo(0.003, 12);
    expect(state.level).toBeCloseTo(5 + 0.003 * 96_000, 9);
    const falling = holtForecastCrossing(state, 0, 'falling', 60 * MINUTE_MS);
    expect(falling).toMatchObject({ kind: 'none', reason: 'wrong-direction' });
  });

  it('forecasts a falling crossing', () => {
    const samples = Array.from({ length: 30 }, (_, i) => ({ tMs: T0_MS + i * 60_000, value: 50 - 0.5 * i }));
    // 35.5 at the last sample, 30 reached 11 minutes later
    const p = holtForecastCrossing(feed(samples), 30, 'falling', 60 * MINUTE_MS) as CrossingEstimate;
    expect(p.kind).toBe('crossing');
    expect(p.inMs).toBeCloseTo(11 * MINUTE_MS, 3);
    expect(p.slopePerMin).toBeCloseTo(-0.5, 9);
  });

  it('scales alpha and beta to the actual step when stepMs is given', () => {
    let state = holtInit();
    state = holtUpdate(state, 0, 0, { alpha: 0.5, beta: 0.5, stepMs: 1000 });
    state = holtUpdate(state, 1000, 0, { alpha: 0.5, beta: 0.5, stepMs: 1000 });
    // a step to 10 after a gap of two nominal steps: alpha becomes 1 − 0.5² = 0.75
    const after = holtUpdate(state, 3000, 10, { alpha: 0.5, beta: 0.5, stepMs: 1000 });
    expect(after.level).toBeCloseTo(7.5, 12);
    const unscaled = holtUpdate(state, 3000, 10, { alpha: 0.5, beta: 0.5 });
    expect(unscaled.level).toBeCloseTo(5, 12);
  });

  it('ignores non-finite values and samples that do not move time forward', () => {
    const state = feed([
      { tMs: 0, value: 1 },
      { tMs: 1000, value: 2 },
    ]);
    expect(holtUpdate(state, 2000, Number.NaN, smoothing)).toBe(state);
    expect(holtUpdate(state, 1000, 50, smoothing)).toBe(state);
    expect(holtUpdate(state, 500, 50, smoothing)).toBe(state);
  });

  it('gives the no-prediction reasons', () => {
    expect(holtForecastCrossing(feed([{ tMs: 0, value: 1 }, { tMs: 1000, value: 2 }]), 10, 'rising', MINUTE_MS)).toMatchObject({ kind: 'none', reason: 'too-few-points' });
    const flat = feed([0, 1, 2, 3].map((s) => ({ tMs: s * 1000, value: 4 })));
    expect(holtForecastCrossing(flat, 10, 'rising', MINUTE_MS)).toMatchObject({ kind: 'none', reason: 'no-trend' });
    expect(holtForecastCrossing(flat, 3, 'rising', MINUTE_MS)).toMatchObject({ kind: 'none', reason: 'already-crossed' });
    expect(holtForecastCrossing(flat, 4, 'falling', MINUTE_MS)).toMatchObject({ kind: 'none', reason: 'already-crossed' });
  });

  it('reacts to noise (why Theil–Sen is the default for noisy tags)', () => {
    // a flat σ = 1 signal: Holt's trend wanders, so it predicts crossings that are only noise
    const noise = gaussian(8);
    let forecasts = 0;
    let state = holtInit();
    for (let i = 0; i < 2000; i++) {
      state = holtUpdate(state, T0_MS + i * 10_000, 50 + noise(), smoothing);
      if (i > 60 && holtForecastCrossing(state, 53, 'rising', 60 * MINUTE_MS).kind === 'crossing') forecasts++;
    }
    expect(forecasts).toBeGreaterThan(50);
  });
});
