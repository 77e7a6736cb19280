/**
 * Consecutive reports add up: what one report leaves out the next one counts, whatever the report
 * time, the zone's offset or a change of either. Fed minute by minute through the real history
 * store, each report made at its window's end (the hour holding it still filling).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteHistory } from '../../../agent/buffer/sqlite-history.js';
import { produceDailyReport, type DailyReport, type ReportContent } from '../../../agent/report/index.js';
import { dueWindows, parseLocalTime, windowEndingOn, type ReportWindow } from '../../../agent/scheduler/daily-report.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const content: ReportContent = { gateway: { id: 'gw' }, devices: ['site'], healthTags: [] };

describe('consecutive reports', () => {
  let dir: string;
  let history: SqliteHistory;
  let fedUntilMs: number;
  /** A counter rising 1 kWh a minute from 100 000 at `startMs`. */
  let startMs: number;
  const counterAt = (t: number): number => 100_000 + (t - startMs) / MINUTE;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'allbit-windows-'));
    history = new SqliteHistory({ path: join(dir, 'history.db') });
  });
  afterEach(() => {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Feeds a reading each minute up to (not including) `untilMs`, flushing every minute as the agent does. */
  function feed(untilMs: number): void {
    for (let t = fedUntilMs; t < untilMs; t += MINUTE) {
      history.recordReading('site', 'it_kwh', 'kWh', counterAt(t), t);
      history.flush(t);
    }
    fedUntilMs = untilMs;
  }

  /** Runs the report of `window` at its end, with only the readings before it in the history. */
  function reportAt(window: ReportWindow): DailyReport {
    feed(window.toMs);
    return produceDailyReport(history, window, content, window.toMs).report;
  }

  it('Asia/Kolkata at 06:00 (00:30 UTC): two consecutive reports’ energies add up to the counter’s rise', () => {
    const six = parseLocalTime('06:00');
    const first = windowEndingOn('2026-06-11', six, 'Asia/Kolkata');
    const second = windowEndingOn('2026-06-12', six, 'Asia/Kolkata');
    expect(new Date(first.toMs).toISOString()).toBe('2026-06-11T00:30:00.000Z');
    expect(second.fromMs).toBe(first.toMs);
    startMs = first.fromMs - 3 * HOUR;
    fedUntilMs = startMs;
    const a = reportAt(first);
    const b = reportAt(second);
    const [ea] = a.energy;
    const [eb] = b.energy;
    // The second report starts where the first ended: the half hour 00:00–00:30 UTC the first one
    // left out (it was still filling) is the second one's, and the hour counted by the first is not counted again.
    expect(eb!.counterStart).toBe(ea!.counterEnd);
    expect(ea!.kwh! + eb!.kwh!).toBe(eb!.counterEnd! - ea!.counterStart!);
    // Each report: 24 whole UTC hours of 60 kWh.
    expect([ea!.kwh, eb!.kwh]).toEqual([1440, 1440]);
    expect(a.window).toMatchObject({ statsFrom: '2026-06-10T00:00:00.000Z', statsTo: '2026-06-11T00:00:00.000Z', scheduledFrom: null });
    expect(b.coverage.windowHours).toBe(24);
    expect(b.coverage.devices).toEqual([{ device: 'site', hoursWithData: 24, missing: [] }]);
  });

  it('says in the report that statistics are by whole UTC hours when the window’s edges are not on the hour', () => {
    const window = windowEndingOn('2026-06-11', parseLocalTime('06:00'), 'Asia/Kolkata');
    startMs = window.fromMs - 2 * HOUR;
    fedUntilMs = startMs;
    feed(window.toMs);
    const { markdown } = produceDailyReport(history, window, content, window.toMs);
    expect(markdown).toContain('Statistics (health, energy, facility KPIs, data coverage) are by whole UTC hours: 2026-06-10 05:30 to 2026-06-11 05:30; alarms by the exact window.');
  });

  it('after a change of the report time (06:00 → 07:00) and of the time zone (→ Asia/Kolkata), every kWh is in exactly one report', () => {
    const berlinSix = windowEndingOn('2026-06-10', parseLocalTime('06:00'), 'Europe/Berlin');
    startMs = berlinSix.fromMs - 3 * HOUR;
    fedUntilMs = startMs;
    const reports = [reportAt(berlinSix)];
    let lastEndMs = berlinSix.toMs;
    // Restarted with 07:00, then with Asia/Kolkata 06:00: the schedule derives the windows from the run log.
    const schedules: [string, string, number][] = [
      ['07:00', 'Europe/Berlin', Date.UTC(2026, 5, 12, 6)],
      ['06:00', 'Asia/Kolkata', Date.UTC(2026, 5, 14, 1)],
    ];
    const windows: ReportWindow[] = [];
    for (const [time, zone, nowMs] of schedules) {
      for (const w of dueWindows(nowMs, lastEndMs, parseLocalTime(time), zone, 7).windows) {
        windows.push(w);
        reports.push(reportAt(w));
        lastEndMs = w.toMs;
      }
    }
    expect(windows.map((w) => [w.date, w.timeZone, (w.toMs - w.fromMs) / HOUR, w.scheduledFromMs !== undefined])).toEqual([
      ['2026-06-10', 'Europe/Berlin', 25, true], // joined: 06:00–07:00 alone would also have been named 2026-06-10
      ['2026-06-11', 'Europe/Berlin', 24, false],
      ['2026-06-12', 'Asia/Kolkata', 19.5, true], // 07:00 CEST = 10:30 IST to 06:00 IST
      ['2026-06-13', 'Asia/Kolkata', 24, false],
    ]);
    expect(new Set(reports.map((r) => r.window.date)).size).toBe(reports.length);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]!.window.fromMs).toBe(reports[i - 1]!.window.toMs);
      expect(reports[i]!.energy[0]!.counterStart).toBe(reports[i - 1]!.energy[0]!.counterEnd);
    }
    const total = reports.reduce((sum, r) => sum + r.energy[0]!.kwh!, 0);
    expect(total).toBe(reports[reports.length - 1]!.energy[0]!.counterEnd! - reports[0]!.energy[0]!.counterStart!);
    expect(reports[1]!.window).toMatchObject({ hours: 25, scheduledFrom: '2026-06-10T05:00:00.000Z' });
  });

  it('says in the report that the window was moved to start where the previous report ended', () => {
    const lastEndMs = Date.UTC(2026, 5, 10, 4); // 06:00 CEST
    // At 07:00 the next day (restarted with 07:00): 06:00–07:00 of 2026-06-10 is joined to the day after it.
    const [w] = dueWindows(Date.UTC(2026, 5, 11, 5), lastEndMs, parseLocalTime('07:00'), 'Europe/Berlin', 7).windows;
    startMs = lastEndMs - 3 * HOUR;
    fedUntilMs = startMs;
    feed(w!.toMs);
    const { markdown } = produceDailyReport(history, w!, content, w!.toMs);
    expect(markdown).toContain('Window: 2026-06-10 06:00 (UTC+02:00) to 2026-06-11 07:00 (UTC+02:00), Europe/Berlin, 25 h.');
    expect(markdown).toContain('The window starts where the previous report ended, not at the scheduled 2026-06-10 07:00 (the report time or time zone was changed): lengthened by 1 h, so no hour is reported twice or left out.');
  });
});
