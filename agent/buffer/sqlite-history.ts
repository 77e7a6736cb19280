/**
 * A small local history for the daily operations report, in one SQLite file beside the outbox:
 *
 * - alarm events: every AlarmEvent, one row each, written at once (they are rare);
 * - hourly statistics per numeric tag (count, min, max, sum, first, last and, for energy counters,
 *   the increase, the number of resets and of small steps back — the rule is counterStep in
 *   agent/core/counter.ts), fed reading by reading into an in-memory accumulator
 *   and written by `flush(nowMs)` in ONE transaction — so 10k readings/s cost a Map update each,
 *   not a row write. The flush cadence is the caller's (once a minute and at close);
 * - report runs: the end of the last report window, so a restart knows what it missed.
 *
 * Hours are UTC hours (`hourMs` is a multiple of 3 600 000). Only good-quality finite numbers are
 * counted (an out-of-range or stale value would distort min/max). Rows older than the retention
 * are pruned on flush; the latest event of each alarm is kept whatever its age, so an alarm active
 * for longer than the retention is still known to be active.
 *
 * Durability: WAL, synchronous=NORMAL — a power cut may lose the last flush, which only costs
 * statistics of a minute or a repeated report (the report is idempotent: same file names, same
 * retained topic). The file is not locked exclusively, so a reporting tool may read it while the
 * agent runs (the outbox's exclusive lock already refuses a second agent).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AlarmEvent } from '../core/alarm.js';
// The counter rule is shared with the report's between-hour steps (one rule, one place); the
// module has no imports, so this adds no dependency on the rest of report/.
import { counterStep } from '../core/counter.js';
import type { HistoryAlarmEvent, HourlyStat } from '../core/history.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
export const DEFAULT_HISTORY_RETENTION_DAYS = 35;

export type { HistoryAlarmEvent, HourlyStat } from '../core/history.js';

export interface SqliteHistoryOptions {
  path: string;
  /** Rows older than this many days are deleted on flush (default 35). */
  retentionDays?: number;
}

export interface FlushResult {
  /** Hour rows written (inserted or merged). */
  rows: number;
  /** Rows deleted by the retention. */
  pruned: number;
}

/** Energy counters are recognised by their unit. */
export function isEnergyUnit(unit: string): boolean {
  return unit.trim().toLowerCase() === 'kwh';
}

interface Bucket {
  hourMs: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  first: number;
  firstMs: number;
  last: number;
  lastMs: number;
  increase: number;
  resets: number;
  stepsBack: number;
  steppedBack: number;
}

interface Series {
  device: string;
  tag: string;
  unit: string;
  counter: boolean;
  buckets: Map<number, Bucket>;
  current: Bucket | null;
}

type StatRow = {
  device: string;
  tag: string;
  unit: string;
  hour_ms: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  first: number;
  first_ms: number;
  last: number;
  last_ms: number;
  increase: number | null;
  resets: number | null;
  steps_back: number | null;
  stepped_back: number | null;
};

type EventRow = { ts_ms: number; alarm: string; device: string; tag: string; type: string; priority: string; state: string; message: string; value: string | null; unit: string };

export class SqliteHistory {
  readonly path: string;
  readonly retentionDays: number;
  private readonly db: Database.Database;
  /** device → tag → series: two lookups per reading, no key string built per reading. */
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly upsertStat: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private pending = 0;

