/**
 * The daily operations report: what goes in (plain data the runtime gathers from the history
 * store and the configuration) and what comes out (a versioned JSON object). docs/reports.md
 * describes every field and the thresholds of the attention findings.
 */

import type { TagRef } from '../core/calculation.js';
import type { HistoryAlarmEvent, HourlyStat } from '../core/history.js';

export const REPORT_VERSION = 1;

/** A tag of a device, real or calculated ("chiller-1" / "kw_per_ton"); the history's hourly row. */
export type { TagRef, HourlyStat };
/** An alarm event as the report reads it from the history. */
export type ReportAlarmEvent = HistoryAlarmEvent;

/** Thresholds of the attention findings (defaults in DEFAULT_THRESHOLDS, documented in docs/reports.md). */
export interface AttentionThresholds {
  /** A health tag's hourly average moved by at least this many percent from the first to the last hour with data. */
  trendPct: number;
  /** … or, for a tag in %, by at least this many points. */
  trendPoints: number;
  /** A health tag's average differs from the previous 24 h by at least this many percent (points for %). */
  vsPreviousPct: number;
  vsPreviousPoints: number;
  /** An alarm occurrence active at least this long within the window. */
  longAlarmMs: number;
  /** An alarm raised at least this many times in the window (chattering or a recurring fault). */
  repeatedRaises: number;
  /** A device without data for at least this many hours of the window. */
  missingHours: number;
  /** PUE from energy differs from the previous 24 h by at least this many percent. */
  pueChangePct: number;
}

export const DEFAULT_THRESHOLDS: AttentionThresholds = {
  trendPct: 10,
  trendPoints: 2,
  vsPreviousPct: 10,
  vsPreviousPoints: 2,
  longAlarmMs: 60 * 60_000,
  repeatedRaises: 5,
  missingHours: 1,
  pueChangePct: 5,
};

export interface DailyReportInput {
  gateway: { id: string; name?: string };
  /**
   * The window [fromMs, toMs), its local date and time zone (from the schedule). `scheduledFromMs`:
   * set when the schedule moved the start to the end of the previous report (after a change of the
   * report time or time zone), the start the schedule's day would have had.
   */
  window: { fromMs: number; toMs: number; date: string; timeZone: string; scheduledFromMs?: number };
  generatedMs: number;
  /** Every device (real and calculated) that is expected to deliver data: the coverage is computed for these. */
  devices: readonly string[];
  /**
   * Hourly statistics of [floorHour(fromMs) − 24 h, toMs): the window's whole UTC hours and the 24 h
   * before them (for the comparison and the counter reading at the start). Statistics are by whole
   * UTC hours [floorHour(fromMs), floorHour(toMs)), so consecutive reports add up for any report time.
   */
  stats: readonly HourlyStat[];
  /** Alarm events with fromMs ≤ tsMs < toMs. */
  alarmEvents: readonly ReportAlarmEvent[];
  /** The latest event of each alarm before fromMs (which alarms were active when the window began). */
  alarmsBefore: readonly ReportAlarmEvent[];
  /** Equipment health and KPI tags to trend (chiller kw_per_ton, cop, approaches, battery health, …). */
  healthTags: readonly TagRef[];
  /** Facility energy: kWh counters of the IT load and of the whole facility, and a live PUE tag. */
  facility?: { itEnergy: readonly TagRef[]; facilityEnergy: readonly TagRef[]; pue?: TagRef };
  thresholds?: Partial<AttentionThresholds>;
}

export type Priority = 'critical' | 'high' | 'medium' | 'low';
export type PriorityCounts = Record<Priority, number> & { total: number };

export interface AttentionFinding {
  /** What the finding is about: alarm, coverage, trend, energy, kpi. */
  kind: 'alarm' | 'coverage' | 'trend' | 'energy' | 'kpi';
  /** "chiller-1", "chiller-1.kw_per_ton", an alarm id, or "facility". */
  subject: string;
  text: string;
}

