import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, slopePositiveConfidence, theilSen, trendValueAt } from '../../../../agent/alarms/predict/index.js';
import { fitLine, kendallTrend, slopeInterval, kendallStatsOf } from '../../../../agent/alarms/predict/theil-sen.js';
import { gaussian, mulberry32, MINUTE_MS, T0_MS } from '../../../helpers/seeded-noise.js';

/** Ordinary least squares, for comparison. */
function leastSquaresSlope(t: number[], v: number[]): number {
  const n = t.length;
  const tm = t.reduce((a, b) => a + b, 0) / n;
  const vm = v.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i] - tm) * (v[i] - vm);
    den += (t[i] - tm) ** 2;
  }
  return num / den;
}

/** 60 points every 10 s: v = 20 + slopePerMin · minutes + σ·noise. */
function series(seed: number, slopePerMin: number, sigma: number, count = 60): { t: number[]; v: number[] } {
  const noise = gaussian(seed);
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < count; i++) {
    const tMs = T0_MS + i * 10_000;
    t.push(tMs);
    v.push(20 + (slopePerMin * (tMs - T0_MS)) / MINUTE_MS + sigma * noise());
  }
  return { t, v };
}

describe('normal distribution helpers', () => {
  it('match tabulated values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(() => normalQuantile(1)).toThrow(/strictly between 0 and 1/);
  });
});

