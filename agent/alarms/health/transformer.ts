/**
 * Transformer winding hot-spot temperature and insulation ageing after IEEE C57.91-2011 (Guide for
 * Loading Mineral-Oil-Immersed Transformers and Step-Voltage Regulators).
 *
 * Thermal model — clause 7 (the "clause 7" top-oil / hot-spot method):
 *   ultimate top-oil rise over ambient   ΔθTO,U = ΔθTO,R · [(K²·R + 1) / (R + 1)]^n
 *   ultimate hot-spot rise over top oil  ΔθH,U  = ΔθH,R · K^(2m)
 *   transient (first order, each)        Δθ(t) = Δθ,U + (Δθ,i − Δθ,U) · exp(−t / τ)
 *     with τ = τTO for the top oil and τ = τw for the winding;
 *   hot spot                              θH = θA + ΔθTO + ΔθH.
 * K is the load per unit of rating (load kVA ÷ rated kVA, or load current ÷ rated current).
 *
 * Irregular time steps: each step applies the exponential solution exactly over the interval
 * since the previous sample, with the load of the new sample held over that interval (the
 * simulator and every poll-based monitor see the load that way). For a constant load the result
 * does not depend on how the interval is cut; for a varying load the error is bounded by how much
 * the load moves within one poll interval, small beside τw for any gateway poll rate. After a long
 * silence the solution settles on the steady state of the load now seen, which is the best guess.
 *
 * Deliberate simplification: for n ≠ 1 clause 7 also corrects τTO per load step from the initial
 * and ultimate rises. That correction is defined for one step from a settled state, so applied
 * sample by sample it would make the answer depend on the poll rate; the rated τTO is used
 * throughout (exact for n = 1, and the form IEC 60076-7's exponential method uses).
 *
 * Measured top oil: when a top-oil temperature is measured (profile tag oil_temp), the hot spot is
 * θH = θTO,measured + ΔθH — the measurement already contains the ambient, the oil lag and the
 * cooling stage actually running, so it beats the ambient-based model. The model's top-oil rise
 * is then re-anchored to (θTO,measured − θA) when the ambient is known, so that if the measurement
 * fails later, the model continues from where the oil really was.
 *
 * Ageing — clause 5 (equations for the ageing acceleration factor and equivalent ageing):
 *   F_AA = exp(15000/383 − 15000/(θH + 273))     (= 1 at the 110 °C reference hot spot)
 *   F_EQA = Σ F_AA,n · Δt_n ÷ Σ Δt_n
 *   loss of life (hours at the reference temperature) = F_EQA · t = Σ F_AA,n · Δt_n
 *   %loss of life = that × 100 ÷ normal insulation life (180 000 h, clause 5 table of normal
 *   insulation life; 65 000–180 000 h depending on the end-of-life criterion).
 */
import type { Quality } from '../../core/quality.js';
import { advanceChain, assertIntegrationOptions, usableValue, type IntegrationOptions } from './integrate.js';
import { finiteOrNull, isFiniteNumber, MS_PER_HOUR, type MaybeNumber } from './numbers.js';

export interface TransformerThermalParams {
  /** ΔθTO,R: top-oil rise over ambient at rated load (K). */
  topOilRiseRatedK: number;
  /** ΔθH,R: winding hot-spot rise over top oil at rated load (K). */
  hotSpotRiseRatedK: number;
  /** R: load losses at rated load ÷ no-load losses. */
  lossRatio: number;
  /** n: oil exponent. */
  oilExponent: number;
  /** m: winding exponent (the hot-spot rise goes with K^(2m)). */
  windingExponent: number;
  /** τTO: oil time constant at rated load (minutes). */
  oilTimeConstantMin: number;
  /** τw: winding time constant (minutes). */
  windingTimeConstantMin: number;
}

/**
 * Defaults for an ONAN distribution transformer with 65 °C-rise insulation. Replace them with the
 * unit's heat-run test report where one exists; these are typical, not nameplate, values.
 * - ΔθTO,R 45 K and ΔθH,R 30 K: typical tested rises of 65 °C-rise units, whose guaranteed limits
 *   (IEEE C57.12.00) are 65 K top oil and 80 K hot spot over ambient; 45 + 30 = 75 K leaves the
 *   usual margin, so the hot spot at rated load in a 30 °C ambient is 105 °C, below the 110 °C
 *   reference;
 * - R = 5: typical of distribution transformers (IEC 60076-7 recommends 5 for ONAN distribution);
 * - n = m = 0.8: IEEE C57.91-2011 clause 7, table of exponents, ONAN;
 * - τTO = 180 min and τw = 4 min: C57.91 derives τTO from the thermal capacity and the losses
 *   rather than tabulating it; these are the typical ONAN distribution-transformer values of
 *   IEC 60076-7 (thermal characteristics table). Larger ONAN units have τw of up to ~10 min.
 */
export const ONAN_DISTRIBUTION_TRANSFORMER: Readonly<TransformerThermalParams> = Object.freeze({
  topOilRiseRatedK: 45,
  hotSpotRiseRatedK: 30,
  lossRatio: 5,
  oilExponent: 0.8,
  windingExponent: 0.8,
  oilTimeConstantMin: 180,
  windingTimeConstantMin: 4,
});

