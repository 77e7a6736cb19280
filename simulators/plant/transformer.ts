/**
 * A 2500 kVA oil-immersed distribution transformer, 11 kV / 400 V (secondary 400 V line-to-line,
 * rated secondary current 3608 A), feeding the UPS and the cooling plant.
 *
 * Thermal model after IEC 60076-7 (exponential form):
 * - top-oil rise at rated load 52 K, loss ratio R = 6, oil exponent x = 0.8, oil time constant 45 min;
 * - hot-spot gradient at rated load 26 K, winding exponent y = 1.6, winding time constant 7 min;
 * - ambient is the outdoor dry bulb.
 * Electrical: no-load tap +2.5 % (410 V) with 4 % regulation at rated load, a little phase
 * unbalance and grid noise; THD of current is higher at light load (rectifier loads).
 * Fault `overload` (0..1): up to 1100 kVA of extra load (at pf 0.9) is switched on, ramping over
 * five minutes; oil and winding temperatures then climb with their own time constants.
 */
import { clamp, lag, smoothNoise } from './noise.js';

export const TRANSFORMER_RATED_KVA = 2500;
const SECONDARY_V = 400;
const OIL_RISE_RATED_K = 52;
const LOSS_RATIO = 6;
const OIL_EXP = 0.8;
const HOTSPOT_GRADIENT_RATED_K = 26;
const WINDING_EXP = 1.6;
const OIL_TAU_S = 45 * 60;
const WINDING_TAU_S = 7 * 60;
const OVERLOAD_KVA = 1100;

export interface TransformerState {
  oilC: number;
  hotspotGradientK: number;
  energyWh: number;
}

export interface TransformerInputs {
  loadKw: number;
  powerFactor: number;
  ambientC: number;
  overload: number;
}

export interface TransformerOutputs {
  oilC: number;
  windingC: number;
  ambientC: number;
  voltageL1L2: number;
  voltageL2L3: number;
  voltageL3L1: number;
  currentL1: number;
  currentL2: number;
  currentL3: number;
  activePowerKw: number;
  apparentPowerKva: number;
  powerFactor: number;
  frequencyHz: number;
  loadPct: number;
  thdVoltagePct: number;
  thdCurrentPct: number;
}

export function initialTransformerState(): TransformerState {
  return { oilC: 50, hotspotGradientK: 10, energyWh: 48_213_557_000 };
}

export function stepTransformer(
  state: TransformerState,
  inp: TransformerInputs,
  seed: number,
  timeMs: number,
  dtS: number,
  settle: boolean,
): TransformerOutputs {
  const tS = timeMs / 1000;
  const extraKva = OVERLOAD_KVA * clamp(inp.overload, 0, 1);
  const baseKva = inp.loadKw / inp.powerFactor;
  const extraKw = extraKva * 0.9;
  const activePowerKw = inp.loadKw + extraKw;
  const apparentPowerKva = Math.hypot(activePowerKw, baseKva * Math.sin(Math.acos(inp.powerFactor)) + extraKva * Math.sin(Math.acos(0.9)));
  const k = apparentPowerKva / TRANSFORMER_RATED_KVA;

  const oilRiseK = OIL_RISE_RATED_K * ((1 + LOSS_RATIO * k * k) / (1 + LOSS_RATIO)) ** OIL_EXP;
  const gradientK = HOTSPOT_GRADIENT_RATED_K * k ** WINDING_EXP;
  const lagDt = settle ? Infinity : dtS;
  state.oilC = lag(state.oilC, inp.ambientC + oilRiseK, lagDt, OIL_TAU_S);
  state.hotspotGradientK = lag(state.hotspotGradientK, gradientK, lagDt, WINDING_TAU_S);
  if (!settle) state.energyWh += activePowerKw * 1000 * (dtS / 3600);

  const grid = 1 + 0.005 * smoothNoise(seed, 61, tS, 90);
  const vAvg = 410 * (1 - 0.04 * k) * grid;
  const unbalance = (channel: number) => smoothNoise(seed, channel, tS, 300);
  const v = [0, 1, 2].map((i) => vAvg * (1 + 0.003 * unbalance(62 + i)));
  const iAvg = (apparentPowerKva * 1000) / (Math.sqrt(3) * vAvg);
  const iu = [0, 1, 2].map((i) => unbalance(65 + i));
  const iMean = (iu[0] + iu[1] + iu[2]) / 3;
  const currents = iu.map((u) => iAvg * (1 + 0.02 * (u - iMean)));

  return {
    oilC: state.oilC,
    windingC: state.oilC + state.hotspotGradientK,
    ambientC: inp.ambientC,
    voltageL1L2: v[0],
    voltageL2L3: v[1],
    voltageL3L1: v[2],
    currentL1: currents[0],
    currentL2: currents[1],
    currentL3: currents[2],
    activePowerKw,
    apparentPowerKva,
    powerFactor: activePowerKw / apparentPowerKva,
    frequencyHz: 50 + 0.03 * smoothNoise(seed, 68, tS, 20),
    loadPct: k * 100,
    thdVoltagePct: 1.4 + 1.6 * k + 0.15 * smoothNoise(seed, 69, tS, 60),
    thdCurrentPct: 3 + 3.5 / (k + 0.3) + 0.3 * smoothNoise(seed, 70, tS, 60),
  };
}

export const TRANSFORMER_SECONDARY_V = SECONDARY_V;