describe('theilSen', () => {
  it('recovers an exact line: slope, intercept at the origin, zero residual scale', () => {
    const t = [0, 1, 2, 3, 4, 5].map((k) => T0_MS + k * 30_000);
    const v = t.map((x) => 10 + 0.002 * (x - T0_MS)); // 0.002 per ms = 120 per minute
    const fit = theilSen(t, v)!;
    expect(fit.n).toBe(6);
    expect(fit.originMs).toBe(t[5]);
    expect(fit.slopePerMs).toBeCloseTo(0.002, 12);
    expect(fit.intercept).toBeCloseTo(10 + 0.002 * 150_000, 9);
    expect(trendValueAt(fit, T0_MS)).toBeCloseTo(10, 9);
    expect(fit.residualScale).toBeCloseTo(0, 9);
    expect(fit.slopeLowPerMs).toBeLessThanOrEqual(fit.slopePerMs);
    expect(fit.slopeHighPerMs).toBeGreaterThanOrEqual(fit.slopePerMs);
    // all 15 pairs rise: S = 15, Var(S) = 6·5·17/18, z = 14/√28.33
    expect(fit.mannKendallZ).toBeCloseTo(14 / Math.sqrt((6 * 5 * 17) / 18), 9);
  });

  it('uses the given origin for the intercept', () => {
    const { t, v } = series(1, 0.5, 0);
    const fit = theilSen(t, v, { originMs: T0_MS })!;
    expect(fit.intercept).toBeCloseTo(20, 9);
    expect(fit.slopePerMs * MINUTE_MS).toBeCloseTo(0.5, 9);
  });

  it('takes Sen\'s interval bounds at the documented ranks of the sorted pairwise slopes', () => {
    const { t, v } = series(31, 0.3, 1, 40);
    const fit = theilSen(t, v, { ciLevel: 0.9 })!;
    const slopes: number[] = [];
    for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++) slopes.push((v[j] - v[i]) / (t[j] - t[i]));
    slopes.sort((a, b) => a - b);
    const n = t.length;
    const N = slopes.length;
    const r = Math.min(0.9, Math.max(0, fit.residualLag1));
    const c = 1.6448536 * Math.sqrt(((n * (n - 1) * (2 * n + 5)) / 18) * ((1 + r) / (1 - r)));
    expect(fit.slopeLowPerMs).toBe(slopes[Math.floor((N - c) / 2) - 1]);
    expect(fit.slopeHighPerMs).toBe(slopes[Math.ceil((N + c) / 2)]);
    expect(fit.slopePerMs).toBe((slopes[N / 2 - 1] + slopes[N / 2]) / 2);
  });

  it('decides "trend or not" from slope signs alone, in agreement with the fit', () => {
    for (const [seed, slope] of [[41, 0], [42, 0.05], [43, 0.2], [44, -0.2]] as const) {
      const { t, v } = series(seed, slope, 1);
      const tf = Float64Array.from(t, (x) => x - t[t.length - 1]);
      const vf = Float64Array.from(v);
      const fast = kendallTrend(tf, vf, 0, tf.length - 1, 2.5758)!;
      const fit = fitLine(tf, vf, 0, tf.length - 1)!;
      const full = kendallStatsOf(fit, tf, vf, 0, tf.length - 1, 2.5758);
      expect(full).toEqual(fast);
      const interval = slopeInterval(fit, full);
      expect(interval.low > 0).toBe(fast.lowRank0 >= 0 && fast.negative + fast.zero <= fast.lowRank0);
      expect(interval.high < 0).toBe(fast.highRank0 < fast.pairCount && fast.negative > fast.highRank0);
    }
  });

  it('refuses an interval for a fit whose slopes were overwritten', () => {
    const { t, v } = series(45, 0.2, 1);
    const tf = Float64Array.from(t);
    const vf = Float64Array.from(v);
    const first = fitLine(tf, vf, 0, 59)!;
    const trend = kendallStatsOf(first, tf, vf, 0, 59, 1.96);
    fitLine(tf, vf, 0, 29);
    expect(() => slopeInterval(first, trend)).toThrow(/overwritten/);
  });

  it('is robust to 20 % outliers where least squares is not', () => {
    const { t, v } = series(7, 0.3, 0.2, 100);
    const pick = mulberry32(99);
    let replaced = 0;
    for (let i = 0; i < v.length; i++) {
      // one-sided spikes on the later points (a sensor glitching high), 20 of 100
      if (i >= 40 && replaced < 20 && pick() < 0.4) {
        v[i] += 40;
        replaced++;
      }
    }
    expect(replaced).toBe(20);
    const robustPerMin = theilSen(t, v)!.slopePerMs * MINUTE_MS;
    const lsPerMin = leastSquaresSlope(t, v) * MINUTE_MS;
    expect(Math.abs(robustPerMin - 0.3)).toBeLessThan(0.3 * 0.1);
    expect(Math.abs(lsPerMin - 0.3)).toBeGreaterThan(0.3); // off by more than 100 %
  });

  it('its interval covers the true slope about as often as its level says', () => {
    let covered = 0;
    const trials = 400;
    for (let s = 0; s < trials; s++) {
      const { t, v } = series(1000 + s, 0.2, 1);
      const fit = theilSen(t, v, { ciLevel: 0.9 })!;
      const truth = 0.2 / MINUTE_MS;
      if (fit.slopeLowPerMs <= truth && truth <= fit.slopeHighPerMs) covered++;
      expect(fit.slopeLowPerMs).toBeLessThan(fit.slopeHighPerMs);
    }
    expect(covered / trials).toBeGreaterThan(0.85);
    expect(covered / trials).toBeLessThan(0.96);
  });

  it('calls about 5 % of pure-noise windows significant at z = 1.96 (Mann–Kendall under the null)', () => {
    let significant = 0;
    for (let s = 0; s < 1000; s++) {
      const { t, v } = series(5000 + s, 0, 1);
      const fit = theilSen(t, v)!;
      if (Math.abs(fit.mannKendallZ) > 1.96) significant++;
    }
    expect(significant).toBeGreaterThan(25);
    expect(significant).toBeLessThan(80);
  });

  it('gives a confidence near 1 for a clear rise and near 0 for a clear fall', () => {
    const rising = series(3, 0.5, 0.3);
    const falling = series(3, -0.5, 0.3);
    const up = theilSen(rising.t, rising.v)!;
    const down = theilSen(falling.t, falling.v)!;
    expect(slopePositiveConfidence(up)).toBeGreaterThan(0.999);
    expect(slopePositiveConfidence(down)).toBeLessThan(0.001);
  });

  it('widens the interval for serially correlated residuals', () => {
    // AR(1) noise with φ = 0.8 around a flat line
    const noise = gaussian(11);
    const t: number[] = [];
    const v: number[] = [];
    let e = 0;
    for (let i = 0; i < 60; i++) {
      e = 0.8 * e + noise();
      t.push(T0_MS + i * 10_000);
      v.push(50 + e);
    }
    const plain = theilSen(t, v, { serialCorrection: false })!;
    const corrected = theilSen(t, v)!;
    expect(corrected.residualLag1).toBeGreaterThan(0.5);
    expect(corrected.slopePerMs).toBe(plain.slopePerMs);
    const widthPlain = plain.slopeHighPerMs - plain.slopeLowPerMs;
    const widthCorrected = corrected.slopeHighPerMs - corrected.slopeLowPerMs;
    expect(widthCorrected).toBeGreaterThan(1.8 * widthPlain);
    expect(Math.abs(corrected.mannKendallZ)).toBeLessThan(Math.abs(plain.mannKendallZ) / 1.8);
  });

  it('subsamples long series deterministically and keeps the slope', () => {
    const { t, v } = series(21, 0.4, 0.5, 1000);
    const a = theilSen(t, v)!;
    const b = theilSen(t, v)!;
    expect(a.n).toBe(200);
    expect(a).toEqual(b);
    expect(a.slopePerMs * MINUTE_MS).toBeCloseTo(0.4, 2);
    expect(theilSen(t, v, { maxPoints: 50 })!.n).toBe(50);
  });

  it('needs three points and two distinct times', () => {
    expect(theilSen([1, 2], [1, 2])).toBeUndefined();
    expect(theilSen([5, 5, 5], [1, 2, 3])).toBeUndefined();
    expect(() => theilSen([1, 2, 3], [1, 2])).toThrow(/3 times but 2 values/);
    // equal times are skipped, not divided by
    expect(theilSen([0, 0, 1000, 2000], [0, 9, 1, 2])!.slopePerMs).toBeCloseTo(0.001, 9);
  });
});
