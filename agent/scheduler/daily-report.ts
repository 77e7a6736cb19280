/**
 * The daily report's schedule: node-cron fires at a local time "HH:MM" in an IANA time zone; on
 * start, on every fire and on an hourly guard, the schedule works out which report windows have
 * ended since the last recorded run and runs them, oldest first.
 *
 * Why the catch-up is computed, not trusted to the timer: node-cron can skip a run under load,
 * fires at most once for a time that a DST change skips or repeats, and knows nothing of a
 * gateway that was off at the time. The windows are derived from the clock and the run log only,
 * so a skipped fire, a double fire or a restart all come to the same: every window that ended
 * after the last recorded run is run once (at most `maxCatchUpDays`, the newest ones).
 *
 * Windows: [previous scheduled instant, this scheduled instant) in the time zone — 24 h, or 23 h /
 * 25 h over a DST change. A local time that does not exist that day (spring forward) is taken
 * as the same wall time after the change (02:30 → 03:30), a repeated one (fall back) as its
 * first occurrence — Temporal's "compatible" rule.
 *
 * A window never starts before the end of the last recorded run: after a change of the report
 * time or time zone the schedule's window can begin earlier (06:00 → 07:00: [D-1 07:00, D 07:00)
 * although [D-1 06:00, D 06:00) was reported), so its start is moved to that end (shortened).
 * When what remains is shorter than MIN_WINDOW_MS, or would carry the same local date (the same
 * file name) as the next window, it is not run on its own but joined to the next window, which
 * then starts at the last recorded end (lengthened). No hour is reported twice and none is lost.
 *
 * Lives in agent/scheduler because every timer of the agent does; it imports only core and node-cron.
 */
import cron, { type ScheduledTask, type TaskContext, type TaskOptions } from 'node-cron';
import type { Clock, TimerHandle } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { assertTimeZone as assertZone, offsetMs, wallTime } from '../core/zoned-time.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
export const DEFAULT_MAX_CATCH_UP_DAYS = 7;
export const DEFAULT_GUARD_INTERVAL_MS = HOUR_MS;
/** A window shortened to start at the last recorded end is joined to the next one when shorter than this. */
export const MIN_WINDOW_MS = HOUR_MS;

/** One report window. */
export interface ReportWindow {
  fromMs: number;
  toMs: number;
  /** The local date (YYYY-MM-DD, in `timeZone`) on which the window starts: the report's name. */
  date: string;
  timeZone: string;
  /**
   * Set only when the start was moved to the end of the last recorded run (after a change of the
   * report time or time zone): the start the schedule's day would have had.
   */
  scheduledFromMs?: number;
}

/** Where the end of the last run is kept (SqliteHistory implements it). */
export interface ReportRunLog {
  lastReportEndMs(): number | null;
  recordReportRun(windowEndMs: number, ranAtMs: number): void;
  /** Sets the last window end even backwards: after a run recorded while the clock was far ahead. */
  rebaseReportRun(windowEndMs: number, ranAtMs: number): void;
}

export interface DailyReportScheduleOptions {
  /** Local time of day, "HH:MM" (24 h). */
  time: string;
  /** IANA time zone, e.g. "Europe/Berlin". */
  timeZone: string;
  clock: Clock;
  runs: ReportRunLog;
  /**
   * Builds, saves and publishes one report. The run is recorded only when it resolves; when it
   * rejects, the error goes to `onError` and the remaining windows wait for the next attempt
   * (next fire or guard check), so a failing disk loses no report.
   */
  run: (window: ReportWindow) => Promise<void> | void;
  onError?: (err: unknown, window: ReportWindow) => void;
  logger?: Logger;
  /** At most this many missed windows are run at once, the newest ones (default 7). */
  maxCatchUpDays?: number;
  /** How often to check for a missed run besides the cron fire (default 1 h; 0: never). */
  guardIntervalMs?: number;
  /** node-cron's schedule (the default); tests pass their own to fire it without waiting for real time. */
  scheduleCron?: (expression: string, fn: (context: TaskContext) => void, options: TaskOptions) => ScheduledTask;
}

export interface LocalTime {
  hour: number;
  minute: number;
}

