import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../../agent/core/alarm.js';
import { historyPathFor, SqliteHistory } from '../../../agent/buffer/sqlite-history.js';
import { produceDailyReport, type ReportHistory } from '../../../agent/report/index.js';
import type { ReportRunLog } from '../../../agent/scheduler/daily-report.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 5, 10, 8); // an hour start

function alarm(tsMs: number, ruleId: string, type: AlarmEvent['type'], state: AlarmEvent['state'], value: AlarmEvent['value'] = 1): AlarmEvent {
  return { type, ruleId, device: ruleId.split('.')[0]!, tag: ruleId.split('.')[1]!, priority: 'high', state, message: `${ruleId}!`, value, unit: '°C', tsMs };
}

describe('SqliteHistory', () => {
  let dir: string;
  let history: SqliteHistory;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'allbit-history-'));
    history = new SqliteHistory({ path: join(dir, 'outbox-history.db') });
  });
  afterEach(() => {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives beside the outbox', () => {
    expect(historyPathFor('data/outbox.db')).toBe('data/outbox-history.db');
    expect(historyPathFor('data/buffer')).toBe('data/buffer-history.db');
  });

  it('accumulates readings in memory and writes one row per tag and hour on flush', () => {
    history.recordReading('chiller-1', 'supply_c', '°C', 7, T0 + 1000);
    history.recordReading('chiller-1', 'supply_c', '°C', 9, T0 + 2000);
    history.recordReading('chiller-1', 'supply_c', '°C', 6, T0 + 3000);
    history.recordReading('chiller-1', 'supply_c', '°C', 8, T0 + HOUR + 5);
    history.recordReading('chiller-1', 'supply_c', '°C', 100, T0 + 4000, 'uncertain');
    history.recordReading('chiller-1', 'running', '', true, T0 + 4000);
    history.recordReading('chiller-1', 'supply_c', '°C', Number.NaN, T0 + 4000);
    expect(history.hourlyStats(T0, T0 + DAY)).toEqual([]);
    expect(history.pendingRows()).toBe(2);
    expect(history.flush(T0 + 2 * HOUR)).toEqual({ rows: 2, pruned: 0 });
    expect(history.pendingRows()).toBe(0);
    expect(history.hourlyStats(T0, T0 + DAY)).toEqual([
      { device: 'chiller-1', tag: 'supply_c', unit: '°C', hourMs: T0, count: 3, min: 6, max: 9, sum: 22, first: 7, firstMs: T0 + 1000, last: 6, lastMs: T0 + 3000, increase: null, resets: null, stepsBack: null, steppedBack: null },
      { device: 'chiller-1', tag: 'supply_c', unit: '°C', hourMs: T0 + HOUR, count: 1, min: 8, max: 8, sum: 8, first: 8, firstMs: T0 + HOUR + 5, last: 8, lastMs: T0 + HOUR + 5, increase: null, resets: null, stepsBack: null, steppedBack: null },
    ]);
  });

  it('merges an hour written by several flushes, counting the counter step between them', () => {
    history.recordReadings([
      { device: 'ups-1', tag: 'out_kwh', unit: 'kWh', value: 100, timestampMs: T0 + 1000, quality: 'good' },
      { device: 'ups-1', tag: 'out_kwh', unit: 'kWh', value: 110, timestampMs: T0 + 2000, quality: 'good' },
    ]);
    history.flush(T0 + 3000);
    history.recordReading('ups-1', 'out_kwh', 'kWh', 115, T0 + 4000);
    history.recordReading('ups-1', 'out_kwh', 'kWh', 3, T0 + 5000); // meter replaced: restarts from 0
    history.recordReading('ups-1', 'out_kwh', 'kWh', 8, T0 + 6000);
    history.flush(T0 + 7000);
    history.recordReading('ups-1', 'out_kwh', 'kWh', 2, T0 + 8000); // another reset (below half of 8), across a flush
    history.close(T0 + 9000); // close flushes
    history = new SqliteHistory({ path: join(dir, 'outbox-history.db') });
    expect(history.hourlyStats(T0, T0 + HOUR)).toEqual([
      { device: 'ups-1', tag: 'out_kwh', unit: 'kWh', hourMs: T0, count: 6, min: 2, max: 115, sum: 338, first: 100, firstMs: T0 + 1000, last: 2, lastMs: T0 + 8000, increase: 10 + 5 + 3 + 5 + 2, resets: 2, stepsBack: 0, steppedBack: 0 },
    ]);
  });

  // A calculated device's counter is saved once a minute: after a crash it resumes up to a
  // minute's energy below the value last published. That is a step back, not a reset from 0.
  it('counts a small step back of a kWh counter as no increase, not as a reset (in memory)', () => {
    history.recordReading('site', 'it_kwh', 'kWh', 250_000, T0 + 1000);
    history.recordReading('site', 'it_kwh', 'kWh', 250_020, T0 + 2000);
    history.recordReading('site', 'it_kwh', 'kWh', 249_990, T0 + 3000); // restarted from the state saved a minute earlier
    history.recordReading('site', 'it_kwh', 'kWh', 250_000, T0 + 4000);
    history.flush(T0 + 5000);
    expect(history.hourlyStats(T0, T0 + HOUR)[0]).toMatchObject({ increase: 20 + 10, resets: 0, stepsBack: 1, steppedBack: 30 });
  });

  it('counts a small step back between two flushes of one hour as no increase, not as a reset (SQL merge)', () => {
    history.recordReading('site', 'it_kwh', 'kWh', 250_000, T0 + 1000);
    history.recordReading('site', 'it_kwh', 'kWh', 250_020, T0 + 2000);
    history.flush(T0 + 2500);
    history.recordReading('site', 'it_kwh', 'kWh', 249_990, T0 + 3000); // first reading after the crash
    history.recordReading('site', 'it_kwh', 'kWh', 250_000, T0 + 4000);
    history.flush(T0 + 5000);
    history.recordReading('site', 'it_kwh', 'kWh', 100, T0 + 6000); // meter replaced: below half, a reset
    history.flush(T0 + 7000);
    expect(history.hourlyStats(T0, T0 + HOUR)[0]).toMatchObject({ count: 5, increase: 20 + 0 + 10 + 100, resets: 1, stepsBack: 1, steppedBack: 30 });
  });

  it('adds the step-back columns to a history file written before them', () => {
    history.close();
    const path = join(dir, 'old-history.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE hourly_stats (
      device TEXT NOT NULL, tag TEXT NOT NULL, hour_ms INTEGER NOT NULL, unit TEXT NOT NULL,
      count INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
      first REAL NOT NULL, first_ms INTEGER NOT NULL, last REAL NOT NULL, last_ms INTEGER NOT NULL,
      increase REAL, resets INTEGER, PRIMARY KEY (device, tag, hour_ms)) WITHOUT ROWID`);
    old.prepare('INSERT INTO hourly_stats VALUES (?, ?, ?, ?, 1, 50, 50, 50, 50, ?, 50, ?, 0, 0)').run('site', 'it_kwh', T0, 'kWh', T0 + 1000, T0 + 1000);
    old.close();
    history = new SqliteHistory({ path });
    history.recordReading('site', 'it_kwh', 'kWh', 45, T0 + 2000);
    history.flush(T0 + 3000);
    expect(history.hourlyStats(T0, T0 + HOUR)[0]).toMatchObject({ count: 2, increase: 0, resets: 0, stepsBack: 1, steppedBack: 5 });
  });

  it('keeps alarm events and replays the state before a time (latest event and latest raise per alarm)', () => {
    history.recordAlarmEvents([alarm(T0, 'a.t.H', 'raised', 'active-unack', 9.5), alarm(T0 + 10, 'a.t.H', 'acknowledged', 'active-ack'), alarm(T0 + 20, 'b.t.H', 'raised', 'active-unack', null)]);
    history.recordAlarmEvents([alarm(T0 + 30, 'b.t.H', 'returned', 'returned-unack', 'off'), alarm(T0 + 40, 'a.t.H', 'cleared', 'normal', true)]);
    expect(history.alarmEvents(T0 + 10, T0 + 40).map((e) => [e.alarm, e.type, e.value])).toEqual([
      ['a.t.H', 'acknowledged', 1],
      ['b.t.H', 'raised', null],
      ['b.t.H', 'returned', 'off'],
    ]);
    expect(history.alarmEvents(T0, T0 + 1)[0]).toEqual({ tsMs: T0, alarm: 'a.t.H', device: 'a', tag: 't', type: 'raised', priority: 'high', state: 'active-unack', message: 'a.t.H!', value: 9.5, unit: '°C' });
    expect(history.lastAlarmEventsBefore(T0 + 35).map((e) => [e.alarm, e.type])).toEqual([
      ['a.t.H', 'raised'],
      ['a.t.H', 'acknowledged'],
      ['b.t.H', 'raised'],
      ['b.t.H', 'returned'],
    ]);
  });

  it('prunes statistics and events older than the retention on flush, keeping each alarm’s latest events', () => {
    history.close();
    history = new SqliteHistory({ path: join(dir, 'outbox-history.db'), retentionDays: 2 });
    history.recordReading('d', 't', 'kW', 1, T0);
    history.recordReading('d', 't', 'kW', 1, T0 + DAY);
    history.recordReading('d', 't', 'kW', 1, T0 + 2 * DAY + HOUR);
    history.recordAlarmEvents([alarm(T0, 'old.t.H', 'raised', 'active-unack'), alarm(T0 + 1, 'old.t.H', 'acknowledged', 'active-ack'), alarm(T0 + 2, 'gone.t.H', 'raised', 'active-unack')]);
    history.recordAlarmEvents([alarm(T0 + 3, 'gone.t.H', 'returned', 'returned-unack'), alarm(T0 + 4, 'gone.t.H', 'raised', 'active-unack'), alarm(T0 + 5, 'gone.t.H', 'returned', 'returned-unack')]);
    expect(history.flush(T0 + 2 * DAY + 2 * HOUR)).toEqual({ rows: 3, pruned: 1 + 2 });
    expect(history.hourlyStats(0, T0 + 3 * DAY).map((s) => s.hourMs)).toEqual([T0 + DAY, T0 + 2 * DAY + HOUR]);
    // The still-active alarm keeps its raise (so the report knows since when); the other its latest raise and return.
    expect(history.lastAlarmEventsBefore(T0 + 3 * DAY).map((e) => [e.alarm, e.type, e.tsMs - T0])).toEqual([
      ['old.t.H', 'raised', 0],
      ['old.t.H', 'acknowledged', 1],
      ['gone.t.H', 'raised', 4],
      ['gone.t.H', 'returned', 5],
    ]);
  });

  it('records report runs durably; the recorded end only moves forward', () => {
    expect(history.lastReportEndMs()).toBeNull();
    history.recordReportRun(T0, T0 + 5);
    history.recordReportRun(T0 - DAY, T0 + 6);
    expect(history.lastReportEndMs()).toBe(T0);
    history.close();
    history = new SqliteHistory({ path: join(dir, 'outbox-history.db') });
    expect(history.lastReportEndMs()).toBe(T0);
    expect(history.lastReportEndMs('weekly')).toBeNull();
  });

  it('refuses a damaged file with an error naming it', () => {
    const bad = join(dir, 'damaged-history.db');
    writeFileSync(bad, 'this is not a SQLite database, just text long enough to look like a header.'.repeat(20));
    expect(() => new SqliteHistory({ path: bad })).toThrow(`history ${bad}: cannot open (damaged, not a SQLite file, or not writable)`);
    expect(() => new SqliteHistory({ path: join(dir, 'x.db'), retentionDays: 0 })).toThrow(/retentionDays must be a number > 0/);
  });

  it('serves the report and the schedule (one store, both shapes) and feeds a report end to end', () => {
    const asHistory: ReportHistory = history;
    const asRunLog: ReportRunLog = history;
    expect(asRunLog.lastReportEndMs()).toBeNull();
    const from = T0;
    for (let i = 0; i < 24; i++) {
      if (i >= 3 && i < 5) continue; // two hours without data
      for (let k = 0; k < 6; k++) history.recordReading('chiller-1', 'kw_per_ton', 'kW/ton', 0.6 + i * 0.005, from + i * HOUR + k * 600_000);
    }
    history.recordAlarmEvents([alarm(from + HOUR, 'chiller-1.t.H', 'raised', 'active-unack')]);
    // Not flushed: produceDailyReport flushes first.
    const { report, markdown } = produceDailyReport(asHistory, { fromMs: from, toMs: from + DAY, date: '2026-06-10', timeZone: 'UTC' }, { gateway: { id: 'gw' }, devices: ['chiller-1'], healthTags: [{ device: 'chiller-1', tag: 'kw_per_ton' }] }, from + DAY);
    expect(report.coverage.devices).toEqual([{ device: 'chiller-1', hoursWithData: 22, missing: ['11:00–13:00'] }]);
    expect(report.health[0]).toMatchObject({ first: 0.6, last: 0.715, hoursWithData: 22 });
    expect(report.alarms.activeAtEnd.map((a) => a.alarm)).toEqual(['chiller-1.t.H']);
    expect(markdown).toContain('no data from chiller-1 for 2 of 24 hours (11:00–13:00)');
  });
});
