import type { ScheduledTask, TaskContext, TaskOptions } from 'node-cron';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cronExpressionFor,
  DailyReportSchedule,
  dueWindows,
  latestScheduledDate,
  parseLocalTime,
  scheduledInstant,
  windowEndingOn,
  type ReportRunLog,
  type ReportWindow,
} from '../../../agent/scheduler/daily-report.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const span = (w: ReportWindow): [string, string, string, number] => [w.date, iso(w.fromMs), iso(w.toMs), (w.toMs - w.fromMs) / HOUR];
const midnight = parseLocalTime('00:00');
const six = parseLocalTime('06:00');

describe('report windows across DST changes', () => {
  it('Europe/Berlin: 23 h in spring, 25 h in autumn, 24 h otherwise', () => {
    expect(span(windowEndingOn('2026-03-29', midnight, 'Europe/Berlin'))).toEqual(['2026-03-28', '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', 24]);
    expect(span(windowEndingOn('2026-03-30', midnight, 'Europe/Berlin'))).toEqual(['2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23]);
    expect(span(windowEndingOn('2026-10-26', midnight, 'Europe/Berlin'))).toEqual(['2026-10-25', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 25]);
  });

  it('America/New_York at 06:00: the window ending on the change day is 23 h, in autumn 25 h', () => {
    expect(span(windowEndingOn('2026-03-08', six, 'America/New_York'))).toEqual(['2026-03-07', '2026-03-07T11:00:00.000Z', '2026-03-08T10:00:00.000Z', 23]);
    expect(span(windowEndingOn('2026-03-09', six, 'America/New_York'))).toEqual(['2026-03-08', '2026-03-08T10:00:00.000Z', '2026-03-09T10:00:00.000Z', 24]);
    expect(span(windowEndingOn('2026-11-01', six, 'America/New_York'))).toEqual(['2026-10-31', '2026-10-31T10:00:00.000Z', '2026-11-01T11:00:00.000Z', 25]);
  });

  it('a local time skipped by the change moves forward; a repeated one is taken the first time', () => {
    // Berlin 2026-03-29 02:30 does not exist → 03:30 CEST (01:30Z); 2026-10-25 02:30 happens twice → the CEST one (00:30Z).
    expect(iso(scheduledInstant('2026-03-29', parseLocalTime('02:30'), 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(scheduledInstant('2026-10-25', parseLocalTime('02:30'), 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    // New York 2026-03-08 02:15 → 03:15 EDT; 2026-11-01 01:30 → the EDT one.
    expect(iso(scheduledInstant('2026-03-08', parseLocalTime('02:15'), 'America/New_York'))).toBe('2026-03-08T07:15:00.000Z');
    expect(iso(scheduledInstant('2026-11-01', parseLocalTime('01:30'), 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(span(windowEndingOn('2026-03-30', parseLocalTime('02:30'), 'Europe/Berlin'))).toEqual(['2026-03-29', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z', 23]);
  });

  it('finds the most recent scheduled instant at or before now', () => {
    expect(latestScheduledDate(Date.UTC(2026, 2, 29, 21, 59, 59, 999), midnight, 'Europe/Berlin')).toBe('2026-03-29');
    expect(latestScheduledDate(Date.UTC(2026, 2, 29, 22), midnight, 'Europe/Berlin')).toBe('2026-03-30');
    expect(latestScheduledDate(Date.UTC(2026, 10, 1, 10, 59), six, 'America/New_York')).toBe('2026-10-31');
    expect(latestScheduledDate(Date.UTC(2026, 10, 1, 11), six, 'America/New_York')).toBe('2026-11-01');
  });

  it('validates the time and the time zone with clear errors', () => {
    expect(() => parseLocalTime('24:00')).toThrow('daily report time "24:00" is not a local time "HH:MM" (00:00 to 23:59)');
    expect(() => parseLocalTime('6:00')).toThrow(/not a local time/);
    const runs = new MemoryRunLog(null);
    expect(() => new DailyReportSchedule({ time: '06:00', timeZone: 'Europe/Berln', clock: new FakeClock(), runs, run: () => {} })).toThrow('daily report time zone "Europe/Berln" is not a known IANA time zone');
    expect(cronExpressionFor(parseLocalTime('06:05'))).toBe('5 6 * * *');
  });
});

describe('due windows (catch-up)', () => {
  it('runs every window that ended after the last run, oldest first, over a DST change', () => {
    const due = dueWindows(Date.UTC(2026, 2, 31, 10), Date.UTC(2026, 2, 28, 23), midnight, 'Europe/Berlin', 7);
    expect(due.windows.map(span)).toEqual([
      ['2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23],
      ['2026-03-30', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z', 24],
    ]);
    expect(due.skipped).toBe(0);
  });

  it('catches up at most maxCatchUpDays, the newest, and counts the rest', () => {
    const now = Date.UTC(2026, 5, 30, 12);
    const due = dueWindows(now, now - 30 * 24 * HOUR, six, 'UTC', 7);
    expect(due.windows.map((w) => w.date)).toEqual(['2026-06-23', '2026-06-24', '2026-06-25', '2026-06-26', '2026-06-27', '2026-06-28', '2026-06-29']);
    expect(due.skipped).toBe(23);
  });

  it('has nothing due when the last run is the latest window', () => {
    expect(dueWindows(Date.UTC(2026, 5, 30, 12), Date.UTC(2026, 5, 30, 6), six, 'UTC', 7).windows).toEqual([]);
  });
});

describe('a change of the report time or time zone', () => {
  const at = (iso: string): number => Date.parse(iso);
  const due = (nowIso: string, lastEndIso: string, time: string, zone: string) =>
    dueWindows(at(nowIso), at(lastEndIso), parseLocalTime(time), zone, 7).windows.map((w) => [...span(w), w.scheduledFromMs === undefined ? null : iso(w.scheduledFromMs)]);

  it('06:00 → 07:00: the day already reported is not run again; its extra hour joins the next day (same date, same file otherwise)', () => {
    // [2026-06-10 06:00, 2026-06-11 06:00) CEST was reported. Before the fix, at 07:00 the window
    // [06-10 07:00, 06-11 07:00) ran, overwriting 2026-06-10's files with a 23 h overlap.
    expect(due('2026-06-11T05:00:00.000Z', '2026-06-11T04:00:00.000Z', '07:00', 'Europe/Berlin')).toEqual([]);
    expect(due('2026-06-12T05:00:00.000Z', '2026-06-11T04:00:00.000Z', '07:00', 'Europe/Berlin')).toEqual([
      ['2026-06-11', '2026-06-11T04:00:00.000Z', '2026-06-12T05:00:00.000Z', 25, '2026-06-11T05:00:00.000Z'],
    ]);
  });

  it('07:00 → 06:00: the next window is shortened to start where the last one ended', () => {
    expect(due('2026-06-12T04:00:00.000Z', '2026-06-11T05:00:00.000Z', '06:00', 'Europe/Berlin')).toEqual([
      ['2026-06-11', '2026-06-11T05:00:00.000Z', '2026-06-12T04:00:00.000Z', 23, '2026-06-11T04:00:00.000Z'],
    ]);
  });

  it('Europe/Berlin → Asia/Kolkata and back at 06:00: no overlap, no gap, no two reports of one date', () => {
    // Berlin 06:00 CEST = 04:00Z; Kolkata 06:00 IST = 00:30Z.
    expect(due('2026-06-12T01:00:00.000Z', '2026-06-11T04:00:00.000Z', '06:00', 'Asia/Kolkata')).toEqual([
      ['2026-06-11', '2026-06-11T04:00:00.000Z', '2026-06-12T00:30:00.000Z', 20.5, '2026-06-11T00:30:00.000Z'],
    ]);
    // Back: 00:30Z–04:00Z alone would be named 2026-06-11 like the next day: joined to it.
    expect(due('2026-06-11T05:00:00.000Z', '2026-06-11T00:30:00.000Z', '06:00', 'Europe/Berlin')).toEqual([]);
    expect(due('2026-06-12T05:00:00.000Z', '2026-06-11T00:30:00.000Z', '06:00', 'Europe/Berlin')).toEqual([
      ['2026-06-11', '2026-06-11T00:30:00.000Z', '2026-06-12T04:00:00.000Z', 27.5, '2026-06-11T04:00:00.000Z'],
    ]);
  });

  it('a remainder shorter than an hour is joined to the next window; a longer one on its own date runs alone', () => {
    expect(due('2026-06-11T00:20:00.000Z', '2026-06-10T23:30:00.000Z', '00:15', 'UTC')).toEqual([]);
    expect(due('2026-06-12T00:20:00.000Z', '2026-06-10T23:30:00.000Z', '00:15', 'UTC')).toEqual([
      ['2026-06-10', '2026-06-10T23:30:00.000Z', '2026-06-12T00:15:00.000Z', 24.75, '2026-06-11T00:15:00.000Z'],
    ]);
    expect(due('2026-06-11T00:40:00.000Z', '2026-06-10T23:00:00.000Z', '00:30', 'UTC')).toEqual([
      ['2026-06-10', '2026-06-10T23:00:00.000Z', '2026-06-11T00:30:00.000Z', 1.5, '2026-06-10T00:30:00.000Z'],
    ]);
  });

  it('a restarted schedule with a new time reports each hour once: the windows it runs are contiguous with the last recorded end', async () => {
    const lastEnd = Date.UTC(2026, 5, 11, 4); // 2026-06-11 06:00 CEST, reported under 06:00
    const clock = new FakeClock(Date.UTC(2026, 5, 11, 4, 30));
    const runs = new MemoryRunLog(lastEnd);
    const windows: ReportWindow[] = [];
    const s = new DailyReportSchedule({ time: '07:00', timeZone: 'Europe/Berlin', clock, runs, run: (w) => void windows.push(w), scheduleCron: fakeCron().scheduleCron });
    try {
      await s.start();
      await clock.advance(3 * 24 * HOUR + HOUR); // the hourly guard checks; no cron fire needed
    } finally {
      await s.stop();
    }
    expect(windows.map(span)).toEqual([
      ['2026-06-11', '2026-06-11T04:00:00.000Z', '2026-06-12T05:00:00.000Z', 25],
      ['2026-06-12', '2026-06-12T05:00:00.000Z', '2026-06-13T05:00:00.000Z', 24],
      ['2026-06-13', '2026-06-13T05:00:00.000Z', '2026-06-14T05:00:00.000Z', 24],
    ]);
    expect(runs.recorded.map(iso)).toEqual(['2026-06-12T05:00:00.000Z', '2026-06-13T05:00:00.000Z', '2026-06-14T05:00:00.000Z']);
  });
});

class MemoryRunLog implements ReportRunLog {
  recorded: number[] = [];
  constructor(private last: number | null) {}
  lastReportEndMs(): number | null {
    return this.last;
  }
  recordReportRun(windowEndMs: number): void {
    this.recorded.push(windowEndMs);
    this.last = Math.max(this.last ?? -Infinity, windowEndMs);
  }
  rebaseReportRun(windowEndMs: number): void {
    this.recorded.push(windowEndMs);
    this.last = windowEndMs;
  }
}

/** Stands in for node-cron: records how it was scheduled and lets the test fire it. */
function fakeCron(): { scheduleCron: NonNullable<ConstructorParameters<typeof DailyReportSchedule>[0]['scheduleCron']>; calls: { expression: string; options: TaskOptions }[]; fire(at: Date): void; destroyed: () => boolean } {
  const calls: { expression: string; options: TaskOptions }[] = [];
  let fn: ((c: TaskContext) => void) | null = null;
  let destroyed = false;
  return {
    calls,
    destroyed: () => destroyed,
    fire(at) {
      fn?.({ date: at, dateLocalIso: '', triggeredAt: at });
    },
    scheduleCron(expression, f, options) {
      calls.push({ expression, options });
      fn = f;
      return { destroy: () => void (destroyed = true), getNextRun: () => null } as unknown as ScheduledTask;
    },
  };
}

describe('DailyReportSchedule', () => {
  let schedule: DailyReportSchedule | null = null;
  afterEach(async () => {
    await schedule?.stop();
    schedule = null;
  });

  function setup(nowMs: number, lastEnd: number | null, run: (w: ReportWindow) => Promise<void> | void = () => {}, extra: { maxCatchUpDays?: number } = {}) {
    const clock = new FakeClock(nowMs);
    const runs = new MemoryRunLog(lastEnd);
    const cron = fakeCron();
    const ran: string[] = [];
    const errors: string[] = [];
    schedule = new DailyReportSchedule({
      time: '00:00',
      timeZone: 'Europe/Berlin',
      clock,
      runs,
      run: async (w) => {
        ran.push(w.date);
        await run(w);
      },
      onError: (err, w) => errors.push(`${w.date}: ${(err as Error).message}`),
      scheduleCron: cron.scheduleCron,
      ...extra,
    });
    return { clock, runs, cron, ran, errors, schedule };
  }

  it('schedules node-cron with the expression and time zone, and catches up on start after a restart that missed two days', async () => {
    const lastEnd = Date.UTC(2026, 2, 27, 23); // 2026-03-28 00:00 CET
    const { cron, ran, runs, schedule: s } = setup(Date.UTC(2026, 2, 30, 7), lastEnd);
    await s.start();
    expect(cron.calls).toEqual([{ expression: '0 0 * * *', options: { timezone: 'Europe/Berlin', name: 'allbit-daily-report', noOverlap: true } }]);
    expect(ran).toEqual(['2026-03-28', '2026-03-29']);
    expect(runs.recorded.map(iso)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    await s.check();
    expect(ran).toHaveLength(2);
  });

  it('on a fire, runs the window that just ended (even if the clock reads a hair early)', async () => {
    const end = Date.UTC(2026, 9, 25, 23); // 2026-10-26 00:00 CET, after the 25-hour day
    const { cron, ran, runs, schedule: s } = setup(end - 1, end - 25 * HOUR);
    await s.start();
    expect(ran).toEqual([]);
    cron.fire(new Date(end));
    await s.check();
    expect(ran).toEqual(['2026-10-25']);
    expect(runs.recorded).toEqual([end]);
  });

  it('the hourly guard catches a run node-cron skipped', async () => {
    const end = Date.UTC(2026, 5, 10, 22); // 2026-06-11 00:00 CEST
    const { clock, ran } = setup(end - 30 * 60_000, end - 24 * HOUR);
    await schedule!.start();
    expect(ran).toEqual([]);
    await clock.advance(HOUR); // no cron fire: it was skipped
    expect(ran).toEqual(['2026-06-10']);
  });

  it('on a first start with no run recorded, reports nothing and starts counting from the latest scheduled time', async () => {
    const { ran, runs } = setup(Date.UTC(2026, 5, 10, 12), null);
    await schedule!.start();
    expect(ran).toEqual([]);
    expect(runs.recorded.map(iso)).toEqual(['2026-06-09T22:00:00.000Z']);
  });

  it('a run recorded while the clock was years ahead (an RTC before NTP) does not stop the reports until then: it starts again from now', async () => {
    const now = Date.UTC(2026, 5, 10, 12);
    const { ran, runs, clock } = setup(now, Date.UTC(2031, 0, 1, 23));
    await schedule!.start();
    expect(ran).toEqual([]);
    expect(runs.lastReportEndMs()).toBe(Date.UTC(2026, 5, 9, 22)); // 2026-06-10 00:00 CEST, the latest scheduled time
    await clock.advance(24 * HOUR);
    expect(ran).toEqual(['2026-06-10']);
  });

  it('a last run less than a day ahead is kept (a clock a little fast is not a reason to report a day twice)', async () => {
    const now = Date.UTC(2026, 5, 10, 12);
    const { ran, runs } = setup(now, Date.UTC(2026, 5, 10, 22));
    await schedule!.start();
    expect(ran).toEqual([]);
    expect(runs.lastReportEndMs()).toBe(Date.UTC(2026, 5, 10, 22));
  });

  it('after a month off, runs only the newest maxCatchUpDays', async () => {
    const now = Date.UTC(2026, 5, 30, 12);
    const { ran } = setup(now, now - 30 * 24 * HOUR, undefined, { maxCatchUpDays: 3 });
    await schedule!.start();
    expect(ran).toEqual(['2026-06-27', '2026-06-28', '2026-06-29']);
  });

  it('a failing run is not recorded, stops the catch-up and is retried at the next check', async () => {
    let failing = true;
    const { ran, runs, errors } = setup(Date.UTC(2026, 5, 12, 12), Date.UTC(2026, 5, 9, 22), (w) => {
      if (failing && w.date === '2026-06-11') throw new Error('disk full');
    });
    await schedule!.start();
    expect(ran).toEqual(['2026-06-10', '2026-06-11']);
    expect(runs.recorded.map(iso)).toEqual(['2026-06-10T22:00:00.000Z']);
    expect(errors).toEqual(['2026-06-11: disk full']);
    failing = false;
    await schedule!.check();
    expect(ran).toEqual(['2026-06-10', '2026-06-11', '2026-06-11']);
    expect(runs.recorded.map(iso)).toEqual(['2026-06-10T22:00:00.000Z', '2026-06-11T22:00:00.000Z']);
  });

  it('serialises overlapping checks: each window runs once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { ran } = setup(Date.UTC(2026, 5, 12, 12), Date.UTC(2026, 5, 10, 22), () => gate);
    const first = schedule!.start();
    const second = schedule!.check();
    const third = schedule!.check();
    release();
    await Promise.all([first, second, third]);
    expect(ran).toEqual(['2026-06-11']);
  });

  it('stop() destroys the cron task and the guard', async () => {
    const { clock, cron, ran } = setup(Date.UTC(2026, 5, 10, 21, 30), Date.UTC(2026, 5, 9, 22));
    await schedule!.start();
    await schedule!.stop();
    expect(cron.destroyed()).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(2 * HOUR);
    expect(ran).toEqual([]);
  });

  it('with the real node-cron: the next run is the next local 06:00 in the time zone', async () => {
    const runs = new MemoryRunLog(Date.now());
    schedule = new DailyReportSchedule({ time: '06:00', timeZone: 'America/New_York', clock: new FakeClock(Date.now()), runs, run: () => {}, guardIntervalMs: 0 });
    await schedule.start();
    const next = schedule.nextRun();
    expect(next).not.toBeNull();
    const latest = latestScheduledDate(Date.now(), six, 'America/New_York');
    const [y, m, d] = latest.split('-').map(Number) as [number, number, number];
    const following = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
    expect(next!.getTime()).toBe(scheduledInstant(following, six, 'America/New_York'));
    await schedule.stop();
    expect(schedule.nextRun()).toBeNull();
  });
});