  constructor(options: SqliteHistoryOptions) {
    this.path = resolve(options.path);
    this.retentionDays = options.retentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS;
    if (!(Number.isFinite(this.retentionDays) && this.retentionDays > 0)) {
      throw new Error(`history ${this.path}: retentionDays must be a number > 0, got ${String(options.retentionDays)}`);
    }
    let db: Database.Database | null = null;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.db = db = new Database(this.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // Written once a minute, read once a day: a small page cache is enough (the default 2 MB is RSS for nothing).
      this.db.pragma('cache_size = -256');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS alarm_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, alarm TEXT NOT NULL, device TEXT NOT NULL, tag TEXT NOT NULL,
          type TEXT NOT NULL, priority TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL, value TEXT, unit TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS alarm_events_ts ON alarm_events (ts_ms);
        CREATE INDEX IF NOT EXISTS alarm_events_alarm ON alarm_events (alarm, id);
        CREATE TABLE IF NOT EXISTS hourly_stats (
          device TEXT NOT NULL, tag TEXT NOT NULL, hour_ms INTEGER NOT NULL, unit TEXT NOT NULL,
          count INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
          first REAL NOT NULL, first_ms INTEGER NOT NULL, last REAL NOT NULL, last_ms INTEGER NOT NULL,
          increase REAL, resets INTEGER, steps_back INTEGER, stepped_back REAL,
          PRIMARY KEY (device, tag, hour_ms)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS hourly_stats_hour ON hourly_stats (hour_ms);
        CREATE TABLE IF NOT EXISTS report_runs (name TEXT PRIMARY KEY, window_end_ms INTEGER NOT NULL, ran_ms INTEGER NOT NULL);
      `);
      // Files from before the step-back columns: add them (NULL in old rows reads as 0).
      const columns = new Set((this.db.prepare('PRAGMA table_info(hourly_stats)').all() as { name: string }[]).map((c) => c.name));
      if (!columns.has('steps_back')) this.db.exec('ALTER TABLE hourly_stats ADD COLUMN steps_back INTEGER');
      if (!columns.has('stepped_back')) this.db.exec('ALTER TABLE hourly_stats ADD COLUMN stepped_back REAL');
    } catch (cause) {
      if (db?.open) db.close();
      throw new Error(`history ${this.path}: cannot open (damaged, not a SQLite file, or not writable): ${(cause as Error).message}`, { cause });
    }
    // The step between two flushes of one hour follows the same rule as a step in memory: the SQL
    // calls counterStep itself (registered on this connection only; readers of the file never need it).
    this.db.function('allbit_counter_increase', { deterministic: true }, (previous, next) => counterStep(previous as number, next as number).increase);
    this.db.function('allbit_counter_reset', { deterministic: true }, (previous, next) => (counterStep(previous as number, next as number).reset ? 1 : 0));
    this.db.function('allbit_counter_step_back', { deterministic: true }, (previous, next) => counterStep(previous as number, next as number).stepBack);
    // In an UPSERT's SET every column reference is the row's old value, so the merge below is
    // order-independent within the statement. Two parts of the same hour written by different
    // flushes are joined: the step from the old last reading to the new first one counts too.
    this.upsertStat = this.db.prepare(`
      INSERT INTO hourly_stats (device, tag, hour_ms, unit, count, min, max, sum, first, first_ms, last, last_ms, increase, resets, steps_back, stepped_back)
      VALUES (@device, @tag, @hourMs, @unit, @count, @min, @max, @sum, @first, @firstMs, @last, @lastMs, @increase, @resets, @stepsBack, @steppedBack)
      ON CONFLICT (device, tag, hour_ms) DO UPDATE SET
        unit = excluded.unit,
        count = count + excluded.count,
        min = MIN(min, excluded.min),
        max = MAX(max, excluded.max),
        sum = sum + excluded.sum,
        first = CASE WHEN excluded.first_ms < first_ms THEN excluded.first ELSE first END,
        first_ms = MIN(first_ms, excluded.first_ms),
        last = CASE WHEN excluded.last_ms >= last_ms THEN excluded.last ELSE last END,
        last_ms = MAX(last_ms, excluded.last_ms),
        increase = CASE WHEN excluded.increase IS NULL THEN increase
          ELSE COALESCE(increase, 0) + excluded.increase
            + CASE WHEN excluded.first_ms >= last_ms THEN allbit_counter_increase(last, excluded.first) ELSE 0 END END,
        resets = CASE WHEN excluded.resets IS NULL THEN resets
          ELSE COALESCE(resets, 0) + excluded.resets + CASE WHEN excluded.first_ms >= last_ms THEN allbit_counter_reset(last, excluded.first) ELSE 0 END END,
        steps_back = CASE WHEN excluded.steps_back IS NULL THEN steps_back
          ELSE COALESCE(steps_back, 0) + excluded.steps_back + CASE WHEN excluded.first_ms >= last_ms AND allbit_counter_step_back(last, excluded.first) > 0 THEN 1 ELSE 0 END END,
        stepped_back = CASE WHEN excluded.stepped_back IS NULL THEN stepped_back
          ELSE COALESCE(stepped_back, 0) + excluded.stepped_back + CASE WHEN excluded.first_ms >= last_ms THEN allbit_counter_step_back(last, excluded.first) ELSE 0 END END
    `);
    this.insertEvent = this.db.prepare(
      'INSERT INTO alarm_events (ts_ms, alarm, device, tag, type, priority, state, message, value, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * Counts one reading into its hour (memory only; `flush` writes it). Anything but a finite number
   * of good quality is ignored, so callers may pass every reading of a cycle.
   */
  recordReading(device: string, tag: string, unit: string, value: unknown, timestampMs: number, quality: string = 'good'): void {
    if (quality !== 'good' || typeof value !== 'number' || !Number.isFinite(value) || !Number.isFinite(timestampMs)) return;
    let tags = this.series.get(device);
    if (!tags) this.series.set(device, (tags = new Map()));
    let series = tags.get(tag);
    if (!series) {
      series = { device, tag, unit, counter: isEnergyUnit(unit), buckets: new Map(), current: null };
      tags.set(tag, series);
    } else if (series.unit !== unit) {
      series.unit = unit;
      series.counter = isEnergyUnit(unit);
    }
    const hourMs = Math.floor(timestampMs / HOUR_MS) * HOUR_MS;
    let b = series.current;
    if (b === null || b.hourMs !== hourMs) {
      b = series.buckets.get(hourMs) ?? null;
      if (b === null) {
        b = { hourMs, count: 0, min: value, max: value, sum: 0, first: value, firstMs: timestampMs, last: value, lastMs: timestampMs, increase: 0, resets: 0, stepsBack: 0, steppedBack: 0 };
        series.buckets.set(hourMs, b);
        this.pending++;
      }
      series.current = b;
    }
    if (b.count > 0) {
      if (value < b.min) b.min = value;
      if (value > b.max) b.max = value;
      if (timestampMs >= b.lastMs) {
        if (series.counter) {
          const step = counterStep(b.last, value);
          b.increase += step.increase;
          if (step.reset) b.resets++;
          else if (step.stepBack > 0) {
            b.stepsBack++;
            b.steppedBack += step.stepBack;
          }
        }
        b.last = value;
        b.lastMs = timestampMs;
      } else if (timestampMs < b.firstMs) {
        // Out of order (rare): counted in the statistics, not in a counter's increase.
        b.first = value;
        b.firstMs = timestampMs;
      }
    }
    b.count++;
    b.sum += value;
  }

  /** Convenience: every reading of a cycle (non-numeric and not-good ones are skipped). */
  recordReadings(readings: Iterable<{ device: string; tag: string; unit: string; value: unknown; timestampMs: number; quality: string }>): void {
    for (const r of readings) this.recordReading(r.device, r.tag, r.unit, r.value, r.timestampMs, r.quality);
  }

  private *allSeries(): Iterable<Series> {
    for (const tags of this.series.values()) yield* tags.values();
  }

  /** Hour buckets waiting for the next flush. */
  pendingRows(): number {
    return this.pending;
  }

  /** Writes alarm events at once, in one transaction. */
  recordAlarmEvents(events: readonly AlarmEvent[]): void {
    if (events.length === 0) return;
    this.guard('write alarm events', () =>
      this.db.transaction(() => {
        for (const e of events) {
          this.insertEvent.run(e.tsMs, e.ruleId, e.device, e.tag, e.type, e.priority, e.state, e.message, e.value === null || e.value === undefined ? null : JSON.stringify(e.value), e.unit);
        }
      })(),
    );
  }

  /**
   * Writes every pending hour bucket and prunes rows older than the retention, in ONE transaction.
   * On failure nothing is lost from memory: the buckets stay and are merged into the next flush.
   */
  flush(nowMs: number): FlushResult {
    const cutoffMs = nowMs - this.retentionDays * DAY_MS;
    const rows: Array<Record<string, unknown>> = [];
    for (const s of this.allSeries()) {
      for (const b of s.buckets.values()) {
        rows.push({
          device: s.device,
          tag: s.tag,
          hourMs: b.hourMs,
          unit: s.unit,
          count: b.count,
          min: b.min,
          max: b.max,
          sum: b.sum,
          first: b.first,
          firstMs: b.firstMs,
          last: b.last,
          lastMs: b.lastMs,
          increase: s.counter ? b.increase : null,
          resets: s.counter ? b.resets : null,
          stepsBack: s.counter ? b.stepsBack : null,
          steppedBack: s.counter ? b.steppedBack : null,
        });
      }
    }
    let pruned = 0;
    this.guard('flush hourly statistics', () =>
      this.db.transaction(() => {
        for (const row of rows) this.upsertStat.run(row);
        pruned += this.db.prepare('DELETE FROM hourly_stats WHERE hour_ms < ?').run(cutoffMs).changes;
        pruned += this.db
          .prepare(
            `DELETE FROM alarm_events WHERE ts_ms < ? AND id NOT IN (
               SELECT MAX(id) FROM alarm_events GROUP BY alarm UNION SELECT MAX(id) FROM alarm_events WHERE type = 'raised' GROUP BY alarm)`,
          )
          .run(cutoffMs).changes;
      })(),
    );
    for (const s of this.allSeries()) {
      s.buckets.clear();
      s.current = null;
    }
    this.pending = 0;
    return { rows: rows.length, pruned };
  }

  /** Flushed hourly statistics with `fromMs ≤ hourMs < toMs`, ordered by device, tag, hour. Flush first to include the latest readings. */
  hourlyStats(fromMs: number, toMs: number): HourlyStat[] {
    const rows = this.guard('read hourly statistics', () =>
      this.db.prepare('SELECT * FROM hourly_stats WHERE hour_ms >= ? AND hour_ms < ? ORDER BY device, tag, hour_ms').all(fromMs, toMs),
    ) as StatRow[];
    return rows.map((r) => ({
      device: r.device,
      tag: r.tag,
      unit: r.unit,
      hourMs: r.hour_ms,
      count: r.count,
      min: r.min,
      max: r.max,
      sum: r.sum,
      first: r.first,
      firstMs: r.first_ms,
      last: r.last,
      lastMs: r.last_ms,
      increase: r.increase,
      resets: r.resets,
      // Rows written before the step-back columns existed: none known.
      stepsBack: r.increase === null ? null : (r.steps_back ?? 0),
      steppedBack: r.increase === null ? null : (r.stepped_back ?? 0),
    }));
  }

  /** Alarm events with `fromMs ≤ tsMs < toMs`, in the order they happened. */
  alarmEvents(fromMs: number, toMs: number): HistoryAlarmEvent[] {
    return this.events('SELECT * FROM alarm_events WHERE ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, id', [fromMs, toMs]);
  }

  /**
   * For every alarm, its latest event before `beforeMs` (its state then) and its latest `raised`
   * event before it (when it became active), in the order they happened — enough to replay which
   * alarms were active at `beforeMs` and since when.
   */
  lastAlarmEventsBefore(beforeMs: number): HistoryAlarmEvent[] {
    return this.events(
      `SELECT * FROM alarm_events WHERE id IN (
         SELECT MAX(id) FROM alarm_events WHERE ts_ms < ? GROUP BY alarm
         UNION SELECT MAX(id) FROM alarm_events WHERE ts_ms < ? AND type = 'raised' GROUP BY alarm)
       ORDER BY ts_ms, id`,
      [beforeMs, beforeMs],
    );
  }

  /** End of the last report window recorded under `name`, or null when none ran yet. */
  lastReportEndMs(name = 'daily'): number | null {
    const row = this.guard('read report runs', () => this.db.prepare('SELECT window_end_ms FROM report_runs WHERE name = ?').get(name)) as { window_end_ms: number } | undefined;
    return row ? row.window_end_ms : null;
  }

  /** Records a report run; the recorded window end only moves forward. */
  recordReportRun(windowEndMs: number, ranAtMs: number, name = 'daily'): void {
    this.guard('record report run', () =>
      this.db
        .prepare(
          'INSERT INTO report_runs (name, window_end_ms, ran_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET window_end_ms = MAX(window_end_ms, excluded.window_end_ms), ran_ms = excluded.ran_ms',
        )
        .run(name, windowEndMs, ranAtMs),
    );
  }

  /** Sets the recorded window end, also backwards (after a run recorded while the clock was far ahead). */
  rebaseReportRun(windowEndMs: number, ranAtMs: number, name = 'daily'): void {
    this.guard('rebase report run', () =>
      this.db
        .prepare('INSERT INTO report_runs (name, window_end_ms, ran_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET window_end_ms = excluded.window_end_ms, ran_ms = excluded.ran_ms')
        .run(name, windowEndMs, ranAtMs),
    );
  }

  /** Flushes what is pending (when `nowMs` is given) and closes the file. */
  close(nowMs?: number): void {
    if (!this.db.open) return;
    try {
      if (nowMs !== undefined) this.flush(nowMs);
    } finally {
      this.db.close();
    }
  }

  private events(sql: string, params: unknown[]): HistoryAlarmEvent[] {
    const rows = this.guard('read alarm events', () => this.db.prepare(sql).all(...params)) as EventRow[];
    return rows.map((r) => ({
      tsMs: r.ts_ms,
      alarm: r.alarm,
      device: r.device,
      tag: r.tag,
      type: r.type,
      priority: r.priority,
      state: r.state,
      message: r.message,
      value: r.value === null ? null : (JSON.parse(r.value) as HistoryAlarmEvent['value']),
      unit: r.unit,
    }));
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new Error(`history ${this.path}: cannot ${what}: ${(cause as Error).message}`, { cause });
    }
  }
}

/** The history file beside an outbox: data/outbox.db → data/outbox-history.db. */
export function historyPathFor(outboxPath: string): string {
  return outboxPath.replace(/(\.db|\.sqlite3?)?$/, '-history.db');
}
