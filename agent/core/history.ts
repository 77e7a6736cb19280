/**
 * The local history's rows, as the daily report reads them: the contract between the history store
 * (agent/buffer/sqlite-history.ts) and the report (agent/report/), neither of which imports the other.
 */

/** One tag's statistics for one UTC hour. */
export interface HourlyStat {
  device: string;
  tag: string;
  unit: string;
  /** Start of the UTC hour, ms since epoch. */
  hourMs: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  first: number;
  firstMs: number;
  last: number;
  lastMs: number;
  /**
   * kWh counters: Σ of increments within the hour (counterStep in core/counter.ts: a fall to below
   * half the previous value is a reset from 0, a smaller fall a step back that adds nothing); null for other units.
   */
  increase: number | null;
  resets: number | null;
  /** kWh counters: small decreases within the hour (how many, and kWh in all); absent or null: none known. */
  stepsBack?: number | null;
  steppedBack?: number | null;
}

/** An alarm event as the history keeps it (the fields the report needs). */
export interface HistoryAlarmEvent {
  tsMs: number;
  alarm: string;
  device: string;
  tag: string;
  /** raised, returned, cleared, acknowledged, shelved, … */
  type: string;
  priority: string;
  /** The ISA-18.2 state after the event. */
  state: string;
  message: string;
  value: number | boolean | string | null;
  unit: string;
}
