/**
 * Anomaly detection against a learned normal: an exponentially weighted mean and variance per signal,
 * and the z-score of each new value against them. Pure state machine; the state is three numbers, so
 * it is cheap to keep per tag and to persist.
 *
 * - Recursive EWMA (West 1979 / Finch 2009): d = x − mean; mean += a·d; variance = (1 − a)·(variance + a·d²).
 * - Warm-up: while n < warmupSamples the detector is `learning` and never reports an anomaly. During
 *   learning the weight is a = max(alpha, 1/(n+1)), so the first samples form a plain running mean and
 *   (population) variance instead of an estimate biased towards the first value.
 * - The z-score uses the state BEFORE the value is absorbed, so a single outlier cannot mask itself by
 *   pulling the mean and widening the variance first.
 * - An anomalous value is absorbed with the weight alpha·anomalyWeight (default 0: not at all) and only
 *   into the mean, never into the variance — so a fault does not quickly become "normal". With the
 *   default a persistent shift stays anomalous until the value returns or the model is reset (an
 *   operator decision); with anomalyWeight w > 0 a step of k·σ is accepted after about
 *   ln(k/zThreshold)/(alpha·w) samples.
 * - After warm-up, normal values are absorbed Huber-style: the deviation is clipped to ±2σ before it
 *   updates mean and variance (the variance term divided by 0.9206 = E[min(Z², 4)] so Gaussian noise
 *   still gives an unbiased σ). Without it the few samples of a persistent fault that fall just under
 *   the threshold (z ≈ 3.9) would each add α·15σ² to the variance, and a handful of them would widen σ
 *   until the whole fault looked normal. A shift only just above the threshold still leaks in this
 *   way (a share of its samples falls below it), and a short memory (alpha above ~0.01) estimates σ
 *   loosely: give alpha a memory of a few hundred samples and zThreshold some margin below the faults
 *   that matter.
 * - A perfectly constant history has zero variance; `minStd` (for example the sensor's resolution)
 *   floors the standard deviation so the first quantisation step is not an infinite z.
 *
 * Relations (residual anomalies): feed the detector `actual − expected` rather than the raw value,
 * where `expected` comes from a simple equipment model. Example — a chiller's electrical power against
 * its cooling load: expected kW = kWPerTon · loadTons (from the design kW/ton, or a fit over a
 * known-good week). The raw kW swings with the load all day and would be "anomalous" at every load
 * change; the residual stays near zero whatever the load, and condenser fouling — more kW for the same
 * tons — moves the residual and nothing else:
 *
 *   const r = residualAnomalyUpdate(state, chillerKw, 0.62 * loadTons, { alpha: 0.01, warmupSamples: 600, zThreshold: 5 });
 */

export interface EwmaState {
  /** Samples learned from (anomalies absorbed with a reduced weight do not count). */
  n: number;
  mean: number;
  variance: number;
}

export interface EwmaOptions {
  /** Weight of a new normal sample, 0 < alpha ≤ 1 (memory ≈ 1/alpha samples). */
  alpha: number;
  /** No anomaly is reported before this many samples have been learned. */
  warmupSamples: number;
  /** |z| above this is anomalous. */
  zThreshold: number;
  /** Share of alpha with which an anomalous value moves the mean, 0..1. Default 0 (not learned). */
  anomalyWeight?: number;
  /** Floor on the standard deviation used for z. Default 0. */
  minStd?: number;
}

export interface EwmaResult {
  state: EwmaState;
  /** (value − mean)/std against the state before this value; 0 before two samples were learned. */
  z: number;
  anomalous: boolean;
  learning: boolean;
}

const HUBER_K = 2;
/** E[min(Z², HUBER_K²)] for a standard normal Z. */
const HUBER_CONSISTENCY = 0.9206;

export function ewmaInit(): EwmaState {
  return { n: 0, mean: 0, variance: 0 };
}

export function ewmaUpdate(state: EwmaState, value: number, options: EwmaOptions): EwmaResult {
  if (!Number.isFinite(value)) return { state, z: 0, anomalous: false, learning: state.n < options.warmupSamples };
  const learning = state.n < options.warmupSamples;
  const std = Math.max(Math.sqrt(state.variance), options.minStd ?? 0);
  const diff = value - state.mean;
  let z: number;
  if (state.n < 2) z = 0;
  else if (std > 0) z = diff / std;
  else z = diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  const anomalous = !learning && Math.abs(z) > options.zThreshold;

  if (anomalous) {
    const a = options.alpha * (options.anomalyWeight ?? 0);
    if (a <= 0) return { state, z, anomalous, learning };
    return { state: { n: state.n, mean: state.mean + a * diff, variance: state.variance }, z, anomalous, learning };
  }
  if (learning) {
    const a = Math.max(options.alpha, 1 / (state.n + 1));
    const incr = a * diff;
    return { state: { n: state.n + 1, mean: state.mean + incr, variance: (1 - a) * (state.variance + diff * incr) }, z, anomalous, learning };
  }
  const a = options.alpha;
  const limit = HUBER_K * std;
  const clipped = std > 0 ? Math.max(-limit, Math.min(limit, diff)) : diff;
  return {
    state: { n: state.n + 1, mean: state.mean + a * clipped, variance: (1 - a) * (state.variance + (a * clipped * clipped) / HUBER_CONSISTENCY) },
    z,
    anomalous,
    learning,
  };
}

/** The same detector on a relation: the residual `actual − expected` (see the example above). */
export function residualAnomalyUpdate(state: EwmaState, actual: number, expected: number, options: EwmaOptions): EwmaResult {
  return ewmaUpdate(state, actual - expected, options);
}