/** "HH:MM" → { hour, minute }; throws a clear error otherwise. */
export function parseLocalTime(text: string): LocalTime {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new Error(`daily report time "${text}" is not a local time "HH:MM" (00:00 to 23:59)`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** Throws a clear error unless `timeZone` is an IANA time zone this Node knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    assertZone(timeZone);
  } catch (err) {
    throw new Error(`daily report ${(err as Error).message}`, { cause: err });
  }
}

export { offsetMs, wallTime };

/** The instant of a local wall time ("compatible": a skipped time moves forward, a repeated one takes its first occurrence). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = offsetMs(wall - DAY_MS, timeZone);
  const after = offsetMs(wall + DAY_MS, timeZone);
  const valid = [wall - before, wall - after].filter((t) => t + offsetMs(t, timeZone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the offset before the change carries the wall time past it.
  return wall - before;
}

function localDate(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  return ymd(w.year, w.month, w.day);
}

function ymd(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return ymd(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** The scheduled instant on local date `date`. */
export function scheduledInstant(date: string, time: LocalTime, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedInstant(y, m, d, time.hour, time.minute, timeZone);
}

/** The local date whose scheduled instant is the most recent one ≤ nowMs. */
export function latestScheduledDate(nowMs: number, time: LocalTime, timeZone: string): string {
  let date = localDate(nowMs, timeZone);
  // Twice at most: a skipped-time instant can lie after the wall date's midnight shift.
  while (scheduledInstant(date, time, timeZone) > nowMs) date = addDays(date, -1);
  return date;
}

/** The window that ends at the scheduled instant of local date `endDate`. */
export function windowEndingOn(endDate: string, time: LocalTime, timeZone: string): ReportWindow {
  const startDate = addDays(endDate, -1);
  return { fromMs: scheduledInstant(startDate, time, timeZone), toMs: scheduledInstant(endDate, time, timeZone), date: startDate, timeZone };
}

/**
 * The windows due at `nowMs`: every window ending after `lastEndMs` and at or before now, oldest
 * first, at most `maxDays` (the newest). With no run recorded yet, none: the first report is the
 * next scheduled one (a fresh install has no history to report on). A window never starts before
 * `lastEndMs` (see the file's comment: shortened, or joined to the next window).
 */
export function dueWindows(nowMs: number, lastEndMs: number | null, time: LocalTime, timeZone: string, maxDays: number): { windows: ReportWindow[]; skipped: number; baselineMs: number } {
  const latest = latestScheduledDate(nowMs, time, timeZone);
  const baselineMs = scheduledInstant(latest, time, timeZone);
  if (lastEndMs === null) return { windows: [], skipped: 0, baselineMs };
  const windows: ReportWindow[] = [];
  let skipped = 0;
  let endDate = latest;
  for (;;) {
    const w = windowEndingOn(endDate, time, timeZone);
    if (w.toMs <= lastEndMs) break;
    if (windows.length < maxDays) windows.unshift(w);
    else skipped++;
    // Beyond a year of skipped days counting is pointless; stop.
    if (skipped > 366) break;
    endDate = addDays(endDate, -1);
  }
  const first = windows[0];
  if (first && first.fromMs < lastEndMs) {
    const date = localDate(lastEndMs, timeZone);
    const nextDate = addDays(first.date, 1);
    if (first.toMs - lastEndMs < MIN_WINDOW_MS || date === nextDate) {
      // Joined to the next window; when that is not due yet, nothing runs now and the next check
      // derives the same from the run log.
      windows.shift();
      const next = windows[0];
      if (next) windows[0] = { ...next, fromMs: lastEndMs, date, scheduledFromMs: next.fromMs };
    } else {
      windows[0] = { ...first, fromMs: lastEndMs, date, scheduledFromMs: first.fromMs };
    }
  }
  return { windows, skipped, baselineMs };
}

/** The 5-field cron expression for a daily local time. */
export function cronExpressionFor(time: LocalTime): string {
  return `${time.minute} ${time.hour} * * *`;
}

