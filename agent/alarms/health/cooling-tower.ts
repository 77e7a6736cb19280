/**
 * Cooling-tower health as calculated tags: approach, range and effectiveness. Pure functions of
 * one instant's values (see numbers.ts for null inputs).
 *
 * Signals, as named in config/profiles/cooling-tower.yaml:
 *   enteringWaterC ← entering_water_temp (hot water from the condenser),
 *   leavingWaterC ← leaving_water_temp (cold water to the condenser), wetBulbC ← ambient_wet_bulb.
 *
 * - approach = leaving − wet bulb (K): how close the tower gets to the thermodynamic limit; it
 *   grows when airflow falls (fan fault) or the fill fouls;
 * - range = entering − leaving (K): the heat load seen as a temperature drop;
 * - effectiveness = range ÷ (range + approach) = (entering − leaving) ÷ (entering − wet bulb):
 *   the share of the largest possible cooling the tower achieves (0..1).
 * Approach and range are null only when an input is missing; they are not clamped (a negative
 * approach means a wet-bulb or water sensor is wrong, which should stay visible). Effectiveness is
 * also null when the range or the entering-water-to-wet-bulb difference is below `minRangeK`
 * (default 0.5 K): with no heat load the ratio is sensor noise divided by sensor noise.
 */
import { isFiniteNumber, type MaybeNumber } from './numbers.js';

export const DEFAULT_TOWER_MIN_RANGE_K = 0.5;

export interface CoolingTowerSignals {
  enteringWaterC: MaybeNumber;
  leavingWaterC: MaybeNumber;
  wetBulbC: MaybeNumber;
}

export interface CoolingTowerOptions {
  /** Effectiveness is null below this range, and below this entering − wet bulb (K, default 0.5). */
  minRangeK?: number;
}

export interface CoolingTowerHealth {
  approachK: number | null;
  rangeK: number | null;
  effectiveness: number | null;
}

export function coolingTowerApproachK(s: { leavingWaterC: MaybeNumber; wetBulbC: MaybeNumber }): number | null {
  return isFiniteNumber(s.leavingWaterC) && isFiniteNumber(s.wetBulbC) ? s.leavingWaterC - s.wetBulbC : null;
}

export function coolingTowerRangeK(s: { enteringWaterC: MaybeNumber; leavingWaterC: MaybeNumber }): number | null {
  return isFiniteNumber(s.enteringWaterC) && isFiniteNumber(s.leavingWaterC) ? s.enteringWaterC - s.leavingWaterC : null;
}

/** range ÷ (range + approach), a ratio 0..1 (above 1 only when the leaving water reads below the wet bulb). */
export function coolingTowerEffectiveness(s: CoolingTowerSignals, options: CoolingTowerOptions = {}): number | null {
  const rangeK = coolingTowerRangeK(s);
  const approachK = coolingTowerApproachK(s);
  if (rangeK === null || approachK === null) return null;
  const minRangeK = options.minRangeK ?? DEFAULT_TOWER_MIN_RANGE_K;
  const potentialK = rangeK + approachK;
  if (rangeK < minRangeK || potentialK < minRangeK || potentialK <= 0) return null;
  return rangeK / potentialK;
}

export function coolingTowerHealth(s: CoolingTowerSignals, options: CoolingTowerOptions = {}): CoolingTowerHealth {
  return {
    approachK: coolingTowerApproachK(s),
    rangeK: coolingTowerRangeK(s),
    effectiveness: coolingTowerEffectiveness(s, options),
  };
}
