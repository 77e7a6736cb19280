/**
 * From the history store to a report: gathers the input (flushing pending statistics first, so
 * the last hour is complete), builds the JSON report and renders the Markdown. The store is
 * taken by its shape (SqliteHistory satisfies it), so report/ does not depend on buffer/.
 */
import { buildDailyReport, floorHour } from './build.js';
import { renderReportMarkdown } from './markdown.js';
import type { AttentionThresholds, DailyReport, DailyReportInput, HourlyStat, ReportAlarmEvent, TagRef } from './types.js';

const DAY_MS = 86_400_000;

export interface ReportHistory {
  flush(nowMs: number): unknown;
  hourlyStats(fromMs: number, toMs: number): HourlyStat[];
  alarmEvents(fromMs: number, toMs: number): ReportAlarmEvent[];
  lastAlarmEventsBefore(beforeMs: number): ReportAlarmEvent[];
}

/** What the configuration says the report covers; the same for every run. */
export interface ReportContent {
  gateway: { id: string; name?: string };
  /** Every device, real and calculated. */
  devices: readonly string[];
  healthTags: readonly TagRef[];
  facility?: { itEnergy: readonly TagRef[]; facilityEnergy: readonly TagRef[]; pue?: TagRef };
  thresholds?: Partial<AttentionThresholds>;
}

export function collectReportInput(history: ReportHistory, window: DailyReportInput['window'], content: ReportContent, nowMs: number): DailyReportInput {
  history.flush(nowMs);
  return {
    gateway: content.gateway,
    window: { fromMs: window.fromMs, toMs: window.toMs, date: window.date, timeZone: window.timeZone, ...(window.scheduledFromMs !== undefined ? { scheduledFromMs: window.scheduledFromMs } : {}) },
    generatedMs: nowMs,
    devices: content.devices,
    // Whole UTC hours: from the hour holding the window's start, and the 24 h before it.
    stats: history.hourlyStats(floorHour(window.fromMs) - DAY_MS, window.toMs),
    alarmEvents: history.alarmEvents(window.fromMs, window.toMs),
    alarmsBefore: history.lastAlarmEventsBefore(window.fromMs),
    healthTags: content.healthTags,
    ...(content.facility ? { facility: content.facility } : {}),
    ...(content.thresholds ? { thresholds: content.thresholds } : {}),
  };
}

/** collect → build → render: the report and its Markdown for one window. */
export function produceDailyReport(history: ReportHistory, window: DailyReportInput['window'], content: ReportContent, nowMs: number): { report: DailyReport; markdown: string } {
  const report = buildDailyReport(collectReportInput(history, window, content, nowMs));
  return { report, markdown: renderReportMarkdown(report) };
}
