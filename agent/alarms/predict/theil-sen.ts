/**
 * Robust linear trend of (tMs, value) points: the Theil–Sen estimator.
 *
 * - slope: the median of all pairwise slopes (v_j − v_i)/(t_j − t_i); pairs with equal times are skipped.
 *   Up to 29 % of the points can be arbitrary outliers before the slope breaks down (least squares: one).
 * - intercept: the median of v_i − slope·(t_i − originMs), i.e. the fitted value at `originMs`.
 * - slope confidence interval: Sen's (1968) rank-based interval. With S = Kendall's statistic
 *   (number of rising pairs minus falling pairs), N pairwise slopes, Var(S) = n(n−1)(2n+5)/18 and
 *   C = z(1−(1−ciLevel)/2)·√Var(S), the bounds are the ordered slopes of rank (N−C)/2 and (N+C)/2+1
 *   (1-based; ranks rounded outwards). Beyond the available ranks the bound is ±Infinity.
 * - Mann–Kendall z = (S − sign S)/√Var(S): how strongly the data say "rising" (z > 0) or "falling";
 *   Φ(z) is the confidence that the slope is positive. The interval and z use the same variance, so
 *   "the interval excludes 0" and "Φ(±z) ≥ 1 − (1−ciLevel)/2" agree (up to rank rounding).
 * - Serial correlation: residuals of slowly varying plant signals are rarely independent, and
 *   positively correlated residuals make Kendall's S look far more significant than it is. With
 *   `serialCorrection` (default on) Var(S) is multiplied by (1+r1)/(1−r1), r1 = the lag-1
 *   autocorrelation of the least-squares residuals (least squares so that the trend decision needs
 *   no Theil–Sen fit), clamped to [0, 0.9] (the AR(1) effective-sample-size correction, after Hamed &
 *   Rao 1998, simplified to lag 1). White noise leaves it ≈ 1; curvature left in the
 *   residuals (a trend that bends) widens the interval, which is what we want for alarms.
 *   Ties in the values are not corrected for, which only widens the interval (conservative).
 * - residual scale: 1.4826 · median |residual| (the MAD, scaled to σ for Gaussian noise).
 *
 * Cost: O(n²) pairwise slopes in a reused scratch buffer, then the median by in-place selection
 * (expected linear, branch-free partitions; select.ts) and, only when asked, both interval ranks by
 * selection within the two halves the median left — never a full sort. Whether the interval
 * excludes 0 follows from counts of negative and zero slopes against Sen's ranks, so `kendallTrend`
 * answers "is there a trend?" with sign comparisons only. Above `maxPoints`
 * (default 200, ≈ 20k pairs) an evenly spaced subsample is used (deterministic: indices
 * round(k·(n−1)/(m−1)), first and last kept), so the cost is bounded whatever the window holds.
 */
import { normalCdf, normalQuantile } from './normal.js';
import { medianInPlace, selectInPlace } from './select.js';

export interface TheilSenOptions {
  /** Two-sided confidence level of the slope interval, 0 < ciLevel < 1. Default 0.95. */
  ciLevel?: number;
  /** Above this many points an evenly spaced subsample of this size is used. Default 200, minimum 3. */
  maxPoints?: number;
  /** Time at which `intercept` is the fitted value. Default: the last point's time. */
  originMs?: number;
  /** Widen Var(S) for positively autocorrelated residuals (see above). Default true. */
  serialCorrection?: boolean;
}

export interface TheilSenFit {
  /** Points used (after subsampling). */
  n: number;
  originMs: number;
  slopePerMs: number;
  /** Fitted value at originMs. */
  intercept: number;
  /** Slope interval at `ciLevel`; −Infinity / +Infinity when too few points to bound it. */
  slopeLowPerMs: number;
  slopeHighPerMs: number;
  ciLevel: number;
  /** Mann–Kendall z (with the serial correction applied); normalCdf(z) = confidence that the slope is > 0. */
  mannKendallZ: number;
  /** 1.4826 · MAD of the residuals (σ for Gaussian noise). */
  residualScale: number;
  /** Lag-1 autocorrelation of the least-squares residuals (unclamped). */
  residualLag1: number;
}

