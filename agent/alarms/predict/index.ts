/** Predictive alarms' pure building blocks: robust trends, time-to-threshold, Holt, EWMA anomalies. */
export type { CrossingDirection, CrossingEstimate, NoPrediction, NoPredictionReason } from './types.js';
export { theilSen, trendValueAt, slopePositiveConfidence, type TheilSenFit, type TheilSenOptions } from './theil-sen.js';
export { predictCrossing, type CrossingPrediction, type PredictCrossingOptions, type TrendPoint } from './time-to-threshold.js';
export { holtInit, holtUpdate, holtForecastCrossing, type HoltOptions, type HoltState } from './holt.js';
export { ewmaInit, ewmaUpdate, residualAnomalyUpdate, type EwmaOptions, type EwmaResult, type EwmaState } from './ewma-anomaly.js';
export { normalCdf, normalQuantile } from './normal.js';
