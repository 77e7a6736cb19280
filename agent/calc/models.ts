/**
 * The calculation models behind calculated devices: each takes the usable values of its inputs at
 * one instant and its saved state (plain data: thermal model, ageing and energy counters, battery
 * health points) and returns its outputs and its next state. Pure, so the same code can run over
 * history. The health and KPI formulas themselves live in agent/alarms/health/.
 */
import {
  ageingStep,
  batteryHealthTrend,
  batteryRuntimeMin,
  chillerCop,
  chillerKwPerTon,
  chilledWaterDeltaTK,
  condenserApproachK,
  coolingKwPerItKw,
  coolingTowerHealth,
  energyCounterStep,
  evaporatorApproachK,
  initialTransformerThermalState,
  newAgeingAccumulator,
  newEnergyCounter,
  ONAN_DISTRIBUTION_TRANSFORMER,
  pue,
  transformerThermalStep,
  upsEfficiencyPct,
  type AgeingAccumulator,
  type EnergyCounter,
  type HealthPoint,
  type TransformerThermalParams,
  type TransformerThermalState,
} from '../alarms/health/index.js';
import type { CalculationModel } from '../core/calculation.js';

/** An input's value now: a number or bool when usable (good or uncertain, fresh), null when not; absent when not configured. */
export type InputValues = Readonly<Record<string, number | boolean | null | undefined>>;
/** List inputs (facility meters): one entry per meter, null when that meter is unusable. */
export type ListInputValues = Readonly<Record<string, readonly (number | null)[] | undefined>>;

export interface ModelStep {
  /** Output values by name; null: the calculation has no meaningful value now. */
  values: Record<string, number | null>;
  state: ModelState;
}

/** Saved between steps and across restarts (JSON). */
export type ModelState = Record<string, unknown>;

export interface CalcModel {
  /**
   * The inputs each output depends on: the output's quality is the worst of theirs, and it is
   * bad when one of them is unusable. Counters (energy, loss of life) are listed in `counters`:
   * their total stays valid when an input is lost, it just stops counting.
   */
  deps: Readonly<Record<string, readonly string[]>>;
  counters: Readonly<Record<string, readonly string[]>>;
  init(): ModelState;
  /**
   * `uncertain` names the inputs whose value is uncertain now (out of range, or marked so by the
   * device): outputs may use them (and are marked uncertain), counters do not count them — a
   * reset-free total must not keep a glitch forever.
   */
  step(state: ModelState, inputs: InputValues, lists: ListInputValues, nowMs: number, params: Readonly<Record<string, number>>, uncertain: ReadonlySet<string>): ModelStep;
}

/** The value a counter may integrate: null when the input is uncertain. */
const countable = (uncertain: ReadonlySet<string>, name: string, value: number | null): number | null => (uncertain.has(name) ? null : value);