export const DEFAULT_MAX_POINTS = 200;

/**
 * Fit a Theil–Sen trend. `tMs` and `values` are parallel, finite and in ascending time order
 * (the order matters only for the serial correction). Returns undefined when fewer than 3 points or
 * fewer than 2 distinct times.
 */
export function theilSen(tMs: ArrayLike<number>, values: ArrayLike<number>, options: TheilSenOptions = {}): TheilSenFit | undefined {
  if (tMs.length !== values.length) throw new Error(`theilSen: ${tMs.length} times but ${values.length} values`);
  const n = tMs.length;
  if (n < 3) return undefined;
  const maxPoints = Math.max(3, Math.floor(options.maxPoints ?? DEFAULT_MAX_POINTS));
  const originMs = options.originMs ?? tMs[n - 1];
  const m = Math.min(n, maxPoints);
  const t = new Float64Array(m);
  const v = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const i = m === n ? k : Math.round((k * (n - 1)) / (m - 1));
    t[k] = tMs[i] - originMs;
    v[k] = values[i];
  }
  const ciLevel = options.ciLevel ?? 0.95;
  const fit = fitLine(t, v, 0, m - 1);
  if (!fit) return undefined;
  const trend = kendallStatsOf(fit, t, v, 0, m - 1, ciZ(ciLevel), options.serialCorrection ?? true);
  const interval = slopeInterval(fit, trend);
  return {
    n: m,
    originMs,
    slopePerMs: fit.slope,
    intercept: fit.intercept,
    slopeLowPerMs: interval.low,
    slopeHighPerMs: interval.high,
    ciLevel,
    mannKendallZ: trend.z,
    residualScale: fit.residualScale,
    residualLag1: trend.lag1,
  };
}

/** The fitted trend value at tMs. */
export function trendValueAt(fit: Pick<TheilSenFit, 'originMs' | 'slopePerMs' | 'intercept'>, tMs: number): number {
  return fit.intercept + fit.slopePerMs * (tMs - fit.originMs);
}

/** Confidence (0..1) that the true slope is positive: Φ(Mann–Kendall z). */
export function slopePositiveConfidence(fit: Pick<TheilSenFit, 'mannKendallZ'>): number {
  return normalCdf(fit.mannKendallZ);
}

/** z(1 − (1−ciLevel)/2), checked. */
export function ciZ(ciLevel: number): number {
  if (!(ciLevel > 0 && ciLevel < 1)) throw new RangeError(`theilSen: ciLevel must lie strictly between 0 and 1, got ${ciLevel}`);
  return normalQuantile(1 - (1 - ciLevel) / 2);
}

// ---- internal: the fit over a range of scratch arrays (times already relative to the origin) ----

/** Kendall's statistic over t[from..to], v[from..to], and Sen's interval ranks: everything the
 *  "is there a trend?" decision needs, from counts alone (no slope is stored or selected). */
export interface KendallTrend {
  n: number;
  /** Pairs with distinct times (N). */
  pairCount: number;
  /** Pairs whose slope is < 0, and = 0. */
  negative: number;
  zero: number;
  /** Mann–Kendall z with the serial correction. */
  z: number;
  /** Lag-1 autocorrelation of the least-squares residuals. */
  lag1: number;
  /** 0-based ranks of the interval bounds among the ascending slopes; lowRank0 < 0 means −Infinity,
   *  highRank0 ≥ pairCount means +Infinity. */
  lowRank0: number;
  highRank0: number;
}

/** True when the interval's lower bound is > 0: the non-positive slopes all rank below it. */
export function slopeLowIsPositive(k: KendallTrend): boolean {
  return k.lowRank0 >= 0 && k.negative + k.zero <= k.lowRank0;
}

/** True when the interval's upper bound is < 0: the negative slopes reach above its rank. */
export function slopeHighIsNegative(k: KendallTrend): boolean {
  return k.highRank0 < k.pairCount && k.negative > k.highRank0;
}