/** Loads above this many per unit are taken for unit errors (percent passed as per-unit), not loads. */
export const MAX_PLAUSIBLE_LOAD_PU = 5;

/** F_AA reference: the hot-spot temperature at which insulation ages at its normal rate (°C). */
export const REFERENCE_HOT_SPOT_C = 110;

/** Normal insulation life used for %loss of life (hours); C57.91 clause 5. */
export const NORMAL_INSULATION_LIFE_HOURS = 180_000;

/** Serialisable thermal state; `lastMs` null until the first usable sample. */
export interface TransformerThermalState {
  topOilRiseK: number;
  hotSpotRiseK: number;
  lastMs: number | null;
}

export interface TransformerThermalInput {
  /** Sample time (ms since epoch). */
  tMs: number;
  /** K: load per unit of rating (load_pct / 100 in the profile). */
  loadPu: MaybeNumber;
  /** θA: ambient temperature (°C). */
  ambientC: MaybeNumber;
  /** θTO measured (°C), when the transformer has a top-oil sensor. */
  topOilC?: MaybeNumber;
}

export type HotSpotBasis = 'measured-top-oil' | 'ambient-model';

export interface TransformerThermalResult {
  state: TransformerThermalState;
  /** Measured top oil when given, else θA + ΔθTO; null when neither is known. */
  topOilC: number | null;
  hotSpotC: number | null;
  /** Which formula gave hotSpotC (null when hotSpotC is null). */
  hotSpotBasis: HotSpotBasis | null;
  /** F_AA at hotSpotC. */
  ageingFactor: number | null;
}

export function initialTransformerThermalState(): TransformerThermalState {
  return { topOilRiseK: 0, hotSpotRiseK: 0, lastMs: null };
}

/** The ultimate (steady-state) rises for a constant per-unit load K. */
export function transformerSteadyStateRises(
  loadPu: number,
  params: TransformerThermalParams = ONAN_DISTRIBUTION_TRANSFORMER,
): { topOilRiseK: number; hotSpotRiseK: number } {
  const k = loadPu;
  const r = params.lossRatio;
  return {
    topOilRiseK: params.topOilRiseRatedK * ((k * k * r + 1) / (r + 1)) ** params.oilExponent,
    hotSpotRiseK: params.hotSpotRiseRatedK * k ** (2 * params.windingExponent),
  };
}

/**
 * Advances the thermal state to `input.tMs`.
 * - The first usable sample starts the model at the steady state of its load (the start-up error
 *   decays with τTO; with a measured top oil there is almost none).
 * - A sample without a usable load (null, negative, above MAX_PLAUSIBLE_LOAD_PU) leaves the state
 *   as it was, so the next good sample covers the whole interval; its outputs are null.
 * - A sample older than the state is ignored (state unchanged, outputs null).
 * Invalid params are a configuration error and throw.
 */
export function transformerThermalStep(
  state: TransformerThermalState,
  input: TransformerThermalInput,
  params: TransformerThermalParams = ONAN_DISTRIBUTION_TRANSFORMER,
): TransformerThermalResult {
  assertTransformerThermalParams(params);
  const k = input.loadPu;
  const timeOk = isFiniteNumber(input.tMs) && (state.lastMs === null || input.tMs >= state.lastMs);
  const loadOk = isFiniteNumber(k) && k >= 0 && k <= MAX_PLAUSIBLE_LOAD_PU;
  if (!timeOk || !loadOk) return { state, topOilC: null, hotSpotC: null, hotSpotBasis: null, ageingFactor: null };

  const ultimate = transformerSteadyStateRises(k, params);
  let topOilRiseK = ultimate.topOilRiseK;
  let hotSpotRiseK = ultimate.hotSpotRiseK;
  if (state.lastMs !== null) {
    const dtMin = (input.tMs - state.lastMs) / 60_000;
    topOilRiseK = ultimate.topOilRiseK + (state.topOilRiseK - ultimate.topOilRiseK) * Math.exp(-dtMin / params.oilTimeConstantMin);
    hotSpotRiseK = ultimate.hotSpotRiseK + (state.hotSpotRiseK - ultimate.hotSpotRiseK) * Math.exp(-dtMin / params.windingTimeConstantMin);
  }

  const measuredTopOil = isFiniteNumber(input.topOilC) ? input.topOilC : null;
  const ambient = isFiniteNumber(input.ambientC) ? input.ambientC : null;
  if (measuredTopOil !== null && ambient !== null) topOilRiseK = measuredTopOil - ambient;
  const next: TransformerThermalState = { topOilRiseK, hotSpotRiseK, lastMs: input.tMs };

  let topOilC: number | null = null;
  let basis: HotSpotBasis | null = null;
  if (measuredTopOil !== null) {
    topOilC = measuredTopOil;
    basis = 'measured-top-oil';
  } else if (ambient !== null) {
    topOilC = ambient + topOilRiseK;
    basis = 'ambient-model';
  }
  const hotSpotC = topOilC === null ? null : finiteOrNull(topOilC + hotSpotRiseK);
  return {
    state: next,
    topOilC,
    hotSpotC,
    hotSpotBasis: hotSpotC === null ? null : basis,
    ageingFactor: ageingAccelerationFactor(hotSpotC),
  };
}

