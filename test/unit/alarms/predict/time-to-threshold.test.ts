import { describe, expect, it } from 'vitest';
import { predictCrossing, theilSen, type CrossingPrediction, type PredictCrossingOptions, type TrendPoint } from '../../../../agent/alarms/predict/index.js';
import { gaussian, mulberry32, MINUTE_MS, T0_MS } from '../../../helpers/seeded-noise.js';

const STEP_MS = 10_000;
const NOW_MS = T0_MS + 59 * STEP_MS;

/** 60 points every 10 s ending at NOW_MS, value(t) given in minutes relative to now. */
function window60(valueAtMin: (minutesFromNow: number) => number, seed: number, sigma: number): TrendPoint[] {
  const noise = gaussian(seed);
  const points: TrendPoint[] = [];
  for (let i = 0; i < 60; i++) {
    const tMs = T0_MS + i * STEP_MS;
    points.push({ tMs, value: valueAtMin((tMs - NOW_MS) / MINUTE_MS) + sigma * noise(), good: true });
  }
  return points;
}

const base = { nowMs: NOW_MS, windowMs: 10 * MINUTE_MS, horizonMs: 60 * MINUTE_MS } as const;

function expectCrossing(p: ReturnType<typeof predictCrossing>): CrossingPrediction {
  expect(p.kind, JSON.stringify(p)).toBe('crossing');
  return p as CrossingPrediction;
}

describe('predictCrossing: a real trend', () => {
  // 80 now, rising 0.5 per minute with σ = 0.5 noise: reaches 90 in 20 min.
  const rising = (seed: number) => window60((m) => 80 + 0.5 * m, seed, 0.5);

  it('predicts a linear rise crossing in 20 minutes, with confidence and a bracketing interval', () => {
    const p = expectCrossing(predictCrossing(rising(1), { ...base, threshold: 90, direction: 'rising' }));
    expect(p.model).toBe('linear');
    expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(2 * MINUTE_MS);
    expect(p.crossingMs).toBe(NOW_MS + p.inMs);
    expect(p.confidence).toBeGreaterThanOrEqual(0.9);
    expect(p.slopePerMin).toBeGreaterThan(0.45);
    expect(p.slopePerMin).toBeLessThan(0.55);
    expect(Math.abs(p.current - 80)).toBeLessThan(0.5);
    expect(p.earliestMs).toBeLessThan(p.crossingMs);
    expect(p.latestMs).toBeGreaterThan(p.crossingMs);
    const truth = NOW_MS + 20 * MINUTE_MS;
    expect(p.earliestMs).toBeLessThan(truth);
    expect(p.latestMs).toBeGreaterThan(truth);
  });

  it('predicts it in most seeded windows, always close to the truth', () => {
    let predicted = 0;
    for (let seed = 100; seed < 300; seed++) {
      const p = predictCrossing(rising(seed), { ...base, threshold: 90, direction: 'rising' });
      if (p.kind !== 'crossing') {
        expect(p.reason).toBe('flattening'); // the only veto a straight trend can meet, by chance
        continue;
      }
      predicted++;
      expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(5 * MINUTE_MS);
      expect(p.confidence).toBeGreaterThanOrEqual(0.9);
    }
    expect(predicted).toBeGreaterThanOrEqual(180);
  });

  it('works for a falling value and a low limit', () => {
    const falling = window60((m) => 20 - 0.25 * m, 2, 0.2); // 20 now, reaches 15 in 20 min
    const p = expectCrossing(predictCrossing(falling, { ...base, threshold: 15, direction: 'falling' }));
    expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(2 * MINUTE_MS);
    expect(p.slopePerMin).toBeLessThan(-0.2);
    expect(p.confidence).toBeGreaterThanOrEqual(0.9);
    expect(p.earliestMs).toBeLessThan(p.latestMs);
    expect(predictCrossing(falling, { ...base, threshold: 25, direction: 'rising' })).toMatchObject({ kind: 'none', reason: 'wrong-direction' });
  });

  it('says beyond-horizon when the crossing is further than the horizon', () => {
    const slow = window60((m) => 80 + 0.1 * m, 3, 0.1); // reaches 89 in 90 min
    expect(predictCrossing(slow, { ...base, threshold: 89, direction: 'rising' })).toMatchObject({ kind: 'none', reason: 'beyond-horizon' });
    const p = expectCrossing(predictCrossing(slow, { ...base, horizonMs: 120 * MINUTE_MS, windowMs: 10 * MINUTE_MS, threshold: 89, direction: 'rising' }));
    expect(Math.abs(p.inMs - 90 * MINUTE_MS)).toBeLessThan(10 * MINUTE_MS);
  });

  it('says already-crossed at or beyond the threshold, by the fit or by the latest value', () => {
    const points = rising(4);
    expect(predictCrossing(points, { ...base, threshold: 79, direction: 'rising' })).toMatchObject({ kind: 'none', reason: 'already-crossed' });
    // the fit is just below 85 now, but the latest value spikes to 85.5
    const spiked = rising(4).map((p, i) => (i === 59 ? { ...p, value: 85.5 } : p));
    expect(predictCrossing(spiked, { ...base, threshold: 85, direction: 'rising' })).toMatchObject({ kind: 'none', reason: 'already-crossed' });
    expect(predictCrossing(points, { ...base, threshold: 85, direction: 'rising' }).kind).toBe('crossing');
  });
});

