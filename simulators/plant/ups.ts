/**
 * A 1600 kW double-conversion UPS feeding the whole IT load, with a VRLA battery of 240 cells
 * (float 2.27 V/cell = 544.8 V) and 300 kWh nominal energy.
 *
 * - losses = P_rated · (0.8 % + 1.2 % · L + 1.2 % · L²) (L = load fraction): efficiency 96–97 %
 *   between 30 and 100 % load, lower at light load;
 * - on mains the battery floats at 100 % state of charge;
 * - runtime at present load = usable energy · SoC · health / DC power, with a Peukert-like bonus
 *   at lighter load;
 * - battery temperature follows the room (24 °C) plus float-charge heating, time constant 30 min.
 * Fault `battery-ageing` (0..1): health falls to 45 %, runtime with it; float current and
 * battery temperature rise (higher internal resistance), block voltage sags slightly.
 */
import { clamp, lag, smoothNoise } from './noise.js';

export const UPS_RATED_KW = 1600;
const BATTERY_KWH = 300;
const FLOAT_V = 544.8;
const ROOM_C = 24;
const BATTERY_TAU_S = 1800;

export interface UpsState {
  batteryTempC: number;
  socPct: number;
  outputEnergyKwh: number;
}

export interface UpsInputs {
  itKw: number;
  ageing: number;
}

export interface UpsOutputs {
  outputPowerKw: number;
  inputPowerKw: number;
  lossesKw: number;
  efficiencyPct: number;
  loadPct: number;
  socPct: number;
  batteryVoltage: number;
  batteryCurrentA: number;
  batteryTempC: number;
  batteryHealthPct: number;
  runtimeMin: number;
  onBattery: boolean;
  batteryLow: boolean;
  batteryReplace: boolean;
  batteryTempHigh: boolean;
  overload: boolean;
  alarmWord: number;
}

export const UPS_ALARM_BITS = { onBattery: 0, batteryLow: 1, batteryTempHigh: 2, batteryReplace: 3, overload: 4 } as const;

export function initialUpsState(): UpsState {
  return { batteryTempC: 25, socPct: 100, outputEnergyKwh: 31_557_600.25 };
}

export function stepUps(state: UpsState, inp: UpsInputs, seed: number, timeMs: number, dtS: number, settle: boolean): UpsOutputs {
  const ageing = clamp(inp.ageing, 0, 1);
  const tS = timeMs / 1000;
  const l = inp.itKw / UPS_RATED_KW;
  const lossesKw = UPS_RATED_KW * (0.008 + 0.012 * l + 0.012 * l * l);
  const floatCurrentA = 1.6 + 14 * ageing ** 1.5 + 0.1 * smoothNoise(seed, 81, tS, 120);
  const batteryVoltage = FLOAT_V - 4 * ageing + 0.3 * smoothNoise(seed, 82, tS, 200);
  const chargeKw = (floatCurrentA * batteryVoltage) / 1000;
  const inputPowerKw = inp.itKw + lossesKw + chargeKw;
  const lagDt = settle ? Infinity : dtS;
  state.batteryTempC = lag(state.batteryTempC, ROOM_C + 0.8 + 7 * ageing, lagDt, BATTERY_TAU_S);
  if (!settle) state.outputEnergyKwh += inp.itKw * (dtS / 3600);
  state.socPct = 100;

  const healthPct = 100 * (1 - 0.55 * ageing);
  const dcKw = inp.itKw / 0.975;
  const runtimeMin = dcKw > 1 ? ((60 * BATTERY_KWH * (healthPct / 100) * (state.socPct / 100)) / dcKw) * (UPS_RATED_KW / dcKw) ** 0.15 : 999;

  const onBattery = false;
  const batteryLow = runtimeMin < 5;
  const batteryReplace = healthPct < 80;
  const batteryTempHigh = state.batteryTempC > 30;
  const overload = l > 1;
  let alarmWord = 0;
  if (onBattery) alarmWord |= 1 << UPS_ALARM_BITS.onBattery;
  if (batteryLow) alarmWord |= 1 << UPS_ALARM_BITS.batteryLow;
  if (batteryTempHigh) alarmWord |= 1 << UPS_ALARM_BITS.batteryTempHigh;
  if (batteryReplace) alarmWord |= 1 << UPS_ALARM_BITS.batteryReplace;
  if (overload) alarmWord |= 1 << UPS_ALARM_BITS.overload;

  return {
    outputPowerKw: inp.itKw,
    inputPowerKw,
    lossesKw,
    efficiencyPct: (inp.itKw / (inp.itKw + lossesKw)) * 100,
    loadPct: l * 100,
    socPct: state.socPct,
    batteryVoltage,
    batteryCurrentA: floatCurrentA,
    batteryTempC: state.batteryTempC,
    batteryHealthPct: healthPct,
    runtimeMin: Math.min(runtimeMin, 999),
    onBattery,
    batteryLow,
    batteryReplace,
    batteryTempHigh,
    overload,
    alarmWord,
  };
}
