/**
 * The one rule for a kWh counter's step from one reading to the next, used by the history store
 * (within an hour, in memory and in the SQL merge of two flushes of the same hour) and by the
 * report (between hours). In core because both buffer/ and report/ use it and neither may import
 * the other: a domain rule, like the quality model, not an implementation.
 *
 * - the counter rose (or stayed): the increase is the difference;
 * - it fell to below half of the previous value (COUNTER_RESET_BELOW_FRACTION): a reset — a
 *   replaced meter, a counter restarted from 0, a register that wrapped — and the new value is the
 *   energy since the reset (as Prometheus' increase() does);
 * - it fell by less: a step back, not a reset. The gateway's own counters (calculated devices) are
 *   saved once a minute, so after a crash they resume up to a minute's energy below the last value
 *   published; counting that as a reset would add the whole counter (250 000 kWh) to the day. A
 *   step back adds nothing and is counted (`stepsBack`, `steppedBack` kWh) so the report notes it.
 */

/** A decrease to below this fraction of the previous value is a reset; a smaller decrease is a step back. */
export const COUNTER_RESET_BELOW_FRACTION = 0.5;

export interface CounterStep {
  /** Energy counted for the step (kWh, never negative). */
  increase: number;
  reset: boolean;
  /** kWh the counter stepped back by (0 unless it fell by less than a reset). */
  stepBack: number;
}

export function counterStep(previous: number, next: number): CounterStep {
  if (next >= previous) return { increase: next - previous, reset: false, stepBack: 0 };
  if (next < previous * COUNTER_RESET_BELOW_FRACTION) return { increase: Math.max(0, next), reset: true, stepBack: 0 };
  return { increase: 0, reset: false, stepBack: previous - next };
}