describe('predictCrossing: no prediction on noise', () => {
  it('fires on at most 0.5 % of 1000 flat noisy windows, where a bare line would fire on many', () => {
    let fired = 0;
    let bareLineWouldFire = 0;
    const reasons = new Map<string, number>();
    for (let trial = 0; trial < 1000; trial++) {
      const points = window60(() => 50, 10_000 + trial, 1);
      const threshold = 52; // 2 σ above the level, 60 min horizon
      const p = predictCrossing(points, { ...base, threshold, direction: 'rising' });
      if (p.kind === 'crossing') fired++;
      else reasons.set(p.reason, (reasons.get(p.reason) ?? 0) + 1);
      const fit = theilSen(points.map((x) => x.tMs), points.map((x) => x.value as number), { originMs: NOW_MS })!;
      if (fit.slopePerMs > 0 && (threshold - fit.intercept) / fit.slopePerMs < base.horizonMs) bareLineWouldFire++;
    }
    expect(fired).toBeLessThanOrEqual(5);
    expect(bareLineWouldFire).toBeGreaterThan(150);
    expect(reasons.get('no-trend')).toBeGreaterThan(900);
  });

  it('reports no-trend with the confidence it saw', () => {
    const p = predictCrossing(window60(() => 50, 7, 1), { ...base, threshold: 60, direction: 'rising' });
    expect(p).toMatchObject({ kind: 'none', reason: 'no-trend' });
    expect(p.confidence).toBeGreaterThan(0);
    expect(p.confidence).toBeLessThan(0.99);
  });

  it('a higher minConfidence rejects a weak trend that the default accepts', () => {
    // a rise of 2 σ over the window: significant in most windows, but not overwhelmingly
    let acceptedByDefault = 0;
    let acceptedStrict = 0;
    for (let seed = 0; seed < 50; seed++) {
      const points = window60((m) => 50 + 0.2 * m, 700 + seed, 1);
      if (predictCrossing(points, { ...base, threshold: 52, direction: 'rising' }).kind === 'crossing') acceptedByDefault++;
      if (predictCrossing(points, { ...base, threshold: 52, direction: 'rising', minConfidence: 0.99999 }).kind === 'crossing') acceptedStrict++;
    }
    expect(acceptedByDefault).toBeGreaterThan(35);
    expect(acceptedStrict).toBeLessThan(acceptedByDefault / 2);
  });
});

