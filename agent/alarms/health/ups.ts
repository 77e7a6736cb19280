/**
 * UPS health as calculated tags: conversion efficiency, battery runtime at the present load, and
 * the battery's state-of-health trend. Pure functions (see numbers.ts for null and undefined).
 *
 * Signals, as named in config/profiles/ups.yaml:
 *   inputKw ← input_power_kw, outputKw ← output_power_kw, socPct ← battery_soc_pct,
 *   sohPct ← battery_health_pct.
 */
import { finiteOrNull, isFiniteNumber, MS_PER_DAY, type MaybeNumber } from './numbers.js';

export const DEFAULT_UPS_MIN_INPUT_FRACTION = 0.01;

export interface UpsRating {
  /** Rated output power (kW): 1600 kW for the profile's UPS. */
  ratedKw: number;
  /** Efficiency is null while the input is below this share of the rating (default 0.01). */
  minInputFraction?: number;
}

/**
 * Efficiency = output kW ÷ input kW, in percent. Null when either is missing, the output is
 * negative, or the input is below `minInputFraction` of the rating: on battery the input is ~0
 * and the ratio means nothing, and at a few kW the meters' offsets dominate.
 * The input meter also carries the battery's float charge, so this reads a little (about 0.1 %
 * point) below a UPS's own efficiency figure, which usually leaves the charger out; it is the
 * number that matters for the facility's energy bill. Not clamped at 100 %: a value above it shows
 * that the two meters disagree.
 */
export function upsEfficiencyPct(inputs: { inputKw: MaybeNumber; outputKw: MaybeNumber }, rating: UpsRating): number | null {
  assertPositive('UPS rating', 'ratedKw', rating.ratedKw);
  const { inputKw, outputKw } = inputs;
  if (!isFiniteNumber(inputKw) || !isFiniteNumber(outputKw) || outputKw < 0) return null;
  const minInputKw = (rating.minInputFraction ?? DEFAULT_UPS_MIN_INPUT_FRACTION) * rating.ratedKw;
  if (inputKw < minInputKw || inputKw <= 0) return null;
  return (outputKw / inputKw) * 100;
}

/**
 * Battery runtime model (power form of Peukert's law):
 *   P_dc   = output kW ÷ inverter efficiency
 *   E      = rated energy · SoC · SoH
 *   t (h)  = (E ÷ P_dc) · (P_ref ÷ P_dc)^(k − 1)
 * where the rated energy is what a new, full battery delivers when discharged at P_ref. At
 * P_dc = P_ref this is plain energy ÷ power; at lighter load the battery gives more than its
 * rated energy (k > 1), at heavier load less. Lead-acid (VRLA) batteries have k ≈ 1.1–1.3.
 *
 * Limits — it is an estimate for trending and alarms, not a guarantee of autonomy:
 * - it ignores battery temperature (capacity falls ~1 %/K below 25 °C), the end-of-discharge
 *   voltage, the recovery effect and the inverter's efficiency curve;
 * - SoC and SoH are the UPS's own estimates and inherit their errors; an SoH from a recent
 *   discharge test is worth far more than one inferred from float current;
 * - Peukert extrapolates poorly far from P_ref: below ~10 % or above ~125 % of P_ref treat it as
 *   an order of magnitude.
 */
export interface BatteryModel {
  /** Energy a new, fully charged battery delivers at referencePowerKw (kWh). */
  ratedEnergyKwh: number;
  /** P_ref: the DC discharge power at which ratedEnergyKwh is stated (kW). */
  referencePowerKw: number;
  /** k ≥ 1 (default 1.15). 1 means the battery's energy does not depend on the discharge rate. */
  peukertExponent?: number;
  /** DC → AC efficiency of the inverter while on battery, 0..1 (default 0.975). */
  inverterEfficiency?: number;
  /** Runtime is null below this share of referencePowerKw (default 0.01): no load, no meaningful runtime. */
  minLoadFraction?: number;
}

export const DEFAULT_PEUKERT_EXPONENT = 1.15;
export const DEFAULT_INVERTER_EFFICIENCY = 0.975;
export const DEFAULT_BATTERY_MIN_LOAD_FRACTION = 0.01;

export interface BatteryRuntimeInputs {
  /** UPS output power, the load the battery would carry (kW). */
  outputKw: MaybeNumber;
  /** State of charge (%, 0..100). */
  socPct: MaybeNumber;
  /** State of health (%, 0..100); undefined when the UPS reports none (then 100 % is assumed). */
  sohPct?: MaybeNumber;
}