/**
 * The trend decision's statistics in one pass of sign comparisons (no division, no store): the cheap
 * path that a flat signal — most tags, most of the time — ends on. t must be ascending. Undefined if
 * fewer than 3 points or no two distinct times.
 */
export function kendallTrend(t: Float64Array, v: Float64Array, from: number, to: number, z: number, serialCorrection = true): KendallTrend | undefined {
  const n = to - from + 1;
  if (n < 3) return undefined;
  let distinctTimes = true;
  for (let i = from + 1; i <= to; i++) if (t[i] === t[i - 1]) distinctTimes = false;
  let pairCount = 0;
  let negative = 0;
  let zero = 0;
  if (distinctTimes) {
    // The usual case: every pair counts and dt > 0, so only the values are compared. Branch-free
    // counting: the signs of noise are random, and a mispredicted branch per pair would cost more
    // than the comparison itself.
    pairCount = (n * (n - 1)) / 2;
    for (let i = from; i < to; i++) {
      const vi = v[i];
      for (let j = i + 1; j <= to; j++) {
        const dv = v[j] - vi;
        negative += +(dv < 0);
        zero += +(dv === 0);
      }
    }
  } else {
    for (let i = from; i < to; i++) {
      const ti = t[i];
      const vi = v[i];
      for (let j = i + 1; j <= to; j++) {
        if (t[j] === ti) continue;
        pairCount++;
        const dv = v[j] - vi;
        negative += +(dv < 0);
        zero += +(dv === 0);
      }
    }
  }
  if (pairCount === 0) return undefined;
  return kendallStats(n, pairCount, negative, zero, leastSquaresLag1(t, v, from, to), z, serialCorrection);
}

function kendallStats(n: number, pairCount: number, negative: number, zero: number, lag1: number, ciZValue: number, serialCorrection: boolean): KendallTrend {
  const r = Math.min(0.9, Math.max(0, lag1));
  const inflation = serialCorrection ? (1 + r) / (1 - r) : 1;
  const sdS = Math.sqrt(((n * (n - 1) * (2 * n + 5)) / 18) * inflation);
  const s = pairCount - negative - zero - negative;
  const z = s === 0 ? 0 : (s - Math.sign(s)) / sdS;
  // Sen's interval: 1-based ranks (N−C)/2 and (N+C)/2 + 1, rounded outwards; 0-based here.
  const c = ciZValue * sdS;
  return {
    n,
    pairCount,
    negative,
    zero,
    z,
    lag1,
    lowRank0: Math.floor((pairCount - c) / 2) - 1,
    highRank0: Math.ceil((pairCount + c) / 2),
  };
}

/** Lag-1 autocorrelation of the residuals of a least-squares line, in time order (O(n)). The
 *  least-squares line is used so the decision needs no Theil–Sen fit; for the serial correction the
 *  two lines' residuals differ little. */
function leastSquaresLag1(t: Float64Array, v: Float64Array, from: number, to: number): number {
  const n = to - from + 1;
  let tm = 0;
  let vm = 0;
  for (let i = from; i <= to; i++) {
    tm += t[i];
    vm += v[i];
  }
  tm /= n;
  vm /= n;
  let stv = 0;
  let stt = 0;
  for (let i = from; i <= to; i++) {
    stv += (t[i] - tm) * (v[i] - vm);
    stt += (t[i] - tm) * (t[i] - tm);
  }
  const b = stt > 0 ? stv / stt : 0;
  let num = 0;
  let den = 0;
  let prev = v[from] - vm - b * (t[from] - tm);
  den += prev * prev;
  for (let i = from + 1; i <= to; i++) {
    const e = v[i] - vm - b * (t[i] - tm);
    num += prev * e;
    den += e * e;
    prev = e;
  }
  return den > 0 ? num / den : 0;
}

