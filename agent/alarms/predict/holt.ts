/**
 * Holt's double exponential smoothing (level + trend) as a pure state machine — an alternative
 * predictor to the Theil–Sen window: O(1) per sample and no window to keep, but no significance test,
 * so on a noisy tag it reacts to noise that Theil–Sen would call 'no-trend'. Prefer it for smooth,
 * slowly varying signals, or pair it with an on-delay in the alarm rule.
 *
 * Irregular time steps: the trend is kept per millisecond, so the one-step forecast over a gap of Δt
 * is level + trend·Δt, and the trend update divides the level change by the actual Δt (Wright 1986).
 * With `stepMs`, alpha and beta are the weights for a step of that length and are scaled to the actual
 * step as 1 − (1 − w)^(Δt/stepMs); without it every sample weighs the same whatever the gap.
 * The second sample initialises the trend as the slope between the first two.
 */
import type { CrossingDirection, CrossingEstimate, NoPrediction } from './types.js';

export interface HoltState {
  /** Samples absorbed. */
  n: number;
  /** Time of the last absorbed sample (ms). */
  tMs: number;
  level: number;
  trendPerMs: number;
}

export interface HoltOptions {
  /** Level smoothing weight, 0 < alpha ≤ 1. */
  alpha: number;
  /** Trend smoothing weight, 0 < beta ≤ 1. */
  beta: number;
  /** The step alpha and beta are meant for (ms); when given, weights scale with the actual step. */
  stepMs?: number;
}

export function holtInit(): HoltState {
  return { n: 0, tMs: Number.NaN, level: Number.NaN, trendPerMs: 0 };
}

/** Absorb one sample. Non-finite values and samples not later than the last one are ignored (state returned as is). */
export function holtUpdate(state: HoltState, tMs: number, value: number, options: HoltOptions): HoltState {
  if (!Number.isFinite(value) || !Number.isFinite(tMs)) return state;
  if (state.n === 0) return { n: 1, tMs, level: value, trendPerMs: 0 };
  const dt = tMs - state.tMs;
  if (!(dt > 0)) return state;
  if (state.n === 1) return { n: 2, tMs, level: value, trendPerMs: (value - state.level) / dt };
  const alpha = scaleWeight(options.alpha, dt, options.stepMs);
  const beta = scaleWeight(options.beta, dt, options.stepMs);
  const level = alpha * value + (1 - alpha) * (state.level + state.trendPerMs * dt);
  const trendPerMs = (beta * (level - state.level)) / dt + (1 - beta) * state.trendPerMs;
  return { n: state.n + 1, tMs, level, trendPerMs };
}

function scaleWeight(w: number, dt: number, stepMs: number | undefined): number {
  if (stepMs === undefined || stepMs <= 0) return w;
  return 1 - Math.pow(1 - w, dt / stepMs);
}

/**
 * When the smoothed trend, extrapolated from the last sample, reaches the threshold.
 * 'too-few-points' below 3 samples; 'already-crossed' when the level is at or beyond the threshold;
 * 'no-trend' for a zero trend and 'wrong-direction' for one heading away; 'beyond-horizon' past horizonMs.
 */
export function holtForecastCrossing(state: HoltState, threshold: number, direction: CrossingDirection, horizonMs: number): CrossingEstimate | NoPrediction {
  if (state.n < 3) return { kind: 'none', reason: 'too-few-points' };
  const sign = direction === 'rising' ? 1 : -1;
  const slopePerMin = state.trendPerMs * 60_000;
  const gap = sign * (threshold - state.level);
  if (gap <= 0) return { kind: 'none', reason: 'already-crossed', slopePerMin };
  const toward = sign * state.trendPerMs;
  if (toward === 0) return { kind: 'none', reason: 'no-trend', slopePerMin };
  if (toward < 0) return { kind: 'none', reason: 'wrong-direction', slopePerMin };
  const inMs = gap / toward;
  if (inMs > horizonMs) return { kind: 'none', reason: 'beyond-horizon', slopePerMin };
  return { kind: 'crossing', crossingMs: state.tMs + inMs, inMs, slopePerMin, current: state.level };
}