/** Minutes of runtime on battery at the present load; null on missing or out-of-range inputs. */
export function batteryRuntimeMin(inputs: BatteryRuntimeInputs, model: BatteryModel): number | null {
  assertPositive('battery model', 'ratedEnergyKwh', model.ratedEnergyKwh);
  assertPositive('battery model', 'referencePowerKw', model.referencePowerKw);
  const k = model.peukertExponent ?? DEFAULT_PEUKERT_EXPONENT;
  const eta = model.inverterEfficiency ?? DEFAULT_INVERTER_EFFICIENCY;
  if (!(isFiniteNumber(k) && k >= 1)) throw new Error(`battery model: peukertExponent must be ≥ 1, got ${String(k)}`);
  if (!(isFiniteNumber(eta) && eta > 0 && eta <= 1)) throw new Error(`battery model: inverterEfficiency must be in (0, 1], got ${String(eta)}`);

  const { outputKw, socPct } = inputs;
  const sohPct = inputs.sohPct === undefined ? 100 : inputs.sohPct;
  if (!isFiniteNumber(outputKw) || !isPercent(socPct) || !isPercent(sohPct)) return null;
  const dcKw = outputKw / eta;
  const minLoadKw = (model.minLoadFraction ?? DEFAULT_BATTERY_MIN_LOAD_FRACTION) * model.referencePowerKw;
  if (dcKw < minLoadKw || dcKw <= 0) return null;
  const energyKwh = model.ratedEnergyKwh * (socPct / 100) * (sohPct / 100);
  const hours = (energyKwh / dcKw) * (model.referencePowerKw / dcKw) ** (k - 1);
  return finiteOrNull(hours * 60);
}

export interface HealthPoint {
  tMs: number;
  sohPct: MaybeNumber;
}

export interface BatteryHealthTrendOptions {
  /** SoH at which the battery is due for replacement (%, default 80 — IEEE 1188 for VRLA). */
  replaceAtPct?: number;
  /** Fewest usable points for a trend (default 3, at least 3). */
  minPoints?: number;
  /** Shortest span from the first to the last usable point (ms, default 7 days): SoH moves slowly. */
  minSpanMs?: number;
}

export interface BatteryHealthTrend {
  /** Least-squares slope of SoH over time, in % per 30 days (negative: declining). */
  slopePctPer30Days: number;
  /** The fitted SoH at the newest point (%), less noisy than the last raw value. */
  fittedLatestPct: number;
  /**
   * When the fitted line reaches `replaceAtPct` (ms since epoch); null when SoH is not declining.
   * In the past when the fitted SoH is already below the threshold.
   */
  projectedReplacementMs: number | null;
  /** Standard deviation of the residuals (%): how well a straight line describes the window. */
  residualStdPct: number;
  points: number;
  spanMs: number;
}

export const DEFAULT_REPLACE_AT_PCT = 80;
export const DEFAULT_TREND_MIN_POINTS = 3;
export const DEFAULT_TREND_MIN_SPAN_MS = 7 * MS_PER_DAY;

/**
 * Ordinary least-squares line through the window's (time, SoH) points. Points whose SoH is
 * missing or outside 0..100, or whose time is not finite, are skipped; the order of the points
 * does not matter. Null when fewer than `minPoints` usable points remain or they span less than
 * `minSpanMs`.
 */
export function batteryHealthTrend(points: readonly HealthPoint[], options: BatteryHealthTrendOptions = {}): BatteryHealthTrend | null {
  const replaceAtPct = options.replaceAtPct ?? DEFAULT_REPLACE_AT_PCT;
  const minPoints = Math.max(3, options.minPoints ?? DEFAULT_TREND_MIN_POINTS);
  const minSpanMs = options.minSpanMs ?? DEFAULT_TREND_MIN_SPAN_MS;

  const usable = points.filter((p) => isFiniteNumber(p.tMs) && isPercent(p.sohPct)) as { tMs: number; sohPct: number }[];
  if (usable.length < minPoints) return null;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const p of usable) {
    firstMs = Math.min(firstMs, p.tMs);
    lastMs = Math.max(lastMs, p.tMs);
  }
  const spanMs = lastMs - firstMs;
  if (spanMs <= 0 || spanMs < minSpanMs) return null;

  // x in days since the first point, centred on its mean: well conditioned for any epoch.
  const n = usable.length;
  let meanX = 0;
  let meanY = 0;
  for (const p of usable) {
    meanX += (p.tMs - firstMs) / MS_PER_DAY;
    meanY += p.sohPct;
  }
  meanX /= n;
  meanY /= n;
  let sxx = 0;
  let sxy = 0;
  for (const p of usable) {
    const dx = (p.tMs - firstMs) / MS_PER_DAY - meanX;
    sxx += dx * dx;
    sxy += dx * (p.sohPct - meanY);
  }
  const slopePerDay = sxy / sxx;
  const fitAt = (tMs: number) => meanY + slopePerDay * ((tMs - firstMs) / MS_PER_DAY - meanX);
  let sse = 0;
  for (const p of usable) sse += (p.sohPct - fitAt(p.tMs)) ** 2;

  const fittedLatestPct = fitAt(lastMs);
  let projectedReplacementMs: number | null = null;
  if (slopePerDay < 0 && isFiniteNumber(replaceAtPct)) {
    const days = (replaceAtPct - fittedLatestPct) / slopePerDay;
    projectedReplacementMs = finiteOrNull(lastMs + days * MS_PER_DAY);
  }
  return {
    slopePctPer30Days: slopePerDay * 30,
    fittedLatestPct,
    projectedReplacementMs,
    residualStdPct: Math.sqrt(sse / (n - 2)),
    points: n,
    spanMs,
  };
}

function isPercent(x: MaybeNumber): x is number {
  return isFiniteNumber(x) && x >= 0 && x <= 100;
}

function assertPositive(what: string, key: string, x: number): void {
  if (!(isFiniteNumber(x) && x > 0)) throw new Error(`${what}: ${key} must be a positive number, got ${String(x)}`);
}
