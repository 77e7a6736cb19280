/**
 * Facility KPIs at the edge: IT load, facility power, PUE and cooling power per kW of IT load,
 * from meters the configuration names, and per-device energy counters (kWh).
 *
 * Meters are named "device.tag" (for example "ups-1.output_power_kw") and looked up in the latest
 * values. A sum is null when any named meter has no value: a partial sum would understate the load
 * and make PUE look better than it is. A name listed twice is counted once.
 */
import type { Quality } from '../../core/quality.js';
import { advanceChain, assertIntegrationOptions, usableValue, type IntegrationOptions } from './integrate.js';
import { isFiniteNumber, type MaybeNumber } from './numbers.js';

/** Latest values by "device.tag": a Map, or a plain object. Null or absent: no good value now. */
export type MeterValues = ReadonlyMap<string, number | null> | Readonly<Record<string, number | null | undefined>>;

export interface FacilityMeters {
  /** Meters whose sum is the IT load (typically the UPS outputs and any IT feeds not on a UPS). */
  itMeters: readonly string[];
  /** Meters whose sum is the whole facility's power (typically the utility incomers). */
  facilityMeters: readonly string[];
  /** Meters whose sum is the cooling plant's power (chillers, towers, pumps, CRAHs); optional. */
  coolingMeters?: readonly string[];
}

export interface KpiOptions {
  /** Ratios over IT power are null while the IT load is below this (kW, default 1). */
  minItKw?: number;
}

export const DEFAULT_MIN_IT_KW = 1;

export interface FacilityKpis {
  itLoadKw: number | null;
  facilityPowerKw: number | null;
  coolingPowerKw: number | null;
  pue: number | null;
  coolingKwPerItKw: number | null;
}

/** Sum of the named meters (kW); null when the list is empty or any meter has no finite value. */
export function sumMetersKw(values: MeterValues, meterNames: readonly string[]): number | null {
  if (meterNames.length === 0) return null;
  let sum = 0;
  for (const name of new Set(meterNames)) {
    const v = lookup(values, name);
    if (!isFiniteNumber(v)) return null;
    sum += v;
  }
  return sum;
}

export function itLoadKw(values: MeterValues, itMeters: readonly string[]): number | null {
  return sumMetersKw(values, itMeters);
}

export function facilityPowerKw(values: MeterValues, facilityMeters: readonly string[]): number | null {
  return sumMetersKw(values, facilityMeters);
}

/**
 * Power usage effectiveness = facility power ÷ IT power (The Green Grid; ISO/IEC 30134-2 defines
 * it over energy — feed this function kWh from the energy counters for the reportable figure, kW
 * for the live one). Null for a missing value or IT power below `minItKw`. Below 1 it is reported,
 * not hidden: it means the meters are misnamed (the facility meters do not include the IT load).
 */
export function pue(facilityKw: MaybeNumber, itKw: MaybeNumber, options: KpiOptions = {}): number | null {
  return ratioOverIt(facilityKw, itKw, options);
}

/** Cooling power per kW of IT load (kW/kW, the cooling part of PUE − 1). Null as for pue(). */
export function coolingKwPerItKw(coolingKw: MaybeNumber, itKw: MaybeNumber, options: KpiOptions = {}): number | null {
  return ratioOverIt(coolingKw, itKw, options);
}

export function facilityKpis(values: MeterValues, meters: FacilityMeters, options: KpiOptions = {}): FacilityKpis {
  const it = itLoadKw(values, meters.itMeters);
  const facility = facilityPowerKw(values, meters.facilityMeters);
  const cooling = meters.coolingMeters === undefined ? null : sumMetersKw(values, meters.coolingMeters);
  return {
    itLoadKw: it,
    facilityPowerKw: facility,
    coolingPowerKw: cooling,
    pue: pue(facility, it, options),
    coolingKwPerItKw: coolingKwPerItKw(cooling, it, options),
  };
}

function ratioOverIt(numeratorKw: MaybeNumber, itKw: MaybeNumber, options: KpiOptions): number | null {
  const minItKw = options.minItKw ?? DEFAULT_MIN_IT_KW;
  if (!isFiniteNumber(numeratorKw) || !isFiniteNumber(itKw)) return null;
  if (itKw < minItKw || itKw <= 0) return null;
  return numeratorKw / itKw;
}

function lookup(values: MeterValues, name: string): number | null | undefined {
  if (values instanceof Map) return values.get(name);
  const record = values as Readonly<Record<string, number | null | undefined>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/**
 * An energy counter (kWh) for one power signal: a pure state machine, serialisable, so it can be
 * saved and survive a restart. The total is reset-free and monotonic — it only ever grows; the
 * energy of a period is the difference of two snapshots, as with a utility meter's register.
 * - trapezoid rule between consecutive usable samples, irregular steps allowed;
 * - no integration across a gap longer than `maxGapMs`, nor across a bad (or, by default,
 *   uncertain) value — see integrate.ts; `coveredMs` says how much time the total really covers;
 * - negative power (export, or a meter's zero offset) counts as 0 kW: the counter is import-only.
 * Feeding it reported rather than polled readings (report-by-exception), set `maxGapMs` above the
 * tag's heartbeat (maxSilenceMs), or a steady load would never be counted.
 */
export interface EnergyCounter {
  totalKwh: number;
  coveredMs: number;
  lastMs: number | null;
  lastKw: number | null;
}

export interface PowerSample {
  tMs: number;
  kw: MaybeNumber;
  /** Absent means good. */
  quality?: Quality;
}

/** 15 minutes: longer than any poll interval or heartbeat a power meter would have. */
export const DEFAULT_ENERGY_MAX_GAP_MS = 15 * 60_000;

/** A new counter, optionally continuing a saved total (kWh ≥ 0). */
export function newEnergyCounter(startKwh = 0): EnergyCounter {
  if (!(isFiniteNumber(startKwh) && startKwh >= 0)) throw new Error(`energy counter: startKwh must be a number ≥ 0, got ${String(startKwh)}`);
  return { totalKwh: startKwh, coveredMs: 0, lastMs: null, lastKw: null };
}

/** The counter after one more sample; the same object when the sample is ignored (not later than the last). */
export function energyCounterStep(
  counter: EnergyCounter,
  sample: PowerSample,
  options: IntegrationOptions = { maxGapMs: DEFAULT_ENERGY_MAX_GAP_MS },
): EnergyCounter {
  assertIntegrationOptions('energy counter', options);
  const kw = usableValue(sample.kw, sample.quality, options);
  const step = advanceChain({ lastMs: counter.lastMs, lastValue: counter.lastKw }, sample.tMs, kw === null ? null : Math.max(kw, 0), options.maxGapMs);
  if (step.kind === 'ignored') return counter;
  return {
    totalKwh: counter.totalKwh + step.area,
    coveredMs: counter.coveredMs + step.coveredMs,
    lastMs: step.lastMs,
    lastKw: step.lastValue,
  };
}
