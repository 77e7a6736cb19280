import { counterStep } from '../../../agent/core/counter.js';
import type { DailyReportInput, HourlyStat, ReportAlarmEvent } from '../../../agent/report/index.js';

export const HOUR = 3_600_000;

/** One hour's statistics from its readings (evenly spread over the hour). */
export function hour(device: string, tag: string, unit: string, hourMs: number, values: readonly number[]): HourlyStat {
  const counter = unit.toLowerCase() === 'kwh';
  let increase = 0;
  let resets = 0;
  let stepsBack = 0;
  let steppedBack = 0;
  for (let i = 1; i < values.length; i++) {
    const step = counterStep(values[i - 1]!, values[i]!);
    increase += step.increase;
    if (step.reset) resets++;
    if (step.stepBack > 0) {
      stepsBack++;
      steppedBack += step.stepBack;
    }
  }
  const step = HOUR / values.length;
  return {
    device,
    tag,
    unit,
    hourMs,
    count: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    sum: values.reduce((a, b) => a + b, 0),
    first: values[0]!,
    firstMs: hourMs,
    last: values[values.length - 1]!,
    lastMs: hourMs + Math.round(step * (values.length - 1)),
    increase: counter ? increase : null,
    resets: counter ? resets : null,
    stepsBack: counter ? stepsBack : null,
    steppedBack: counter ? steppedBack : null,
  };
}

export function event(tsMs: number, alarm: string, type: string, state: string, priority = 'high', extra: Partial<ReportAlarmEvent> = {}): ReportAlarmEvent {
  const [device = 'dev', tag = 'tag'] = alarm.split('.');
  return { tsMs, alarm, device, tag, type, priority, state, message: `${alarm} message`, value: 1, unit: '', ...extra };
}

/**
 * A small day in Berlin (summer, UTC+2): window 2026-06-10 00:00 → 2026-06-11 00:00 local.
 * chiller-1 kw_per_ton rises from 0.60 to 0.70; ups-1 battery health falls 3 points and the ups
 * has no data from 13:00 to 18:00 local; one alarm active since the day before, one raised and
 * cleared, one still active at the end; an energy counter with a reset.
 */
export function smallFixture(): DailyReportInput {
  const from = Date.UTC(2026, 5, 9, 22); // 2026-06-10 00:00 CEST
  const to = from + 24 * HOUR;
  const stats: HourlyStat[] = [];
  for (let i = -24; i < 24; i++) {
    const h = from + i * HOUR;
    const day = i >= 0;
    stats.push(hour('chiller-1', 'kw_per_ton', 'kW/ton', h, day ? [0.6 + (i * 0.1) / 23, 0.6 + (i * 0.1) / 23] : [0.6, 0.6]));
    stats.push(hour('chiller-1', 'energy_kwh', 'kWh', h, [1000 + (i + 24) * 100, 1000 + (i + 24) * 100 + 50]));
    const upsMissing = day && i >= 13 && i < 18;
    if (!upsMissing) {
      stats.push(hour('ups-1', 'battery_health_pct', '%', h, day ? [97 - (i * 3) / 23] : [97]));
      // The UPS output counter is replaced at 20:00: it restarts from 0.
      const base = day && i >= 20 ? (i - 20) * 80 : 5000 + (i + 24) * 80;
      stats.push(hour('ups-1', 'output_kwh', 'kWh', h, [base, base + 40]));
    }
    stats.push(hour('facility', 'incomer_kwh', 'kWh', h, [20000 + (i + 24) * (day ? 130 : 120), 20000 + (i + 24) * (day ? 130 : 120) + (day ? 65 : 60)]));
    stats.push(hour('facility', 'pue', '', h, [day ? 1.6 : 1.5]));
  }
  return {
    gateway: { id: 'gw-dc1', name: 'DC1 plant gateway' },
    window: { fromMs: from, toMs: to, date: '2026-06-10', timeZone: 'Europe/Berlin' },
    generatedMs: to + 5 * 60_000,
    devices: ['chiller-1', 'cooling-tower-1', 'facility', 'ups-1'],
    stats,
    alarmsBefore: [event(from - 2 * HOUR, 'chiller-1.chw_supply_temp.H', 'raised', 'active-unack', 'high', { message: 'Chilled water supply 8.4 °C above 8 °C', value: 8.4, unit: '°C' })],
    alarmEvents: [
      event(from + 30 * 60_000, 'chiller-1.chw_supply_temp.H', 'acknowledged', 'active-ack', 'high', { message: 'Chilled water supply 8.4 °C above 8 °C', value: 8.3, unit: '°C' }),
      event(from + 4 * HOUR + 12 * 60_000, 'chiller-1.chw_supply_temp.H', 'cleared', 'normal', 'high', { message: 'Chilled water supply 8.4 °C above 8 °C', value: 7.6, unit: '°C' }),
      event(from + 9 * HOUR, 'ups-1.load_pct.H', 'raised', 'active-unack', 'medium', { message: 'UPS load 82 % above 80 %', value: 82, unit: '%' }),
      event(from + 9 * HOUR + 20 * 60_000, 'ups-1.load_pct.H', 'returned', 'returned-unack', 'medium', { message: 'UPS load 82 % above 80 %', value: 78, unit: '%' }),
      event(from + 22 * HOUR + 30 * 60_000, 'cooling-tower-1.comm.Q', 'raised', 'active-unack', 'critical', { device: 'cooling-tower-1', tag: 'comm', message: 'cooling-tower-1 unreachable', value: null, unit: '' }),
    ],
    healthTags: [
      { device: 'chiller-1', tag: 'kw_per_ton' },
      { device: 'ups-1', tag: 'battery_health_pct' },
    ],
    facility: { itEnergy: [{ device: 'ups-1', tag: 'output_kwh' }], facilityEnergy: [{ device: 'facility', tag: 'incomer_kwh' }], pue: { device: 'facility', tag: 'pue' } },
  };
}
