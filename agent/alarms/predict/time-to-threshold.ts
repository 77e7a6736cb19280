/**
 * Time-to-threshold: from the recent history of one tag, predict when it will cross a limit.
 * Pure: no clock, no state — `nowMs` and the points are passed in, so live evaluation and a backtest
 * over history give the same answers.
 *
 * The rules, in the order they are applied:
 *
 * 1. Window: points with nowMs − windowMs < tMs ≤ nowMs. A point is usable when `good` and its value
 *    is a finite number. More than `maxBadFraction` (default 0.25) of the window's points unusable →
 *    'quality'. Fewer than `minPoints` usable points → 'too-few-points' (or 'quality' when the window
 *    held enough points and only the bad ones are missing).
 * 2. Fit: Theil–Sen over the usable points (theil-sen.ts), with Sen's rank-based slope interval at
 *    `ciLevel` (default 0.995, two-sided) from the variance of Kendall's S, widened when the
 *    residuals are serially correlated.
 * 3. 'already-crossed' when the latest usable value (checked first) or the fitted value now (checked
 *    once the fit is made, after rule 4) is at or beyond the threshold: the plain limit alarm owns that.
 * 4. Trend. confidence = Φ(±Mann–Kendall z): how sure we are that the slope has the sign that reaches
 *    the threshold (same variance as the interval). The whole interval on the wrong side →
 *    'wrong-direction'. Otherwise the interval including 0, or confidence < minConfidence (default
 *    0.9) → 'no-trend'. An interval at 0.995 that excludes 0 already implies confidence ≳ 0.9975, so
 *    by default the interval is the binding test and `minConfidence` binds only when set above that.
 *    This is what keeps a flat noisy signal quiet: white noise passes it in about 0.25 % of windows
 *    (one-sided), and the horizon and flattening rules remove part of those (≈ 0.15 % measured).
 *    This decision needs only the signs of the pairwise slopes (counts against Sen's ranks), so it is
 *    made before any slope is computed; a flat signal — most tags, most of the time — ends here.
 * 5. Linear crossing from the fitted value now: inMs = gap/slope; beyond `horizonMs` → 'beyond-horizon'.
 * 6. Flattening. An exponential approach to an asymptote is the usual shape of a thermal response
 *    (a load step moves a temperature to a new equilibrium), and a straight line through its rising
 *    part crosses any threshold. The usable points are split at the middle into an older and a recent
 *    half, each fitted with Theil–Sen (needs ≥ 4 points per half, else the rule is skipped):
 *    a. the recent half alone must still head for the threshold and, from its own value now, reach it
 *       within the horizon — else 'flattening';
 *    b. if the older slope exceeds the recent one (towards the threshold) by more than `flatteningZ`
 *       (default 1.5) standard errors of the difference (se of a half's slope ≈ 1.05 · its residual
 *       scale / √Σ(t − t̄)², Theil–Sen's efficiency against least squares), the trend is decelerating
 *       and is modelled as a first-order approach: the slope decays by q = recent/older between the
 *       halves' mean times, τ = Δt/ln(1/q), and from the recent half's value now the trend can still
 *       travel slopeNow·τ. If that stops short of the threshold (the asymptote lies on this side of
 *       it), or the modelled crossing −τ·ln(1 − gap/(slopeNow·τ)) lies beyond the horizon →
 *       'flattening'. Otherwise the prediction uses the modelled crossing (model 'decelerating').
 *    An accelerating trend keeps the linear prediction (late rather than alarmist).
 *    Limits: the bend is only visible when the window is not much shorter than the process time
 *    constant, and far in the tail of an approach the deceleration drowns in noise while a long
 *    horizon still lets a straight line reach the threshold. Keep horizonMs within about three
 *    windows, the window at least about half the time constant, and give the rule an on-delay.
 *    With flatteningZ 1.5 about 7 % of windows of a truly straight noisy trend are called
 *    'flattening' (measured at a rise of 10 σ per window); 2 gives ≈ 2 % but lets more tails through.
 * 7. Otherwise a prediction; earliestMs/latestMs from the interval's steepest and shallowest slopes
 *    (widened to include a decelerating crossing).
 *
 * Cost (kept cheap for thousands of tags evaluated every second):
 * - a flat or wrong-way signal — most tags, most of the time — costs one pass of n(n−1)/2
 *   branch-free sign comparisons (rule 4) and nothing else;
 * - only a significant trend towards the threshold pays for the Theil–Sen fit (pairwise slopes and
 *   their median by branch-free in-place selection, never a sort);
 * - only a crossing within the horizon pays for the interval's two ranks and the two half-window
 *   fits (half as many pairs again);
 * - scratch buffers are reused across calls, so a call allocates only its small result objects;
 *   above `maxPoints` (default 200) the window is subsampled evenly, which bounds the worst case.
 * Measured at 60 points on a shared 2.4 GHz EPYC VM: ≈ 5 µs flat, ≈ 40 µs trending beyond the
 * horizon, ≈ 65 µs for a full prediction; at 200 points ≈ 60 µs, ≈ 0.4 ms and ≈ 0.7 ms.
 */