export interface RaisedAlarm {
  alarm: string;
  device: string;
  tag: string;
  priority: string;
  message: string;
  value: number | boolean | string | null;
  unit: string;
  raisedAt: string;
  raisedMs: number;
  /** When its condition cleared (returned or cleared), if within the window. */
  clearedAt: string | null;
  clearedMs: number | null;
}

export interface ActiveSpan {
  alarm: string;
  device: string;
  tag: string;
  priority: string;
  message: string;
  unit: string;
  /** Raised at (may be before the window). */
  since: string;
  sinceMs: number;
  /** Cleared at; null while still active at the window's end. */
  until: string | null;
  untilMs: number | null;
  /** From raise to clear (or to the window's end). */
  activeMs: number;
  /** The part within the window. */
  activeInWindowMs: number;
  stillActive: boolean;
}

export interface StillActiveAlarm {
  alarm: string;
  device: string;
  tag: string;
  priority: string;
  state: string;
  message: string;
  value: number | boolean | string | null;
  unit: string;
  since: string;
  sinceMs: number;
  activeMs: number;
}

export interface Change {
  /** Difference in the tag's unit. */
  abs: number;
  /** Relative change in %; null when the reference is 0. */
  pct: number | null;
}

export interface HealthTrend {
  device: string;
  tag: string;
  unit: string;
  /** Null when the tag had no data in the window. */
  first: number | null;
  last: number | null;
  min: number | null;
  max: number | null;
  avg: number | null;
  firstHourAvg: number | null;
  lastHourAvg: number | null;
  /** lastHourAvg − firstHourAvg. */
  changeOverDay: Change | null;
  /** Average over the 24 h before the window. */
  previousAvg: number | null;
  changeVsPrevious: Change | null;
  hoursWithData: number;
}

export interface DeviceEnergy {
  device: string;
  tag: string;
  unit: string;
  kwh: number | null;
  /** Counter reading at the window's start (the last reading before it, else the first in it) and at its end. */
  counterStart: number | null;
  counterEnd: number | null;
  resets: number;
  /** Small decreases (not resets), counted as no increase, and the kWh they stepped back by in all. */
  stepsBack: number;
  steppedBackKwh: number;
  hoursWithData: number;
  notes: string[];
}

export interface FacilityKpis {
  itKwh: number | null;
  facilityKwh: number | null;
  /** Facility kWh ÷ IT kWh over the window. */
  pueFromEnergy: number | null;
  previousPueFromEnergy: number | null;
  /** The live PUE tag over the window. */
  pueAvg: number | null;
  pueMin: number | null;
  pueMax: number | null;
  notes: string[];
}

export interface DeviceCoverage {
  device: string;
  hoursWithData: number;
  /** Missing hours as local-time ranges ("13:00–18:00"), in order. */
  missing: string[];
}

export interface DailyReport {
  v: typeof REPORT_VERSION;
  kind: 'allbit.daily-report';
  gateway: { id: string; name: string };
  window: {
    date: string;
    from: string;
    to: string;
    fromMs: number;
    toMs: number;
    timeZone: string;
    hours: number;
    /** The hourly statistics (health, energy, facility, coverage) cover whole UTC hours [statsFromMs, statsToMs): the window's edges floored to the hour. Alarms use the exact window. */
    statsFrom: string;
    statsTo: string;
    statsFromMs: number;
    statsToMs: number;
    /** Null, or the start the schedule's day would have had when the window was moved to start at the end of the previous report. */
    scheduledFrom: string | null;
    scheduledFromMs: number | null;
  };
  generated: string;
  /** Plain-words findings, most urgent first. */
  attention: AttentionFinding[];
  alarms: {
    raised: PriorityCounts;
    cleared: PriorityCounts;
    raisedList: RaisedAlarm[];
    /** raisedList holds at most 200 entries; true when more were raised. */
    raisedListTruncated: boolean;
    longestActive: ActiveSpan[];
    activeAtEnd: StillActiveAlarm[];
  };
  health: HealthTrend[];
  energy: DeviceEnergy[];
  facility: FacilityKpis | null;
  coverage: { windowHours: number; hoursWithAnyData: number; devices: DeviceCoverage[] };
  thresholds: AttentionThresholds;
}
