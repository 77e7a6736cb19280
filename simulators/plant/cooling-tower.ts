/**
 * An induced-draft counterflow cooling tower (2100 kW design rejection) with a VFD fan.
 *
 * - approach (leaving water − wet bulb) = k · loadFraction / airflow^0.7, with k = 3 K at design
 *   and a little larger in cooler, drier air; airflow is the fan speed fraction (natural draft
 *   gives ~12 % with the fan stopped);
 * - the fan is controlled to hold a 3.5 K approach, between 30 % and 100 % speed; fan power
 *   follows the cube law (37 kW at full speed);
 * - the basin (a few minutes of water) lags the fill's leaving water and feeds the chiller's
 *   condenser; make-up water replaces evaporation and blowdown (4 cycles of concentration).
 * Fault `fan-failure` (0..1): the gearbox/drive degrades — fan speed falls to (1 − s) of the
 * command and vibration climbs; at s ≥ 0.9 the drive trips; leaving water then rises.
 */
import { clamp, lag } from './noise.js';

const DESIGN_REJECTION_KW = 2100;
const FAN_RATED_KW = 37;
const TARGET_APPROACH_K = 3.5;
const BASIN_TAU_S = 240;
const FAN_RAMP_TAU_S = 20;
const LATENT_HEAT_KJ_KG = 2430;

export interface TowerState {
  basinC: number;
  fanSpeedFrac: number;
  makeupLitres: number;
  fanRunHours: number;
}

export interface TowerInputs {
  enteringWaterC: number;
  heatRejectedKw: number;
  wetBulbC: number;
  fanFailure: number;
}

export interface TowerOutputs {
  leavingWaterC: number;
  approachK: number;
  rangeK: number;
  fanPowerKw: number;
  fanRunning: boolean;
  fanFault: boolean;
  fanVibrationMmS: number;
}

export function initialTowerState(): TowerState {
  return { basinC: 26, fanSpeedFrac: 0.5, makeupLitres: 18_250_000, fanRunHours: 21_400 };
}

/** Advances the tower by dtS (settle: jump lags to their equilibrium, integrate nothing). */
export function stepTower(state: TowerState, inp: TowerInputs, dtS: number, settle: boolean): TowerOutputs {
  const failure = clamp(inp.fanFailure, 0, 1);
  const loadFrac = Math.max(inp.heatRejectedKw, 0) / DESIGN_REJECTION_KW;
  const k = 3 * (1 + 0.04 * (21 - inp.wetBulbC));
  const commanded = clamp(((k * loadFrac) / TARGET_APPROACH_K) ** (1 / 0.7), 0.3, 1);
  const fanFault = failure >= 0.9;
  const targetSpeed = fanFault ? 0 : commanded * (1 - failure);
  const lagDt = settle ? Infinity : dtS;
  state.fanSpeedFrac = lag(state.fanSpeedFrac, targetSpeed, lagDt, FAN_RAMP_TAU_S);
  const airflow = Math.max(state.fanSpeedFrac, 0.12);
  const approachK = (k * loadFrac) / airflow ** 0.7;
  const leavingWaterC = Math.min(inp.wetBulbC + approachK, inp.enteringWaterC - 0.1);
  state.basinC = lag(state.basinC, leavingWaterC, lagDt, BASIN_TAU_S);
  const fanRunning = state.fanSpeedFrac > 0.02;
  if (!settle) {
    const evaporationKgS = Math.max(inp.heatRejectedKw, 0) / LATENT_HEAT_KJ_KG;
    state.makeupLitres += evaporationKgS * (4 / 3) * dtS;
    if (fanRunning) state.fanRunHours += dtS / 3600;
  }
  return {
    leavingWaterC,
    approachK: leavingWaterC - inp.wetBulbC,
    rangeK: inp.enteringWaterC - leavingWaterC,
    fanPowerKw: fanRunning ? FAN_RATED_KW * state.fanSpeedFrac ** 3 + 0.4 : 0,
    fanRunning,
    fanFault,
    fanVibrationMmS: fanRunning ? 1.1 + 0.6 * state.fanSpeedFrac + 9 * failure : 0.1,
  };
}
