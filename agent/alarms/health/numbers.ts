/**
 * Inputs of the health calculations come from readings, which may have no value. The convention
 * used by every function in this folder:
 * - a number: the signal's current good value;
 * - null: the signal exists but has no trustworthy value now (bad quality) — results that need
 *   it are null;
 * - undefined (optional inputs only): the device has no such signal at all; the function says
 *   what it assumes instead.
 * Results are a finite number or null, never NaN or ±Infinity.
 */
export type MaybeNumber = number | null | undefined;

export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** The value when it is finite, else null: the last guard before a result leaves this folder. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;