const num = (v: number | boolean | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const runningOf = (v: number | boolean | null | undefined): boolean | null | undefined => (v === undefined ? undefined : typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : null);

/** Energy counters are fed at the calculation's own interval with the input held since its last reading. */
const ENERGY_MAX_GAP_MS = 15 * 60_000;

function stepEnergy(saved: unknown, kw: number | null, nowMs: number): EnergyCounter {
  const counter = (saved as EnergyCounter | undefined) ?? newEnergyCounter();
  return energyCounterStep(counter, { tMs: nowMs, kw, quality: kw === null ? 'bad' : 'good' }, { maxGapMs: ENERGY_MAX_GAP_MS });
}

const chiller: CalcModel = {
  deps: {
    kw_per_ton: ['powerKw', 'coolingKw', 'running'],
    cop: ['powerKw', 'coolingKw', 'running'],
    evap_approach: ['chwSupplyC', 'evapSatC', 'running'],
    cond_approach: ['condSatC', 'cwLeavingC', 'running'],
    chw_delta_t: ['chwReturnC', 'chwSupplyC', 'running'],
  },
  counters: { energy_kwh: ['powerKw'] },
  init: () => ({}),
  step(state, i, _lists, nowMs, p, uncertain) {
    const rating = { nominalCoolingKw: p.nominalCoolingKw, ...(p.minLoadFraction !== undefined ? { minLoadFraction: p.minLoadFraction } : {}) };
    const running = runningOf(i.running);
    const eff = { powerKw: num(i.powerKw), coolingKw: num(i.coolingKw), ...(running !== undefined ? { running } : {}) };
    const energy = stepEnergy(state.energy, countable(uncertain, 'powerKw', num(i.powerKw)), nowMs);
    return {
      values: {
        kw_per_ton: chillerKwPerTon(eff, rating),
        cop: chillerCop(eff, rating),
        evap_approach: evaporatorApproachK({ chwSupplyC: num(i.chwSupplyC), evapSatC: num(i.evapSatC), running }),
        cond_approach: condenserApproachK({ condSatC: num(i.condSatC), cwLeavingC: num(i.cwLeavingC), running }),
        chw_delta_t: chilledWaterDeltaTK({ chwReturnC: num(i.chwReturnC), chwSupplyC: num(i.chwSupplyC), running }),
        energy_kwh: energy.totalKwh,
      },
      state: { energy },
    };
  },
};

const coolingTower: CalcModel = {
  deps: {
    approach: ['leavingWaterC', 'wetBulbC'],
    range: ['enteringWaterC', 'leavingWaterC'],
    effectiveness_pct: ['enteringWaterC', 'leavingWaterC', 'wetBulbC'],
  },
  counters: { energy_kwh: ['fanPowerKw'] },
  init: () => ({}),
  step(state, i, _lists, nowMs, p, uncertain) {
    const h = coolingTowerHealth(
      { enteringWaterC: num(i.enteringWaterC), leavingWaterC: num(i.leavingWaterC), wetBulbC: num(i.wetBulbC) },
      p.minRangeK !== undefined ? { minRangeK: p.minRangeK } : {},
    );
    const values: Record<string, number | null> = { approach: h.approachK, range: h.rangeK, effectiveness_pct: h.effectiveness === null ? null : h.effectiveness * 100 };
    const next: ModelState = {};
    if (i.fanPowerKw !== undefined) {
      const energy = stepEnergy(state.energy, countable(uncertain, 'fanPowerKw', num(i.fanPowerKw)), nowMs);
      values.energy_kwh = energy.totalKwh;
      next.energy = energy;
    }
    return { values, state: next };
  },
};

const THERMAL_PARAM_NAMES = ['topOilRiseRatedK', 'hotSpotRiseRatedK', 'lossRatio', 'oilExponent', 'windingExponent', 'oilTimeConstantMin', 'windingTimeConstantMin'] as const;

const transformer: CalcModel = {
  deps: { hot_spot_temp: ['loadPct', 'ambientC', 'topOilC'], ageing_factor: ['loadPct', 'ambientC', 'topOilC'] },
  counters: { loss_of_life_h: ['loadPct', 'ambientC', 'topOilC'], energy_kwh: ['powerKw'] },
  init: () => ({ thermal: initialTransformerThermalState() }),
  step(state, i, _lists, nowMs, p, uncertain) {
    const params: TransformerThermalParams = { ...ONAN_DISTRIBUTION_TRANSFORMER };
    for (const name of THERMAL_PARAM_NAMES) if (p[name] !== undefined) params[name] = p[name];
    const loadPct = num(i.loadPct);
    const thermal = transformerThermalStep((state.thermal as TransformerThermalState | undefined) ?? initialTransformerThermalState(), {
      tMs: nowMs,
      loadPu: loadPct === null ? null : loadPct / 100,
      ambientC: num(i.ambientC),
      ...(i.topOilC !== undefined ? { topOilC: num(i.topOilC) } : {}),
    }, params);
    const fromUncertain = ['loadPct', 'ambientC', 'topOilC'].some((n) => uncertain.has(n));
    const ageing = ageingStep((state.ageing as AgeingAccumulator | undefined) ?? newAgeingAccumulator(), { tMs: nowMs, hotSpotC: thermal.hotSpotC, quality: fromUncertain ? 'uncertain' : 'good' });
    const values: Record<string, number | null> = { hot_spot_temp: thermal.hotSpotC, ageing_factor: thermal.ageingFactor, loss_of_life_h: ageing.lossOfLifeHours };
    const next: ModelState = { thermal: thermal.state, ageing };
    if (i.powerKw !== undefined) {
      const energy = stepEnergy(state.energy, countable(uncertain, 'powerKw', num(i.powerKw)), nowMs);
      values.energy_kwh = energy.totalKwh;
      next.energy = energy;
    }
    return { values, state: next };
  },
};

/** One state-of-health point per hour is kept, for 180 days: enough for a slow trend, small to save. */
const HEALTH_POINT_EVERY_MS = 3_600_000;
const HEALTH_POINTS_KEPT = 180 * 24;
const MS_PER_DAY = 86_400_000;

const ups: CalcModel = {
  deps: {
    efficiency_pct: ['inputKw', 'outputKw'],
    runtime_min: ['outputKw', 'socPct', 'sohPct'],
    battery_health_trend: ['sohPct'],
    battery_replace_days: ['sohPct'],
  },
  counters: { energy_kwh: ['outputKw'] },
  init: () => ({ points: [] }),
  step(state, i, _lists, nowMs, p, uncertain) {
    const values: Record<string, number | null> = { efficiency_pct: upsEfficiencyPct({ inputKw: num(i.inputKw), outputKw: num(i.outputKw) }, { ratedKw: p.ratedKw }) };
    if (p.batteryEnergyKwh !== undefined) {
      values.runtime_min = batteryRuntimeMin(
        { outputKw: num(i.outputKw), socPct: num(i.socPct), ...(i.sohPct !== undefined ? { sohPct: num(i.sohPct) } : {}) },
        { ratedEnergyKwh: p.batteryEnergyKwh, referencePowerKw: p.batteryReferenceKw ?? p.ratedKw, ...(p.peukertExponent !== undefined ? { peukertExponent: p.peukertExponent } : {}) },
      );
    }
    let points = (state.points as HealthPoint[] | undefined) ?? [];
    if (i.sohPct !== undefined) {
      const soh = num(i.sohPct);
      const last = points.at(-1);
      if (soh !== null && (last === undefined || nowMs - last.tMs >= HEALTH_POINT_EVERY_MS)) {
        points = [...points, { tMs: nowMs, sohPct: soh }];
        if (points.length > HEALTH_POINTS_KEPT) points = points.slice(points.length - HEALTH_POINTS_KEPT);
      }
      const trend = batteryHealthTrend(points, p.replaceAtPct !== undefined ? { replaceAtPct: p.replaceAtPct } : {});
      values.battery_health_trend = trend === null ? null : trend.slopePctPer30Days;
      values.battery_replace_days = trend?.projectedReplacementMs == null ? null : Math.max(0, (trend.projectedReplacementMs - nowMs) / MS_PER_DAY);
    }
    const energy = stepEnergy(state.energy, countable(uncertain, 'outputKw', num(i.outputKw)), nowMs);
    values.energy_kwh = energy.totalKwh;
    return { values, state: { points, energy } };
  },
};

function sum(list: readonly (number | null)[] | undefined): number | null {
  if (list === undefined || list.length === 0) return null;
  let total = 0;
  for (const v of list) {
    if (v === null) return null;
    total += v;
  }
  return total;
}

const facility: CalcModel = {
  deps: {
    it_load_kw: ['itMeters'],
    facility_power_kw: ['facilityMeters'],
    cooling_power_kw: ['coolingMeters'],
    pue: ['itMeters', 'facilityMeters'],
    cooling_kw_per_it_kw: ['itMeters', 'coolingMeters'],
  },
  counters: { it_energy_kwh: ['itMeters'], facility_energy_kwh: ['facilityMeters'], cooling_energy_kwh: ['coolingMeters'] },
  init: () => ({}),
  step(state, _i, lists, nowMs, p, uncertain) {
    const options = p.minItKw !== undefined ? { minItKw: p.minItKw } : {};
    const it = sum(lists.itMeters);
    const total = sum(lists.facilityMeters);
    const itEnergy = stepEnergy(state.it, countable(uncertain, 'itMeters', it), nowMs);
    const facilityEnergy = stepEnergy(state.facility, countable(uncertain, 'facilityMeters', total), nowMs);
    const values: Record<string, number | null> = {
      it_load_kw: it,
      facility_power_kw: total,
      pue: pue(total, it, options),
      it_energy_kwh: itEnergy.totalKwh,
      facility_energy_kwh: facilityEnergy.totalKwh,
    };
    const next: ModelState = { it: itEnergy, facility: facilityEnergy };
    if (lists.coolingMeters !== undefined) {
      const cooling = sum(lists.coolingMeters);
      const coolingEnergy = stepEnergy(state.cooling, countable(uncertain, 'coolingMeters', cooling), nowMs);
      values.cooling_power_kw = cooling;
      values.cooling_kw_per_it_kw = coolingKwPerItKw(cooling, it, options);
      values.cooling_energy_kwh = coolingEnergy.totalKwh;
      next.cooling = coolingEnergy;
    }
    return { values, state: next };
  },
};

export const CALC_MODELS: Readonly<Record<CalculationModel, CalcModel>> = { chiller, 'cooling-tower': coolingTower, transformer, ups, facility };
