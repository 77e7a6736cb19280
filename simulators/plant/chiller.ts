/**
 * A 500 TR (1760 kW) water-cooled centrifugal chiller with a variable-speed drive, R-134a.
 *
 * Quasi-static: the water loops settle within a poll or two, so temperatures follow the load at
 * once; the lag lives in the cooling-tower basin that feeds the condenser.
 * - chilled water: constant flow; supply holds the setpoint unless load exceeds capacity;
 *   return = supply + load / (flow · cp).
 * - condenser water: leaving = entering + (load + compressor power) / (flow · cp).
 * - refrigerant: evaporating temperature = supply − evaporator approach; condensing temperature =
 *   condenser leaving + condenser approach; pressures are R-134a saturation pressures.
 * - compressor: COP = η · T_evap / lift (a fraction of Carnot, best near 70–80 % load), plus
 *   auxiliaries; kW/ton lands at 0.5–0.7 in normal operation.
 * Fault `condenser-fouling` (0..1): scaled tubes add up to 5.5 K condenser approach and cut
 * capacity, raising condensing pressure, lift and kW/ton.
 */
import { clamp } from './noise.js';
import { saturationPressureKpa } from './r134a.js';

export const CHILLER_NOMINAL_KW = 1760;
const KW_PER_TON_REF = 3.517;
const CP_WATER = 4.186; // kJ/(kg·K)
const CHW_FLOW_KGS = 76;
const CW_FLOW_KGS = 95;
const AUX_KW = 5;
const SUPPLY_VOLTAGE_V = 400;

export const ALARM_BITS = {
  general: 0,
  highCondenserPressure: 1,
  lowEvaporatorPressure: 2,
  capacityLimited: 3,
  highCondenserApproach: 4,
  poorEfficiency: 5,
} as const;

export interface ChillerInputs {
  heatLoadKw: number;
  cwEnteringC: number;
  setpointC: number;
  fouling: number;
}

export interface ChillerOutputs {
  chwSupplyC: number;
  chwReturnC: number;
  cwEnteringC: number;
  cwLeavingC: number;
  evapSatC: number;
  condSatC: number;
  evapPressureKpa: number;
  condPressureKpa: number;
  condApproachK: number;
  coolingKw: number;
  powerKw: number;
  kwPerTon: number;
  compressorCurrentA: number;
  capacityPct: number;
  running: boolean;
  capacityLimited: boolean;
  alarmWord: number;
}

export function chillerOutputs(inp: ChillerInputs): ChillerOutputs {
  const fouling = clamp(inp.fouling, 0, 1);
  const capacityKw = CHILLER_NOMINAL_KW * (1 - 0.2 * fouling);
  const coolingKw = Math.min(inp.heatLoadKw, capacityKw);
  const plr = coolingKw / CHILLER_NOMINAL_KW;
  const chwSupplyC = inp.setpointC + (inp.heatLoadKw - coolingKw) / (CHW_FLOW_KGS * CP_WATER);
  const chwReturnC = chwSupplyC + inp.heatLoadKw / (CHW_FLOW_KGS * CP_WATER);
  const evapSatC = chwSupplyC - (0.8 + 1.4 * plr);
  const condApproachK = 0.6 + 1.6 * plr + 5.5 * fouling;
  const eta = 0.55 * (1 - 0.8 * (plr - 0.8) ** 2);

  // condenser leaving depends on the compressor power, which depends on the lift: iterate
  let powerKw = coolingKw * 0.17;
  let cwLeavingC = inp.cwEnteringC;
  let condSatC = cwLeavingC;
  for (let i = 0; i < 6; i++) {
    cwLeavingC = inp.cwEnteringC + (coolingKw + powerKw) / (CW_FLOW_KGS * CP_WATER);
    condSatC = cwLeavingC + condApproachK;
    const liftK = Math.max(condSatC - evapSatC, 5);
    const cop = (eta * (evapSatC + 273.15)) / liftK;
    powerKw = coolingKw / cop + AUX_KW;
  }
  const running = inp.heatLoadKw > 50;
  if (!running) powerKw = 0;
  const tons = coolingKw / KW_PER_TON_REF;
  const kwPerTon = tons > 0 ? powerKw / tons : 0;
  const powerFactor = 0.9 + 0.06 * plr;
  const compressorCurrentA = (powerKw * 1000) / (Math.sqrt(3) * SUPPLY_VOLTAGE_V * powerFactor);
  const evapPressureKpa = saturationPressureKpa(evapSatC);
  const condPressureKpa = saturationPressureKpa(condSatC);
  const capacityLimited = chwSupplyC > inp.setpointC + 0.5;

  let alarmWord = 0;
  const raise = (bit: number) => (alarmWord |= 1 << bit);
  if (condPressureKpa > 1150) raise(ALARM_BITS.highCondenserPressure);
  if (evapPressureKpa < 250) raise(ALARM_BITS.lowEvaporatorPressure);
  if (capacityLimited) raise(ALARM_BITS.capacityLimited);
  if (condApproachK > 4) raise(ALARM_BITS.highCondenserApproach);
  if (kwPerTon > 0.8) raise(ALARM_BITS.poorEfficiency);
  if (alarmWord !== 0) raise(ALARM_BITS.general);

  return {
    chwSupplyC,
    chwReturnC,
    cwEnteringC: inp.cwEnteringC,
    cwLeavingC,
    evapSatC,
    condSatC,
    evapPressureKpa,
    condPressureKpa,
    condApproachK,
    coolingKw,
    powerKw,
    kwPerTon,
    compressorCurrentA,
    capacityPct: (coolingKw / CHILLER_NOMINAL_KW) * 100,
    running,
    capacityLimited,
    alarmWord,
  };
}

export const CHILLER_CW_FLOW_KGS = CW_FLOW_KGS;
export const CHILLER_CHW_FLOW_KGS = CHW_FLOW_KGS;