/** Result of fitLine; times relative to the caller's origin, so `intercept` is the value at t = 0. */
export interface LineFit {
  n: number;
  slope: number;
  intercept: number;
  residualScale: number;
  /** Pairs with distinct times, and how many of their slopes are < 0 and = 0 (for kendallStatsOf). */
  pairCount: number;
  negative: number;
  zero: number;
  /** Which fitLine call this was; slopeInterval needs the scratch buffer as this call left it. */
  generation: number;
}

// Scratch buffers reused across calls (single-threaded, no call re-enters): the hot path allocates
// only its small result objects. `generation` guards the one cross-call use (slopeInterval).
let pairScratch = new Float64Array(4096);
let pointScratch = new Float64Array(256);
let generation = 0;

/**
 * Theil–Sen slope, intercept and residual scale over t[from..to], v[from..to] (finite; any time
 * order). Undefined if fewer than 3 points or no two distinct times. The interval is a separate,
 * optional step (slopeInterval) so that a caller that stops at the slope does not pay for it.
 */
export function fitLine(t: Float64Array, v: Float64Array, from: number, to: number): LineFit | undefined {
  const n = to - from + 1;
  if (n < 3) return undefined;
  const maxPairs = (n * (n - 1)) / 2;
  if (pairScratch.length < maxPairs) pairScratch = new Float64Array(Math.max(maxPairs, pairScratch.length * 2));
  if (pointScratch.length < n) pointScratch = new Float64Array(Math.max(n, pointScratch.length * 2));
  generation++;
  const pairs = pairScratch;
  let count = 0;
  let negative = 0;
  let zero = 0;
  for (let i = from; i < to; i++) {
    const ti = t[i];
    const vi = v[i];
    for (let j = i + 1; j <= to; j++) {
      const dt = t[j] - ti;
      if (dt === 0) continue;
      const slope = (v[j] - vi) / dt;
      pairs[count++] = slope;
      negative += +(slope < 0);
      zero += +(slope === 0);
    }
  }
  if (count === 0) return undefined;
  // Leaves pairs[0..k-1] ≤ pairs[k] ≤ pairs[k+1..count-1], k = count >> 1 (used by slopeInterval).
  const slope = medianInPlace(pairs, 0, count - 1);

  // Intercept (value at t = 0) and the robust residual scale.
  const pts = pointScratch;
  for (let i = from; i <= to; i++) pts[i - from] = v[i] - slope * t[i];
  const intercept = medianInPlace(pts, 0, n - 1);
  for (let i = from; i <= to; i++) pts[i - from] = Math.abs(v[i] - intercept - slope * t[i]);
  const residualScale = 1.4826 * medianInPlace(pts, 0, n - 1);
  return { n, slope, intercept, residualScale, pairCount: count, negative, zero, generation };
}

/** Kendall statistics and Sen's ranks for a fit (same counts kendallTrend would find). */
export function kendallStatsOf(fit: LineFit, t: Float64Array, v: Float64Array, from: number, to: number, z: number, serialCorrection = true): KendallTrend {
  return kendallStats(fit.n, fit.pairCount, fit.negative, fit.zero, leastSquaresLag1(t, v, from, to), z, serialCorrection);
}

/**
 * Sen's interval bounds for the fit just made: the pairwise slopes of ranks trend.lowRank0 and
 * trend.highRank0, selected within the halves the median selection left. Must follow its fitLine
 * before any other fitLine call (checked).
 */
export function slopeInterval(fit: LineFit, trend: KendallTrend): { low: number; high: number } {
  if (fit.generation !== generation) throw new Error('slopeInterval: the pairwise slopes of this fit were overwritten by a later fitLine call');
  const pairs = pairScratch;
  const count = fit.pairCount;
  const kMed = count >> 1;
  let low: number;
  if (trend.lowRank0 < 0) low = -Infinity;
  else if (trend.lowRank0 >= kMed) low = pairs[kMed];
  else low = selectInPlace(pairs, 0, kMed - 1, trend.lowRank0);
  let high: number;
  if (trend.highRank0 > count - 1) high = Infinity;
  else if (trend.highRank0 <= kMed) high = pairs[kMed];
  else high = selectInPlace(pairs, kMed + 1, count - 1, trend.highRank0);
  return { low, high };
}
