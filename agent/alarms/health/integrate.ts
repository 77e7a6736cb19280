/**
 * The one integration rule shared by the energy counters (kW → kWh) and the transformer ageing
 * accumulator (F_AA → hours of life): the trapezoid rule between consecutive usable samples, with
 * irregular steps. An interval is integrated only when both of its ends are usable and it is no
 * longer than `maxGapMs`:
 * - a longer gap is not bridged (a straight line across a missing hour is a guess, and a counter
 *   that cannot be corrected later must not guess); counting restarts at the sample after it;
 * - a bad sample (quality bad, or no finite value) breaks the chain: neither the interval before
 *   it nor the one after it is integrated;
 * - an 'uncertain' sample counts as bad unless `acceptUncertain` is set (an out-of-range value
 *   integrated once stays in a reset-free total forever);
 * - a sample not later than the previous one (duplicate or out of order) is ignored.
 */
import type { Quality } from '../../core/quality.js';
import { isFiniteNumber, MS_PER_HOUR } from './numbers.js';

export interface IntegrationOptions {
  /** Longest interval between two usable samples that is still integrated (ms, > 0). */
  maxGapMs: number;
  /** Integrate 'uncertain' values as if good (default false). */
  acceptUncertain?: boolean;
}

/** The end of the chain so far: the last sample's time, and its value when it was usable. */
export interface ChainEnd {
  lastMs: number | null;
  lastValue: number | null;
}

export type ChainStep =
  | { kind: 'ignored' }
  /** `area` is in value·hours (kW → kWh); `coveredMs` the time it spans (0 when nothing was integrated). */
  | { kind: 'advanced'; lastMs: number; lastValue: number | null; area: number; coveredMs: number };

export function assertIntegrationOptions(what: string, options: IntegrationOptions): void {
  if (!(isFiniteNumber(options.maxGapMs) && options.maxGapMs > 0)) {
    throw new Error(`${what}: maxGapMs must be a positive number of milliseconds, got ${String(options.maxGapMs)}`);
  }
}

/** The sample's value when it may be integrated, else null. */
export function usableValue(value: unknown, quality: Quality | undefined, options: IntegrationOptions): number | null {
  if (!isFiniteNumber(value)) return null;
  if (quality === 'bad') return null;
  if (quality === 'uncertain' && options.acceptUncertain !== true) return null;
  return value;
}

/** Offers one sample (already reduced to its usable value or null) to the chain. */
export function advanceChain(end: ChainEnd, tMs: number, value: number | null, maxGapMs: number): ChainStep {
  if (!isFiniteNumber(tMs)) return { kind: 'ignored' };
  if (end.lastMs !== null && tMs <= end.lastMs) return { kind: 'ignored' };
  if (value === null || end.lastMs === null || end.lastValue === null || tMs - end.lastMs > maxGapMs) {
    return { kind: 'advanced', lastMs: tMs, lastValue: value, area: 0, coveredMs: 0 };
  }
  const dtMs = tMs - end.lastMs;
  const area = ((end.lastValue + value) / 2) * (dtMs / MS_PER_HOUR);
  return { kind: 'advanced', lastMs: tMs, lastValue: value, area, coveredMs: dtMs };
}