describe('predictCrossing: flattening', () => {
  // A first-order approach: value = A − 30·exp(−t/τ), τ = 10 min, sampled every 10 s, σ = 0.2,
  // a 10-minute window and a 30-minute horizon, threshold 95.
  function approach(asymptote: number, seed: number): TrendPoint[] {
    const noise = gaussian(seed);
    const points: TrendPoint[] = [];
    for (let k = 0; k <= 360; k++) {
      const tMs = T0_MS + k * STEP_MS;
      points.push({ tMs, value: asymptote - 30 * Math.exp(-(k * STEP_MS) / (10 * MINUTE_MS)) + 0.2 * noise(), good: true });
    }
    return points;
  }
  const options = (nowMs: number): PredictCrossingOptions => ({ nowMs, threshold: 95, direction: 'rising', windowMs: 10 * MINUTE_MS, horizonMs: 30 * MINUTE_MS });

  it('does not fire on an approach to an asymptote below the threshold, where a straight line would', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const history = approach(90, seed);
      let flattening = 0;
      let lineWouldFire = 0;
      for (let k = 60; k < history.length; k++) {
        const nowMs = history[k].tMs;
        const window = history.slice(k - 59, k + 1);
        const p = predictCrossing(window, options(nowMs));
        expect(p.kind, `seed ${seed} at ${(nowMs - T0_MS) / MINUTE_MS} min: ${JSON.stringify(p)}`).toBe('none');
        if (p.kind === 'none' && p.reason === 'flattening') flattening++;
        const fit = theilSen(window.map((x) => x.tMs), window.map((x) => x.value as number), { originMs: nowMs })!;
        if (fit.slopePerMs > 0 && (95 - fit.intercept) / fit.slopePerMs < 30 * MINUTE_MS) lineWouldFire++;
      }
      expect(lineWouldFire).toBeGreaterThan(30);
      expect(flattening).toBeGreaterThan(30);
    }
  });

  it('still fires, with the decelerating model, when the asymptote lies beyond the threshold', () => {
    // asymptote 100: crosses 95 at t = 10·ln(6) ≈ 17.9 min
    const truthMs = T0_MS + 10 * Math.log(6) * MINUTE_MS;
    const history = approach(100, 1);
    const p = expectCrossing(predictCrossing(history.slice(1, 61), options(history[60].tMs)));
    expect(p.model).toBe('decelerating');
    expect(Math.abs(p.crossingMs - truthMs)).toBeLessThan(2 * MINUTE_MS);
    // a straight line through the same window would say about 5.5 min (too early)
    expect(p.inMs).toBeGreaterThan(6.5 * MINUTE_MS);
    expect(p.latestMs).toBeGreaterThanOrEqual(p.crossingMs);
    // the slope now (1.10 per min at 10 min), not the window's average (1.90)
    expect(p.slopePerMin).toBeGreaterThan(0.9);
    expect(p.slopePerMin).toBeLessThan(1.35);
  });
});

