import { describe, expect, it } from 'vitest';
import { buildDailyReport, parseTagRef, REPORT_VERSION } from '../../../agent/report/index.js';
import { HOUR, event, hour, smallFixture } from './fixtures.js';

describe('buildDailyReport', () => {
  const report = buildDailyReport(smallFixture());

  it('is a versioned object with the window in ISO and ms and the time zone', () => {
    expect(report).toMatchObject({
      v: REPORT_VERSION,
      kind: 'allbit.daily-report',
      gateway: { id: 'gw-dc1', name: 'DC1 plant gateway' },
      window: { date: '2026-06-10', from: '2026-06-09T22:00:00.000Z', to: '2026-06-10T22:00:00.000Z', fromMs: Date.UTC(2026, 5, 9, 22), timeZone: 'Europe/Berlin', hours: 24 },
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('counts raised and cleared alarms by priority', () => {
    expect(report.alarms.raised).toEqual({ total: 2, critical: 1, high: 0, medium: 1, low: 0 });
    expect(report.alarms.cleared).toEqual({ total: 2, critical: 0, high: 1, medium: 1, low: 0 });
    expect(report.alarms.raisedList.map((r) => [r.alarm, r.clearedAt])).toEqual([
      ['ups-1.load_pct.H', '2026-06-10T07:20:00.000Z'],
      ['cooling-tower-1.comm.Q', null],
    ]);
  });

  it('lists the longest-active alarms, including one active since before the window and one still active', () => {
    expect(report.alarms.longestActive.map((s) => [s.alarm, s.activeMs / 60_000, s.activeInWindowMs / 60_000, s.stillActive])).toEqual([
      ['chiller-1.chw_supply_temp.H', 372, 252, false],
      ['cooling-tower-1.comm.Q', 90, 90, true],
      ['ups-1.load_pct.H', 20, 20, false],
    ]);
    expect(report.alarms.activeAtEnd.map((a) => [a.alarm, a.state, a.since])).toEqual([['cooling-tower-1.comm.Q', 'active-unack', '2026-06-10T20:30:00.000Z']]);
  });

  it('keeps only the 10 longest', () => {
    const input = smallFixture();
    const from = input.window.fromMs;
    input.alarmEvents = Array.from({ length: 12 }, (_, i) => [
      event(from + i * HOUR, `a${String(i).padStart(2, '0')}.x.H`, 'raised', 'active-unack', 'low'),
      event(from + i * HOUR + (i + 1) * 60_000, `a${String(i).padStart(2, '0')}.x.H`, 'returned', 'returned-unack', 'low'),
    ]).flat();
    input.alarmsBefore = [];
    const r = buildDailyReport(input);
    expect(r.alarms.longestActive).toHaveLength(10);
    expect(r.alarms.longestActive[0]!.alarm).toBe('a11.x.H');
    expect(r.alarms.longestActive[9]!.alarm).toBe('a02.x.H');
  });

  it('does not take an alarm that was cleared before the window for an active one', () => {
    const input = smallFixture();
    input.alarmsBefore = [event(input.window.fromMs - 3 * HOUR, 'x.y.H', 'raised', 'active-unack'), event(input.window.fromMs - 2 * HOUR, 'x.y.H', 'returned', 'returned-unack')];
    input.alarmEvents = [];
    expect(buildDailyReport(input).alarms.longestActive).toEqual([]);
  });

  it('trends health tags over the day and against the previous 24 h', () => {
    expect(report.health).toEqual([
      expect.objectContaining({ device: 'chiller-1', tag: 'kw_per_ton', unit: 'kW/ton', first: 0.6, last: 0.7, avg: 0.65, previousAvg: 0.6, changeOverDay: { abs: 0.1, pct: 16.667 }, changeVsPrevious: { abs: 0.05, pct: 8.333 }, hoursWithData: 24 }),
      expect.objectContaining({ device: 'ups-1', tag: 'battery_health_pct', unit: '%', first: 97, last: 94, changeOverDay: { abs: -3, pct: -3.093 }, hoursWithData: 19 }),
    ]);
  });

  it('computes energy per kWh counter from the last reading before the window, across a reset and a gap', () => {
    expect(report.energy.map((e) => [e.device, e.tag, e.kwh, e.counterStart, e.counterEnd, e.resets])).toEqual([
      ['chiller-1', 'energy_kwh', 2400, 3350, 5750, 0],
      ['facility', 'incomer_kwh', 3355, 22820, 26175, 0],
      ['ups-1', 'output_kwh', 1880, 6880, 280, 1],
    ]);
    expect(report.energy[2]!.notes).toEqual(['counter went backwards 1 time: counted as a reset to 0', 'no readings for 5 of 24 hours: the counter spans the gap']);
  });

  it('counts a small step back of a kWh counter between hours and within one as no increase, not as a reset', () => {
    // A calculated device's counter (saved once a minute) resumes after a crash a little below the value last published.
    const from = Date.UTC(2026, 5, 10, 0);
    const stats = [hour('site', 'it_kwh', 'kWh', from - HOUR, [249_990, 250_000])];
    for (let i = 0; i < 24; i++) {
      const base = 250_000 + i * 10;
      const values = i === 12 ? [base - 8, base + 10] : i === 20 ? [base, base + 10, base + 4, base + 10] : [base, base + 10];
      stats.push(hour('site', 'it_kwh', 'kWh', from + i * HOUR, values));
    }
    const r = buildDailyReport({ gateway: { id: 'gw' }, window: { fromMs: from, toMs: from + 24 * HOUR, date: '2026-06-10', timeZone: 'UTC' }, generatedMs: from + 24 * HOUR, devices: ['site'], stats, alarmEvents: [], alarmsBefore: [], healthTags: [] });
    // 24 hours of 10 kWh; hour 12 starts 8 kWh below hour 11's end and rises 18 within; hour 20 steps back 6 and rises 6 again.
    expect(r.energy).toEqual([
      { device: 'site', tag: 'it_kwh', unit: 'kWh', kwh: 240 + 8 + 6, counterStart: 250_000, counterEnd: 250_240, resets: 0, stepsBack: 2, steppedBackKwh: 14, hoursWithData: 24, notes: ['counter stepped back by 14.00 kWh (2 times): counted as no increase, not as a reset'] },
    ]);
    expect(r.attention).toEqual([]);
  });

  it('computes PUE from energy, its previous value and the live PUE average', () => {
    expect(report.facility).toEqual({ itKwh: 1880, facilityKwh: 3355, pueFromEnergy: 1.785, previousPueFromEnergy: 1.5, pueAvg: 1.6, pueMin: 1.6, pueMax: 1.6, notes: [] });
  });

  it('leaves PUE from energy empty, with a reason, when a meter has no data', () => {
    const input = smallFixture();
    input.facility = { ...input.facility!, itEnergy: [...input.facility!.itEnergy, { device: 'ups-2', tag: 'output_kwh' }] };
    const r = buildDailyReport(input);
    expect(r.facility).toMatchObject({ itKwh: null, pueFromEnergy: null, notes: ['no energy figure for IT meter ups-2.output_kwh'] });
    expect(r.attention.map((f) => f.text)).toContain('PUE from energy could not be computed: no energy figure for IT meter ups-2.output_kwh');
  });

  it('reports data coverage per device, with the missing hours in local time', () => {
    expect(report.coverage).toEqual({
      windowHours: 24,
      hoursWithAnyData: 24,
      devices: [
        { device: 'chiller-1', hoursWithData: 24, missing: [] },
        { device: 'cooling-tower-1', hoursWithData: 0, missing: ['the whole window'] },
        { device: 'facility', hoursWithData: 24, missing: [] },
        { device: 'ups-1', hoursWithData: 19, missing: ['13:00–18:00'] },
      ],
    });
  });

  it('counts coverage over a 23-hour DST day and a gap running to the window end', () => {
    // Europe/Berlin, 2026-03-29: 00:00 CET (23:00Z the day before) to 00:00 CEST (22:00Z): 23 h.
    const from = Date.UTC(2026, 2, 28, 23);
    const to = Date.UTC(2026, 2, 29, 22);
    const stats = Array.from({ length: 20 }, (_, i) => hour('ct-1', 'fan_kw', 'kW', from + i * HOUR, [10]));
    const r = buildDailyReport({ gateway: { id: 'gw' }, window: { fromMs: from, toMs: to, date: '2026-03-29', timeZone: 'Europe/Berlin' }, generatedMs: to, devices: ['ct-1'], stats, alarmEvents: [], alarmsBefore: [], healthTags: [] });
    expect(r.window.hours).toBe(23);
    expect(r.coverage.devices).toEqual([{ device: 'ct-1', hoursWithData: 20, missing: ['21:00–24:00'] }]);
    expect(r.attention.map((f) => f.text)).toEqual(['no data from ct-1 for 3 of 23 hours (21:00–24:00)']);
  });

  it('derives the attention findings from the documented thresholds', () => {
    expect(report.attention.map((f) => [f.kind, f.subject])).toEqual([
      ['alarm', 'cooling-tower-1.comm.Q'],
      ['alarm', 'chiller-1.chw_supply_temp.H'],
      ['coverage', 'cooling-tower-1'],
      ['coverage', 'ups-1'],
      ['trend', 'chiller-1.kw_per_ton'],
      ['trend', 'ups-1.battery_health_pct'],
      ['energy', 'ups-1.output_kwh'],
      ['kpi', 'facility'],
    ]);
    // Raised thresholds silence them.
    const quiet = buildDailyReport({ ...smallFixture(), thresholds: { trendPct: 20, trendPoints: 5, longAlarmMs: 7 * HOUR, missingHours: 25, pueChangePct: 50 } });
    expect(quiet.attention.map((f) => f.subject)).toEqual(['cooling-tower-1.comm.Q', 'ups-1.output_kwh']);
  });

  it('names repeated raises', () => {
    const input = smallFixture();
    const from = input.window.fromMs;
    input.alarmEvents = Array.from({ length: 5 }, (_, i) => [event(from + i * HOUR, 'p.q.H', 'raised', 'active-unack', 'low'), event(from + i * HOUR + 60_000, 'p.q.H', 'returned', 'returned-unack', 'low')]).flat();
    expect(buildDailyReport(input).attention.map((f) => f.text)).toContain('alarm p.q.H was raised 5 times: a recurring fault or a chattering alarm');
  });

  it('refuses an empty window and an unknown time zone', () => {
    const input = smallFixture();
    expect(() => buildDailyReport({ ...input, window: { ...input.window, toMs: input.window.fromMs } })).toThrow(/is not after its start/);
    expect(() => buildDailyReport({ ...input, window: { ...input.window, timeZone: 'Mars/Olympus' } })).toThrow('time zone "Mars/Olympus"');
  });

  it('parses device.tag references', () => {
    expect(parseTagRef('chiller-1.kw_per_ton')).toEqual({ device: 'chiller-1', tag: 'kw_per_ton' });
    expect(() => parseTagRef('nodot')).toThrow('"nodot" is not "device.tag"');
  });
});
