/**
 * Chiller health as calculated tags: kW/ton, COP, evaporator and condenser approach, chilled-water
 * ΔT. Pure functions of one instant's values (see numbers.ts for null and undefined inputs).
 *
 * Signals, as named in config/profiles/chiller.yaml:
 *   powerKw ← power_kw (compressor input), coolingKw ← cooling_load_kw (evaporator duty),
 *   chwSupplyC ← chw_supply_temp, chwReturnC ← chw_return_temp, cwLeavingC ← cw_leaving_temp,
 *   evapSatC ← evap_sat_temp, condSatC ← cond_sat_temp, running ← running.
 *
 * When a result is null:
 * - any input it needs is null or not finite;
 * - `running` is false (an idle machine has no efficiency, and its refrigerant temperatures
 *   equalise, so approaches mean nothing), or null (the status itself is unknown). When the device
 *   has no run status at all, leave `running` undefined: the load thresholds below then decide;
 * - kW/ton and COP only: cooling below `minLoadFraction` (default 5 %) of the stated nominal
 *   capacity — at a few percent load the ratio is dominated by auxiliaries and meter error, and it
 *   runs to infinity as the load reaches zero; or input power below `minPowerFraction` (default
 *   1 %) of the nominal cooling capacity — a chiller delivering cooling on next to no power is a
 *   meter fault, not a COP of 100.
 * A rating without a positive nominal capacity is a configuration error and throws.
 * Approaches and ΔT are not clamped: a negative approach is physically impossible and shows a
 * sensor fault, which should stay visible.
 */
import { isFiniteNumber, type MaybeNumber } from './numbers.js';

/** One ton of refrigeration (12 000 BTU/h) in kW. */
export const KW_PER_TON_OF_REFRIGERATION = 3.51685;

export const DEFAULT_CHILLER_MIN_LOAD_FRACTION = 0.05;
export const DEFAULT_CHILLER_MIN_POWER_FRACTION = 0.01;

export interface ChillerRating {
  /** Nominal cooling capacity (kW), from the nameplate: 1760 kW (500 TR) for the profile's chiller. */
  nominalCoolingKw: number;
  /** Below this share of nominal cooling, kW/ton and COP are null (default 0.05). */
  minLoadFraction?: number;
  /** Below this input power, as a share of nominal cooling, kW/ton and COP are null (default 0.01). */
  minPowerFraction?: number;
}

export interface ChillerEfficiencyInputs {
  powerKw: MaybeNumber;
  coolingKw: MaybeNumber;
  running?: boolean | null;
}

export interface ChillerSignals extends ChillerEfficiencyInputs {
  chwSupplyC: MaybeNumber;
  chwReturnC: MaybeNumber;
  cwLeavingC: MaybeNumber;
  evapSatC: MaybeNumber;
  condSatC: MaybeNumber;
}

export interface ChillerHealth {
  kwPerTon: number | null;
  cop: number | null;
  evapApproachK: number | null;
  condApproachK: number | null;
  chwDeltaTK: number | null;
}

/** Input power per ton of refrigeration delivered: powerKw ÷ (coolingKw / 3.51685). Lower is better. */
export function chillerKwPerTon(inputs: ChillerEfficiencyInputs, rating: ChillerRating): number | null {
  const ok = efficiencyInputs(inputs, rating);
  return ok === null ? null : ok.powerKw / (ok.coolingKw / KW_PER_TON_OF_REFRIGERATION);
}

/** Coefficient of performance: coolingKw ÷ powerKw (dimensionless). Higher is better; COP = 3.51685 / (kW/ton). */
export function chillerCop(inputs: ChillerEfficiencyInputs, rating: ChillerRating): number | null {
  const ok = efficiencyInputs(inputs, rating);
  return ok === null ? null : ok.coolingKw / ok.powerKw;
}

/** Evaporator approach: chilled-water supply − evaporator saturation (K). Grows with evaporator fouling or low charge. */
export function evaporatorApproachK(s: { chwSupplyC: MaybeNumber; evapSatC: MaybeNumber; running?: boolean | null }): number | null {
  return difference(s.chwSupplyC, s.evapSatC, s.running);
}

/** Condenser approach: condenser saturation − condenser water leaving (K). Grows with condenser tube fouling. */
export function condenserApproachK(s: { condSatC: MaybeNumber; cwLeavingC: MaybeNumber; running?: boolean | null }): number | null {
  return difference(s.condSatC, s.cwLeavingC, s.running);
}

/** Chilled-water ΔT: return − supply (K). A low ΔT at high load means too much flow or a bypass. */
export function chilledWaterDeltaTK(s: { chwReturnC: MaybeNumber; chwSupplyC: MaybeNumber; running?: boolean | null }): number | null {
  return difference(s.chwReturnC, s.chwSupplyC, s.running);
}

/** Every chiller health value at once, from one set of signals. */
export function chillerHealth(s: ChillerSignals, rating: ChillerRating): ChillerHealth {
  return {
    kwPerTon: chillerKwPerTon(s, rating),
    cop: chillerCop(s, rating),
    evapApproachK: evaporatorApproachK(s),
    condApproachK: condenserApproachK(s),
    chwDeltaTK: chilledWaterDeltaTK(s),
  };
}

function efficiencyInputs(inputs: ChillerEfficiencyInputs, rating: ChillerRating): { powerKw: number; coolingKw: number } | null {
  const nominal = rating.nominalCoolingKw;
  if (!(isFiniteNumber(nominal) && nominal > 0)) {
    throw new Error(`chiller rating: nominalCoolingKw must be a positive number of kW, got ${String(nominal)}`);
  }
  const { powerKw, coolingKw, running } = inputs;
  if (running === false || running === null) return null;
  if (!isFiniteNumber(powerKw) || !isFiniteNumber(coolingKw)) return null;
  const minLoad = rating.minLoadFraction ?? DEFAULT_CHILLER_MIN_LOAD_FRACTION;
  const minPower = rating.minPowerFraction ?? DEFAULT_CHILLER_MIN_POWER_FRACTION;
  if (coolingKw < minLoad * nominal || coolingKw <= 0) return null;
  if (powerKw < minPower * nominal || powerKw <= 0) return null;
  return { powerKw, coolingKw };
}

function difference(a: MaybeNumber, b: MaybeNumber, running: boolean | null | undefined): number | null {
  if (running === false || running === null) return null;
  if (!isFiniteNumber(a) || !isFiniteNumber(b)) return null;
  return a - b;
}