import { ciZ, fitLine, kendallTrend, slopeHighIsNegative, slopeInterval, slopeLowIsPositive } from './theil-sen.js';
import { normalCdf } from './normal.js';
import type { CrossingDirection, CrossingEstimate, NoPrediction } from './types.js';

export interface TrendPoint {
  tMs: number;
  value: number | null;
  good: boolean;
}

export interface PredictCrossingOptions {
  nowMs: number;
  threshold: number;
  direction: CrossingDirection;
  /** How far back the fit looks. */
  windowMs: number;
  /** Crossings further ahead than this are not predicted. */
  horizonMs: number;
  /** Minimum usable points in the window. Default 10, at least 3. */
  minPoints?: number;
  /** Minimum confidence that the slope heads for the threshold, 0..1. Default 0.9. */
  minConfidence?: number;
  /** Two-sided level of the slope interval that must exclude 0. Default 0.995. */
  ciLevel?: number;
  /** Largest share of the window's points that may be bad or null. Default 0.25. */
  maxBadFraction?: number;
  /** Standard errors of slope decrease between the window's halves that count as deceleration. Default 1.5. */
  flatteningZ?: number;
  /** Subsample the window above this many usable points. Default 200. */
  maxPoints?: number;
}

export interface CrossingPrediction extends CrossingEstimate {
  /** 0..1: how sure the slope has the sign that reaches the threshold (Φ of the Mann–Kendall z). */
  confidence: number;
  /** The crossing with the steepest slope in the interval … */
  earliestMs: number;
  /** … and with the shallowest. */
  latestMs: number;
  /** 'linear' — the straight trend; 'decelerating' — the first-order-approach model of rule 6. */
  model: 'linear' | 'decelerating';
}

// Reused scratch for the window's usable points (times relative to nowMs for precision).
let tScratch = new Float64Array(256);
let vScratch = new Float64Array(256);

