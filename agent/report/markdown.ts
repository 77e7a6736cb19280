/**
 * renderReportMarkdown: the report for people and LLM tools — the attention list first, then
 * alarms, health and KPI trends, energy, facility KPIs and data coverage; times in the report's
 * time zone, units always shown. Deterministic (tests compare exact strings).
 */
import { cell, duration, localDateTime, num, utcOffset, withUnit } from './format.js';
import type { DailyReport, PriorityCounts } from './types.js';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function counts(c: PriorityCounts): string {
  return `${c.total} (critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low})`;
}

function value(v: number | boolean | string | null, unit: string): string {
  if (v === null) return '—';
  if (typeof v === 'number') return withUnit(v, unit);
  return String(v);
}

function unitOf(unit: string): string {
  return unit === '' ? '(none)' : unit;
}

export function renderReportMarkdown(report: DailyReport): string {
  const tz = report.window.timeZone;
  const at = (ms: number): string => localDateTime(ms, tz);
  const { fromMs, toMs } = report.window;
  const out: string[] = [];
  const name = report.gateway.name === report.gateway.id ? report.gateway.id : `${report.gateway.name} (${report.gateway.id})`;
  out.push(`# Daily operations report: ${name}, ${report.window.date}`);
  out.push('');
  out.push(`Window: ${at(fromMs)} (${utcOffset(fromMs, tz)}) to ${at(toMs)} (${utcOffset(toMs, tz)}), ${tz}, ${String(report.window.hours)} h. Generated ${at(Date.parse(report.generated))}.`);
  const scheduled = report.window.scheduledFromMs;
  if (scheduled !== null) {
    const how = scheduled < fromMs ? 'shortened' : 'lengthened';
    out.push(`The window starts where the previous report ended, not at the scheduled ${at(scheduled)} (the report time or time zone was changed): ${how} by ${duration(Math.abs(fromMs - scheduled))}, so no hour is reported twice or left out.`);
  }
  const { statsFromMs, statsToMs } = report.window;
  if (statsFromMs !== fromMs || statsToMs !== toMs) {
    out.push(`Statistics (health, energy, facility KPIs, data coverage) are by whole UTC hours: ${at(statsFromMs)} to ${at(statsToMs)}; alarms by the exact window.`);
  }
  out.push(`Data: ${report.coverage.hoursWithAnyData} of ${report.coverage.windowHours} hours have data from at least one device (per device below).`);
  out.push('');

  out.push('## Needs attention');
  out.push('');
  if (report.attention.length === 0) out.push('Nothing crossed a threshold (thresholds: docs/reports.md).');
  else report.attention.forEach((f, i) => out.push(`${i + 1}. ${f.text}`));
  out.push('');

  const a = report.alarms;
  out.push('## Alarms');
  out.push('');
  out.push(`- Raised: ${counts(a.raised)}`);
  out.push(`- Cleared: ${counts(a.cleared)}`);
  out.push(`- Still active at the end of the window: ${a.activeAtEnd.length}`);
  out.push('');
  if (a.activeAtEnd.length > 0) {
    out.push('### Still active at the end of the window');
    out.push('');
    out.push(...table(['alarm', 'priority', 'device', 'tag', 'state', 'since', 'active for', 'value', 'message'], a.activeAtEnd.map((x) => [x.alarm, x.priority, x.device, x.tag, x.state, at(x.sinceMs), duration(x.activeMs), value(x.value, x.unit), x.message])));
    out.push('');
  }
  if (a.longestActive.length > 0) {
    out.push('### Longest active');
    out.push('');
    out.push(
      ...table(
        ['alarm', 'priority', 'device', 'tag', 'from', 'to', 'active for', 'of it in this window'],
        a.longestActive.map((x) => [x.alarm, x.priority, x.device, x.tag, at(x.sinceMs), x.untilMs === null ? 'still active' : at(x.untilMs), duration(x.activeMs), duration(x.activeInWindowMs)]),
      ),
    );
    out.push('');
  }
  if (a.raisedList.length > 0) {
    out.push('### Raised in the window');
    out.push('');
    out.push(...table(['raised', 'alarm', 'priority', 'value', 'cleared', 'message'], a.raisedList.map((x) => [at(x.raisedMs), x.alarm, x.priority, value(x.value, x.unit), x.clearedMs === null ? 'not in window' : at(x.clearedMs), x.message])));
    if (a.raisedListTruncated) out.push('', `Only the first ${a.raisedList.length} of ${a.raised.total} raised alarms are listed.`);
    out.push('');
  }

  out.push('## Equipment health and KPIs');
  out.push('');
  if (report.health.length === 0) out.push('No health or KPI tags are configured for the report.');
  else {
    const change = (c: { abs: number; pct: number | null } | null, unit: string): string => {
      if (!c) return '—';
      const sign = c.abs > 0 ? '+' : '';
      if (unit.trim() === '%') return `${sign}${num(c.abs)} points`;
      const abs = `${sign}${withUnit(c.abs, unit)}`;
      return c.pct === null ? abs : `${abs} (${sign}${num(c.pct)} %)`;
    };
    out.push(
      ...table(
        ['device', 'tag', 'unit', 'first', 'last', 'min', 'max', 'average', 'change over the day', 'average vs previous 24 h', 'hours with data'],
        report.health.map((h) => [h.device, h.tag, unitOf(h.unit), num(h.first), num(h.last), num(h.min), num(h.max), num(h.avg), change(h.changeOverDay, h.unit), change(h.changeVsPrevious, h.unit), `${h.hoursWithData} of ${report.coverage.windowHours}`]),
      ),
    );
    out.push('', 'Change over the day: average of the last hour with data minus that of the first.');
  }
  out.push('');

  out.push('## Energy per device');
  out.push('');
  if (report.energy.length === 0) out.push('No energy counters (unit kWh) delivered data.');
  else out.push(...table(['device', 'tag', 'energy (kWh)', 'counter at start (kWh)', 'counter at end (kWh)', 'notes'], report.energy.map((e) => [e.device, e.tag, num(e.kwh), num(e.counterStart), num(e.counterEnd), e.notes.join('; ') || '—'])));
  out.push('');

  const f = report.facility;
  if (f) {
    out.push('## Facility KPIs');
    out.push('');
    out.push(
      ...table(
        ['KPI', 'value'],
        [
          ['IT energy', withUnit(f.itKwh, 'kWh')],
          ['facility energy', withUnit(f.facilityKwh, 'kWh')],
          ['PUE from energy (facility kWh ÷ IT kWh)', num(f.pueFromEnergy)],
          ['PUE from energy, previous 24 h', num(f.previousPueFromEnergy)],
          ['live PUE: average (min to max)', f.pueAvg === null ? '—' : `${num(f.pueAvg)} (${num(f.pueMin)} to ${num(f.pueMax)})`],
        ],
      ),
    );
    if (f.notes.length > 0) out.push('', `Notes: ${f.notes.join('; ')}.`);
    out.push('');
  }

  out.push('## Data coverage');
  out.push('');
  out.push(...table(['device', 'hours with data', 'missing (local time)'], report.coverage.devices.map((d) => [d.device, `${d.hoursWithData} of ${report.coverage.windowHours}`, d.missing.join(', ') || '—'])));
  out.push('');
  return out.join('\n');
}