export class DailyReportSchedule {
  readonly time: LocalTime;
  readonly timeZone: string;
  readonly cronExpression: string;
  private readonly maxCatchUpDays: number;
  private readonly guardIntervalMs: number;
  private readonly logger: Logger;
  private task: ScheduledTask | null = null;
  private guard: TimerHandle | null = null;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(private readonly options: DailyReportScheduleOptions) {
    this.time = parseLocalTime(options.time);
    assertTimeZone(options.timeZone);
    this.timeZone = options.timeZone;
    this.cronExpression = cronExpressionFor(this.time);
    this.maxCatchUpDays = options.maxCatchUpDays ?? DEFAULT_MAX_CATCH_UP_DAYS;
    if (!(Number.isInteger(this.maxCatchUpDays) && this.maxCatchUpDays >= 1)) throw new Error(`daily report maxCatchUpDays must be an integer ≥ 1, got ${String(options.maxCatchUpDays)}`);
    this.guardIntervalMs = options.guardIntervalMs ?? DEFAULT_GUARD_INTERVAL_MS;
    this.logger = options.logger ?? silentLogger;
  }

  /** Schedules the cron job and the guard, and catches up at once. Resolves when the catch-up is done. */
  start(): Promise<void> {
    if (!this.task) {
      const schedule = this.options.scheduleCron ?? cron.schedule;
      this.task = schedule(this.cronExpression, (context) => void this.check(context.date.getTime()), { timezone: this.timeZone, name: 'allbit-daily-report', noOverlap: true });
      this.armGuard();
    }
    return this.check();
  }

  /** Stops the cron job and the guard; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    const task = this.task;
    this.task = null;
    if (this.guard !== null) this.options.clock.clearTimeout(this.guard);
    this.guard = null;
    if (task) await task.destroy();
    await this.chain;
  }

  /** The next time node-cron will fire (null when stopped). */
  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  /**
   * Runs every due window, oldest first. Calls are serialised; a call while one runs is coalesced
   * into one more pass after it. `firedAtMs`: node-cron's scheduled time, in case the clock reads a
   * hair earlier than the timer that fired.
   */
  check(firedAtMs?: number): Promise<void> {
    if (this.queued) return this.chain;
    this.queued = true;
    this.chain = this.chain.then(async () => {
      this.queued = false;
      try {
        await this.catchUp(firedAtMs);
      } catch (err) {
        // Only the run log can throw here (run() errors are handled per window); the next check retries.
        this.logger.error({ err: (err as Error).message }, 'daily report: catch-up failed; will try again');
      }
    });
    return this.chain;
  }

  private async catchUp(firedAtMs?: number): Promise<void> {
    const { clock, runs } = this.options;
    const nowMs = Math.max(clock.now(), firedAtMs ?? -Infinity);
    let lastEndMs: number | null;
    try {
      lastEndMs = runs.lastReportEndMs();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'daily report: cannot read the run log; will try again');
      return;
    }
    const due = dueWindows(nowMs, lastEndMs, this.time, this.timeZone, this.maxCatchUpDays);
    if (lastEndMs !== null && lastEndMs > nowMs + DAY_MS) {
      // A run was recorded while the clock was far ahead (an RTC in the future before NTP set it):
      // waiting for that date would stop the reports for as long. Start again from now.
      runs.rebaseReportRun(due.baselineMs, clock.now());
      this.logger.warn({ recordedEnd: new Date(lastEndMs).toISOString(), now: new Date(nowMs).toISOString(), from: new Date(due.baselineMs).toISOString() }, 'daily report: the last recorded run is in the future (the clock was wrong when it ran); reports start again from the latest scheduled time');
      return;
    }
    if (lastEndMs === null) {
      runs.recordReportRun(due.baselineMs, clock.now());
      this.logger.info({ from: new Date(due.baselineMs).toISOString() }, 'daily report: first start, the first report covers the day from the latest scheduled time');
      return;
    }
    if (due.skipped > 0) this.logger.warn({ skipped: due.skipped, maxCatchUpDays: this.maxCatchUpDays }, 'daily report: more days missed than are caught up; the oldest are not reported');
    for (const window of due.windows) {
      try {
        await this.options.run(window);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, date: window.date }, 'daily report failed; it is tried again at the next check');
        this.options.onError?.(err, window);
        return;
      }
      try {
        runs.recordReportRun(window.toMs, clock.now());
      } catch (err) {
        this.logger.error({ err: (err as Error).message, date: window.date }, 'daily report ran but could not be recorded; it may run again');
        this.options.onError?.(err, window);
        return;
      }
    }
  }

  private armGuard(): void {
    if (this.guardIntervalMs <= 0) return;
    this.guard = this.options.clock.setTimeout(() => {
      if (!this.task) return;
      void this.check();
      this.armGuard();
    }, this.guardIntervalMs);
  }
}