export function assertTransformerThermalParams(p: TransformerThermalParams): void {
  const positive: (keyof TransformerThermalParams)[] = [
    'topOilRiseRatedK',
    'hotSpotRiseRatedK',
    'oilExponent',
    'windingExponent',
    'oilTimeConstantMin',
    'windingTimeConstantMin',
  ];
  for (const key of positive) {
    if (!(isFiniteNumber(p[key]) && p[key] > 0)) {
      throw new Error(`transformer thermal params: ${key} must be a positive number, got ${String(p[key])}`);
    }
  }
  if (!(isFiniteNumber(p.lossRatio) && p.lossRatio >= 0)) {
    throw new Error(`transformer thermal params: lossRatio must be a number ≥ 0, got ${String(p.lossRatio)}`);
  }
}

/**
 * F_AA = exp(15000/383 − 15000/(θH + 273)): how many times faster than normal the insulation ages
 * at hot spot θH (°C). 1 at 110 °C, about 2 at 116 °C. Null for a missing value or one at or
 * below absolute zero.
 */
export function ageingAccelerationFactor(hotSpotC: MaybeNumber): number | null {
  if (!isFiniteNumber(hotSpotC) || hotSpotC + 273 <= 0) return null;
  return finiteOrNull(Math.exp(15000 / 383 - 15000 / (hotSpotC + 273)));
}

/**
 * Equivalent ageing, accumulated for ever (reset-free): the hours of normal life consumed
 * (Σ F_AA·Δt) over the time actually covered. Take differences between two snapshots for a
 * period (see equivalentAgeingFactor). F_AA is integrated by the trapezoid rule under the rules of
 * integrate.ts: no integration across a gap longer than `maxGapMs` or across a bad hot spot.
 */
export interface AgeingAccumulator {
  lossOfLifeHours: number;
  coveredMs: number;
  lastMs: number | null;
  lastAgeingFactor: number | null;
}

export interface HotSpotSample {
  tMs: number;
  hotSpotC: MaybeNumber;
  /** Absent means good. */
  quality?: Quality;
}

/** 15 min: a hot spot moves with τw of minutes; across a longer silence the ageing is unknown. */
export const DEFAULT_AGEING_MAX_GAP_MS = 15 * 60_000;

export function newAgeingAccumulator(): AgeingAccumulator {
  return { lossOfLifeHours: 0, coveredMs: 0, lastMs: null, lastAgeingFactor: null };
}

export function ageingStep(
  acc: AgeingAccumulator,
  sample: HotSpotSample,
  options: IntegrationOptions = { maxGapMs: DEFAULT_AGEING_MAX_GAP_MS },
): AgeingAccumulator {
  assertIntegrationOptions('transformer ageing', options);
  const hotSpotC = usableValue(sample.hotSpotC, sample.quality, options);
  const faa = ageingAccelerationFactor(hotSpotC);
  const step = advanceChain({ lastMs: acc.lastMs, lastValue: acc.lastAgeingFactor }, sample.tMs, faa, options.maxGapMs);
  if (step.kind === 'ignored') return acc;
  return {
    lossOfLifeHours: acc.lossOfLifeHours + step.area,
    coveredMs: acc.coveredMs + step.coveredMs,
    lastMs: step.lastMs,
    lastAgeingFactor: step.lastValue,
  };
}

/**
 * F_EQA = Σ F_AA·Δt ÷ Σ Δt over the covered time since `since` (an earlier snapshot of the same
 * accumulator; default: since it was created). Null when no time was covered.
 */
export function equivalentAgeingFactor(acc: AgeingAccumulator, since?: AgeingAccumulator): number | null {
  const hours = acc.lossOfLifeHours - (since?.lossOfLifeHours ?? 0);
  const coveredHours = (acc.coveredMs - (since?.coveredMs ?? 0)) / MS_PER_HOUR;
  return coveredHours > 0 ? finiteOrNull(hours / coveredHours) : null;
}

/** %loss of life = hours of normal life consumed × 100 ÷ normal insulation life. */
export function lossOfLifePct(lossOfLifeHours: MaybeNumber, normalLifeHours: number = NORMAL_INSULATION_LIFE_HOURS): number | null {
  if (!isFiniteNumber(lossOfLifeHours) || !(isFiniteNumber(normalLifeHours) && normalLifeHours > 0)) return null;
  return (lossOfLifeHours * 100) / normalLifeHours;
}

/** K from apparent power: load kVA ÷ rated kVA (rated 2500 kVA for the profile's transformer). */
export function transformerLoadPu(apparentPowerKva: MaybeNumber, ratedKva: number): number | null {
  if (!isFiniteNumber(apparentPowerKva) || !(isFiniteNumber(ratedKva) && ratedKva > 0)) return null;
  return apparentPowerKva / ratedKva;
}
