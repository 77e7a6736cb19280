import { SqliteHistory } from '../../../agent/buffer/sqlite-history.js';
import type { AlarmEvent } from '../../../agent/core/alarm.js';
import { produceDailyReport, type ReportContent } from '../../../agent/report/index.js';

const HOUR = 3_600_000;

/**
 * The realistic example in docs/reports.md: a day of a small plant fed minute by minute through the
 * real history store (Europe/Berlin, report at 06:00). Deterministic: no randomness, no wall clock.
 */
export function exampleReport(path: string): { markdown: string } {
  const history = new SqliteHistory({ path });
  const from = Date.UTC(2026, 5, 10, 4); // 2026-06-10 06:00 CEST
  const to = from + 24 * HOUR;
  let itKwh = 51_200;
  let facilityKwh = 74_900;
  let chillerKwh = 18_300;
  const alarms: AlarmEvent[] = [];
  for (let m = -24 * 60; m < 24 * 60; m++) {
    const t = from + m * 60_000;
    const dayFraction = ((m % 1440) + 1440) / 1440;
    const load = 0.75 + 0.2 * Math.sin(2 * Math.PI * dayFraction); // AI workload swing
    const itKw = 1600 * load;
    const drift = m >= 0 ? m / 1440 : 0; // fouling: efficiency worsens through the day
    const kwPerTon = 0.58 + 0.02 * load + 0.07 * drift;
    const chillerKw = itKw * 0.22 * (kwPerTon / 0.6);
    const facilityKw = itKw + chillerKw + 120;
    itKwh += itKw / 60;
    chillerKwh += chillerKw / 60;
    facilityKwh += facilityKw / 60;
    const rec = (device: string, tag: string, unit: string, value: number): void => history.recordReading(device, tag, unit, Math.round(value * 1000) / 1000, t);
    rec('chiller-1', 'kw_per_ton', 'kW/ton', kwPerTon);
    rec('chiller-1', 'cop', '', 3.517 / kwPerTon);
    rec('chiller-1', 'chw_supply_temp', '°C', 7 + (m > 600 && m < 800 ? 1.5 : 0));
    rec('chiller-1', 'energy_kwh', 'kWh', chillerKwh);
    const towerDown = m >= 13 * 60 && m < 16 * 60; // 19:00–22:00 local: tower unreachable
    if (!towerDown) rec('cooling-tower-1', 'approach_k', 'K', 3.2 + 0.8 * load);
    rec('ups-1', 'battery_health_pct', '%', m >= 0 ? 96 - 2.5 * drift : 96);
    rec('ups-1', 'output_kwh', 'kWh', itKwh);
    rec('facility', 'incomer_kwh', 'kWh', facilityKwh);
    rec('facility', 'pue', '', facilityKw / itKw);
    if (m === 60 * 60 * 0 + 610) alarms.push(event(t, 'chiller-1.chw_supply_temp.H', 'raised', 'active-unack', 'high', 'Chilled water supply 8.5 °C above 8 °C', 8.5, '°C'));
    if (m === 640) alarms.push(event(t, 'chiller-1.chw_supply_temp.H', 'acknowledged', 'active-ack', 'high', 'Chilled water supply 8.5 °C above 8 °C', 8.5, '°C'));
    if (m === 800) alarms.push(event(t, 'chiller-1.chw_supply_temp.H', 'cleared', 'normal', 'high', 'Chilled water supply 8.5 °C above 8 °C', 7, '°C'));
    if (m === 13 * 60 + 1) alarms.push(event(t, 'cooling-tower-1.comm.Q', 'raised', 'active-unack', 'medium', 'cooling-tower-1 does not answer', null, ''));
    if (m === 16 * 60) alarms.push(event(t, 'cooling-tower-1.comm.Q', 'returned', 'returned-unack', 'medium', 'cooling-tower-1 does not answer', null, ''));
    if (m === 23 * 60 + 10) alarms.push(event(t, 'ups-1.battery_health_pct.L', 'raised', 'active-unack', 'low', 'UPS battery health 93.6 % below 94 %', 93.6, '%'));
    if (alarms.length > 0) history.recordAlarmEvents(alarms.splice(0));
    if (m % 60 === 59) history.flush(t);
  }
  const content: ReportContent = {
    gateway: { id: 'gw-dc1', name: 'DC1 plant gateway' },
    devices: ['chiller-1', 'cooling-tower-1', 'facility', 'ups-1'],
    healthTags: [
      { device: 'chiller-1', tag: 'kw_per_ton' },
      { device: 'chiller-1', tag: 'cop' },
      { device: 'cooling-tower-1', tag: 'approach_k' },
      { device: 'ups-1', tag: 'battery_health_pct' },
    ],
    facility: { itEnergy: [{ device: 'ups-1', tag: 'output_kwh' }], facilityEnergy: [{ device: 'facility', tag: 'incomer_kwh' }], pue: { device: 'facility', tag: 'pue' } },
  };
  const { markdown } = produceDailyReport(history, { fromMs: from, toMs: to, date: '2026-06-10', timeZone: 'Europe/Berlin' }, content, to + 2 * 60_000);
  history.close();
  return { markdown };
}

function event(tsMs: number, ruleId: string, type: AlarmEvent['type'], state: AlarmEvent['state'], priority: AlarmEvent['priority'], message: string, value: AlarmEvent['value'], unit: string): AlarmEvent {
  const [device = '', tag = ''] = ruleId.split('.');
  return { type, ruleId, device, tag, priority, state, message, value, unit, tsMs };
}