describe('predictCrossing: data quality and window', () => {
  const rising = () => window60((m) => 80 + 0.5 * m, 1, 0.5);

  it('ignores bad and null points, whatever value they carry', () => {
    const clean = expectCrossing(predictCrossing(rising(), { ...base, threshold: 90, direction: 'rising' }));
    const pick = mulberry32(5);
    const dirty = rising().map((p, i) => {
      if (i === 59 || pick() >= 0.2) return p;
      return pick() < 0.5 ? { ...p, value: 1e6, good: false } : { ...p, value: null, good: false };
    });
    const badCount = dirty.filter((p) => !p.good).length;
    expect(badCount).toBeGreaterThan(6);
    expect(badCount).toBeLessThanOrEqual(15);
    const p = expectCrossing(predictCrossing(dirty, { ...base, threshold: 90, direction: 'rising' }));
    expect(Math.abs(p.inMs - clean.inMs)).toBeLessThan(2 * MINUTE_MS);
    expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(3 * MINUTE_MS);
    // a good-flagged NaN is unusable too
    const withNaN = rising().map((p, i) => (i === 30 ? { ...p, value: Number.NaN } : p));
    expect(predictCrossing(withNaN, { ...base, threshold: 90, direction: 'rising' }).kind).toBe('crossing');
  });

  it('says quality when the window is mostly bad', () => {
    const mostlyBad = rising().map((p, i) => (i % 5 < 3 ? { ...p, good: false } : p)); // 60 % bad, 24 good
    expect(predictCrossing(mostlyBad, { ...base, threshold: 90, direction: 'rising' })).toEqual({ kind: 'none', reason: 'quality' });
    const someNull = rising().map((p, i) => (i % 10 === 0 ? { ...p, value: null } : p)); // 10 %: fine
    expect(predictCrossing(someNull, { ...base, threshold: 90, direction: 'rising' }).kind).toBe('crossing');
  });

  it('says too-few-points below minPoints, and only looks inside the window', () => {
    const points = rising();
    expect(predictCrossing(points.slice(-8), { ...base, threshold: 90, direction: 'rising' })).toEqual({ kind: 'none', reason: 'too-few-points' });
    expect(predictCrossing(points.slice(-8), { ...base, threshold: 90, direction: 'rising', minPoints: 5 }).kind).not.toBe('too-few-points');
    // an hour of old, flat history before the window changes nothing
    const old: TrendPoint[] = Array.from({ length: 360 }, (_, i) => ({ tMs: T0_MS - (360 - i) * STEP_MS, value: 20, good: true }));
    const a = predictCrossing(points, { ...base, threshold: 90, direction: 'rising' });
    expect(predictCrossing([...old, ...points], { ...base, threshold: 90, direction: 'rising' })).toEqual(a);
    // points after now are not seen either
    const future: TrendPoint = { tMs: NOW_MS + STEP_MS, value: 1000, good: true };
    expect(predictCrossing([...points, future], { ...base, threshold: 90, direction: 'rising' })).toEqual(a);
  });

  it('handles values quantised to the register resolution (many tied values)', () => {
    const quantise = (points: TrendPoint[]) => points.map((p) => ({ ...p, value: Math.round((p.value as number) * 10) / 10 }));
    const p = expectCrossing(predictCrossing(quantise(window60((m) => 20 + 0.1 * m, 3, 0.05)), { ...base, threshold: 22, direction: 'rising' }));
    expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(3 * MINUTE_MS);
    let fired = 0;
    for (let seed = 0; seed < 300; seed++) {
      const flat = quantise(window60(() => 20.04, 3000 + seed, 0.06));
      if (predictCrossing(flat, { ...base, threshold: 20.3, direction: 'rising' }).kind === 'crossing') fired++;
    }
    expect(fired).toBeLessThanOrEqual(1);
  });

  it('accepts points out of time order', () => {
    const points = rising();
    const shuffled = [...points].reverse();
    expect(predictCrossing(shuffled, { ...base, threshold: 90, direction: 'rising' })).toEqual(predictCrossing(points, { ...base, threshold: 90, direction: 'rising' }));
  });

  it('subsamples a dense window and still predicts', () => {
    // 1 Hz for 10 minutes: 600 points
    const noise = gaussian(9);
    const dense: TrendPoint[] = Array.from({ length: 600 }, (_, i) => {
      const tMs = NOW_MS - (599 - i) * 1000;
      return { tMs, value: 80 + (0.5 * (tMs - NOW_MS)) / MINUTE_MS + 0.5 * noise(), good: true };
    });
    const p = expectCrossing(predictCrossing(dense, { ...base, threshold: 90, direction: 'rising' }));
    expect(Math.abs(p.inMs - 20 * MINUTE_MS)).toBeLessThan(1.5 * MINUTE_MS);
  });
});