export function predictCrossing(points: readonly TrendPoint[], options: PredictCrossingOptions): CrossingPrediction | NoPrediction {
  const { nowMs, threshold, direction, windowMs, horizonMs } = options;
  const minPoints = Math.max(3, options.minPoints ?? 10);
  const minConfidence = options.minConfidence ?? 0.9;
  const maxBadFraction = options.maxBadFraction ?? 0.25;
  const maxPoints = Math.max(3, options.maxPoints ?? 200);
  const sign = direction === 'rising' ? 1 : -1;

  // 1. The window.
  if (tScratch.length < points.length) {
    tScratch = new Float64Array(Math.max(points.length, tScratch.length * 2));
    vScratch = new Float64Array(tScratch.length);
  }
  const t = tScratch;
  const v = vScratch;
  const fromMs = nowMs - windowMs;
  let inWindow = 0;
  let n = 0;
  let sorted = true;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!(p.tMs > fromMs && p.tMs <= nowMs)) continue;
    inWindow++;
    const value = p.value;
    if (!p.good || value === null || !Number.isFinite(value)) continue;
    const rel = p.tMs - nowMs;
    if (n > 0 && rel < t[n - 1]) sorted = false;
    t[n] = rel;
    v[n] = value;
    n++;
  }
  const bad = inWindow - n;
  if (inWindow > 0 && bad > maxBadFraction * inWindow) return { kind: 'none', reason: 'quality' };
  if (n < minPoints) return { kind: 'none', reason: inWindow >= minPoints && bad > 0 ? 'quality' : 'too-few-points' };
  if (!sorted) sortByTime(t, v, n);
  const latestValue = v[n - 1];
  if (n > maxPoints) {
    // Evenly spaced subsample, in place (target index ≤ source index).
    for (let k = 0; k < maxPoints; k++) {
      const i = Math.round((k * (n - 1)) / (maxPoints - 1));
      t[k] = t[i];
      v[k] = v[i];
    }
    n = maxPoints;
  }

  // 2–4, cheap part first: the latest value, then the trend decision from slope signs alone.
  if (sign * (threshold - latestValue) <= 0) return { kind: 'none', reason: 'already-crossed' };
  const z = ciZ(options.ciLevel ?? 0.995);
  const trend = kendallTrend(t, v, 0, n - 1, z);
  if (!trend) return { kind: 'none', reason: 'too-few-points' };
  const confidence = normalCdf(sign * trend.z);
  // "towards" bounds: for a falling threshold the interval is mirrored.
  const towardLowPositive = sign > 0 ? slopeLowIsPositive(trend) : slopeHighIsNegative(trend);
  const towardHighNegative = sign > 0 ? slopeHighIsNegative(trend) : slopeLowIsPositive(trend);
  if (towardHighNegative) return { kind: 'none', reason: 'wrong-direction', confidence };
  if (!towardLowPositive || confidence < minConfidence) return { kind: 'none', reason: 'no-trend', confidence };

  // The fit (origin = now, so intercept = the fitted value now).
  const fit = fitLine(t, v, 0, n - 1);
  if (!fit) return { kind: 'none', reason: 'too-few-points' };
  const current = fit.intercept;
  const slopePerMin = fit.slope * 60_000;
  const gap = sign * (threshold - current);
  if (gap <= 0) return { kind: 'none', reason: 'already-crossed', slopePerMin, confidence };

  // 5. The straight-line crossing.
  const toward = sign * fit.slope;
  const linearInMs = gap / toward;
  if (!(toward > 0) || linearInMs > horizonMs) return { kind: 'none', reason: toward > 0 ? 'beyond-horizon' : 'no-trend', slopePerMin, confidence };

  // Within the horizon: now the interval's bounds (before the half fits reuse the scratch buffer).
  const interval = slopeInterval(fit, trend);
  const towardLow = Math.min(sign * interval.low, sign * interval.high);
  const towardHigh = Math.max(sign * interval.low, sign * interval.high);
  if (!(towardLow > 0)) return { kind: 'none', reason: 'no-trend', slopePerMin, confidence }; // agrees with rule 4 by construction

  let inMs = linearInMs;
  let model: CrossingPrediction['model'] = 'linear';
  let modelCurrent = current;
  let modelSlopePerMin = slopePerMin;

  // 6. Flattening.
  const half = n >> 1;
  if (half >= 4 && n - half >= 4) {
    const older = fitLine(t, v, 0, half - 1);
    const recent = fitLine(t, v, half, n - 1);
    if (older && recent) {
      const olderTime = meanAndSxx(t, 0, half - 1);
      const recentTime = meanAndSxx(t, half, n - 1);
      const seOlder = (1.05 * older.residualScale) / Math.sqrt(olderTime.sxx);
      const seRecent = (1.05 * recent.residualScale) / Math.sqrt(recentTime.sxx);
      const olderToward = sign * older.slope;
      const recentToward = sign * recent.slope;
      const decrease = olderToward - recentToward;
      const recentGap = sign * (threshold - recent.intercept);
      // 6a. The recent half alone must still head for the threshold and reach it within the horizon.
      if (recentToward <= 0 || (recentGap > 0 && recentGap / recentToward > horizonMs)) {
        return { kind: 'none', reason: 'flattening', slopePerMin, confidence };
      }
      // 6b. A significant deceleration: model it as a first-order approach.
      if (decrease > (options.flatteningZ ?? 1.5) * Math.hypot(seOlder, seRecent) && olderToward > 0) {
        const q = recentToward / olderToward;
        const tauMs = (recentTime.mean - olderTime.mean) / -Math.log(q);
        if (Number.isFinite(tauMs) && tauMs > 0 && recentGap > 0) {
          const slopeNow = recentToward * Math.exp(recentTime.mean / tauMs); // recentTime.mean < 0: decayed to now
          const reach = slopeNow * tauMs;
          if (reach <= recentGap) return { kind: 'none', reason: 'flattening', slopePerMin, confidence };
          const decelInMs = -tauMs * Math.log(1 - recentGap / reach);
          if (decelInMs > horizonMs) return { kind: 'none', reason: 'flattening', slopePerMin, confidence };
          inMs = decelInMs;
          model = 'decelerating';
          modelCurrent = recent.intercept;
          modelSlopePerMin = sign * slopeNow * 60_000;
        }
      }
    }
  }

  // 7. The prediction.
  let earliestMs = nowMs + gap / towardHigh;
  let latestMs = nowMs + gap / towardLow;
  const crossingMs = nowMs + inMs;
  if (crossingMs < earliestMs) earliestMs = crossingMs;
  if (crossingMs > latestMs) latestMs = crossingMs;
  return { kind: 'crossing', crossingMs, inMs, slopePerMin: modelSlopePerMin, current: modelCurrent, confidence, earliestMs, latestMs, model };
}

function meanAndSxx(t: Float64Array, from: number, to: number): { mean: number; sxx: number } {
  let mean = 0;
  for (let i = from; i <= to; i++) mean += t[i];
  mean /= to - from + 1;
  let sxx = 0;
  for (let i = from; i <= to; i++) sxx += (t[i] - mean) * (t[i] - mean);
  return { mean, sxx };
}

/** Out-of-order input is unusual (a replayed buffer); sort a copy back into the scratch arrays. */
function sortByTime(t: Float64Array, v: Float64Array, n: number): void {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a] - t[b]);
  const ts = order.map((i) => t[i]);
  const vs = order.map((i) => v[i]);
  for (let i = 0; i < n; i++) {
    t[i] = ts[i];
    v[i] = vs[i];
  }
}
