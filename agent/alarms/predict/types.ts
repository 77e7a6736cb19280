/** Shared shapes of the predictors' answers. */

/** Which way the value must move to reach the threshold. */
export type CrossingDirection = 'rising' | 'falling';

/** A predicted threshold crossing (the common part of every predictor's answer). */
export interface CrossingEstimate {
  kind: 'crossing';
  /** When the trend reaches the threshold (ms since epoch, the caller's clock). */
  crossingMs: number;
  /** crossingMs − now. */
  inMs: number;
  /** The trend's slope now, signed, in value units per minute. */
  slopePerMin: number;
  /** The trend's value now. */
  current: number;
}

export type NoPredictionReason =
  | 'too-few-points'
  | 'quality'
  | 'no-trend'
  | 'wrong-direction'
  | 'beyond-horizon'
  | 'flattening'
  | 'already-crossed';

export interface NoPrediction {
  kind: 'none';
  reason: NoPredictionReason;
  /** What the fit saw, when it got that far (for status pages and backtests). */
  slopePerMin?: number;
  confidence?: number;
}
