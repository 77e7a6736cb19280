/**
 * buildDailyReport: plain data in, a versioned JSON report out. Pure and deterministic: the same
 * input gives the same report (sorted by id everywhere, numbers rounded to 3 decimals).
 */
import { counterStep } from '../core/counter.js';
import { duration, iso, localDateTime, localTime, num, pct, round3, roundOrNull, withUnit } from './format.js';
import {
  DEFAULT_THRESHOLDS,
  REPORT_VERSION,
  type ActiveSpan,
  type AttentionFinding,
  type AttentionThresholds,
  type Change,
  type DailyReport,
  type DailyReportInput,
  type DeviceCoverage,
  type DeviceEnergy,
  type FacilityKpis,
  type HealthTrend,
  type HourlyStat,
  type Priority,
  type PriorityCounts,
  type RaisedAlarm,
  type ReportAlarmEvent,
  type StillActiveAlarm,
  type TagRef,
} from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const PRIORITIES: readonly Priority[] = ['critical', 'high', 'medium', 'low'];
const MAX_RAISED_LISTED = 200;
const LONGEST_LISTED = 10;

const key = (device: string, tag: string): string => `${device}\u0000${tag}`;
const isEnergyUnit = (unit: string): boolean => unit.trim().toLowerCase() === 'kwh';
const isPercentUnit = (unit: string): boolean => unit.trim() === '%';
const isActiveState = (state: string): boolean => state === 'active-unack' || state === 'active-ack';

/** "chiller-1.kw_per_ton" → { device, tag } (split at the first dot). */
export function parseTagRef(text: string): TagRef {
  const dot = text.indexOf('.');
  if (dot <= 0 || dot === text.length - 1) throw new Error(`report: "${text}" is not "device.tag"`);
  return { device: text.slice(0, dot), tag: text.slice(dot + 1) };
}

export function buildDailyReport(input: DailyReportInput): DailyReport {
  const { fromMs, toMs, timeZone } = input.window;
  if (!(toMs > fromMs)) throw new Error(`report: window end ${iso(toMs)} is not after its start ${iso(fromMs)}`);
  localTime(fromMs, timeZone); // validates the time zone with a clear error
  const thresholds: AttentionThresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  // Statistics by whole UTC hours: the window's edges floored to the hour. The hour that is still
  // filling when the report runs belongs to the next report, so consecutive reports add up exactly
  // whatever the report time or the zone's offset (Asia/Kolkata 06:00 = 00:30 UTC).
  const statsFromMs = floorHour(fromMs);
  const statsToMs = floorHour(toMs);
  const hours = windowHours(statsFromMs, statsToMs);
  const series = groupStats(input.stats);

  const alarms = analyseAlarms(input, fromMs, toMs);
  const health = input.healthTags
    .map((ref) => healthTrend(ref, series.get(key(ref.device, ref.tag)) ?? [], statsFromMs, statsToMs))
    .sort((a, b) => cmp(a.device, b.device) || cmp(a.tag, b.tag));
  const energyRows = [...series.values()]
    .filter((s) => isEnergyUnit(s[s.length - 1]!.unit))
    .map((s) => energyOf(s, statsFromMs, statsToMs, hours.length, timeZone))
    .sort((a, b) => cmp(a.device, b.device) || cmp(a.tag, b.tag));
  const facility = input.facility ? facilityKpis(input.facility, series, statsFromMs, statsToMs) : null;
  const coverage = coverageOf(input, series, statsFromMs, statsToMs, hours, timeZone);
  const scheduledFromMs = input.window.scheduledFromMs ?? null;

  const report: DailyReport = {
    v: REPORT_VERSION,
    kind: 'allbit.daily-report',
    gateway: { id: input.gateway.id, name: input.gateway.name ?? input.gateway.id },
    window: {
      date: input.window.date,
      from: iso(fromMs),
      to: iso(toMs),
      fromMs,
      toMs,
      timeZone,
      hours: round3((toMs - fromMs) / HOUR_MS),
      statsFrom: iso(statsFromMs),
      statsTo: iso(statsToMs),
      statsFromMs,
      statsToMs,
      scheduledFrom: scheduledFromMs === null || scheduledFromMs === fromMs ? null : iso(scheduledFromMs),
      scheduledFromMs: scheduledFromMs === null || scheduledFromMs === fromMs ? null : scheduledFromMs,
    },
    generated: iso(input.generatedMs),
    attention: [],
    alarms,
    health,
    energy: energyRows,
    facility,
    coverage,
    thresholds,
  };
  report.attention = findings(report, alarms.allSpans, alarms.raiseCounts, thresholds, timeZone);
  delete (report.alarms as Partial<typeof alarms>).allSpans;
  delete (report.alarms as Partial<typeof alarms>).raiseCounts;
  return report;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The start of the UTC hour that holds `ms`. */
export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Hour starts (UTC hours) within [statsFromMs, statsToMs), both on the hour: the slots the coverage counts. */
function windowHours(statsFromMs: number, statsToMs: number): number[] {
  const out: number[] = [];
  for (let h = statsFromMs; h < statsToMs; h += HOUR_MS) out.push(h);
  return out;
}

function groupStats(stats: readonly HourlyStat[]): Map<string, HourlyStat[]> {
  const out = new Map<string, HourlyStat[]>();
  for (const s of stats) {
    if (s.count <= 0) continue;
    const k = key(s.device, s.tag);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(s);
  }
  for (const list of out.values()) list.sort((a, b) => a.hourMs - b.hourMs);
  return out;
}

const inRange = (s: HourlyStat, fromMs: number, toMs: number): boolean => s.hourMs >= fromMs && s.hourMs < toMs;

// ---------------------------------------------------------------------------------------------
// Alarms

type AlarmAnalysis = DailyReport['alarms'] & { allSpans: ActiveSpan[]; raiseCounts: Map<string, number> };

function emptyCounts(): PriorityCounts {
  return { total: 0, critical: 0, high: 0, medium: 0, low: 0 };
}

function count(counts: PriorityCounts, priority: string): void {
  counts.total++;
  if ((PRIORITIES as readonly string[]).includes(priority)) counts[priority as Priority]++;
}

function analyseAlarms(input: DailyReportInput, fromMs: number, toMs: number): AlarmAnalysis {
  const open = new Map<string, { raised: ReportAlarmEvent; sinceMs: number }>();
  const latest = new Map<string, ReportAlarmEvent>();
  const spans: ActiveSpan[] = [];
  const span = (raised: ReportAlarmEvent, sinceMs: number, untilMs: number | null): ActiveSpan => {
    const end = untilMs ?? toMs;
    return {
      alarm: raised.alarm,
      device: raised.device,
      tag: raised.tag,
      priority: raised.priority,
      message: raised.message,
      unit: raised.unit,
      since: iso(sinceMs),
      sinceMs,
      until: untilMs === null ? null : iso(untilMs),
      untilMs,
      activeMs: end - sinceMs,
      activeInWindowMs: Math.max(0, Math.min(end, toMs) - Math.max(sinceMs, fromMs)),
      stillActive: untilMs === null,
    };
  };
  const apply = (e: ReportAlarmEvent, inWindow: boolean): void => {
    latest.set(e.alarm, e);
    if (e.type === 'raised') {
      const was = open.get(e.alarm);
      if (was && inWindow) spans.push(span(was.raised, was.sinceMs, e.tsMs));
      open.set(e.alarm, { raised: e, sinceMs: e.tsMs });
    } else if (e.type === 'returned' || e.type === 'cleared' || e.state === 'normal') {
      const was = open.get(e.alarm);
      if (was) {
        if (inWindow) spans.push(span(was.raised, was.sinceMs, e.tsMs));
        open.delete(e.alarm);
      }
    }
  };
  const ordered = (events: readonly ReportAlarmEvent[]): ReportAlarmEvent[] => [...events].sort((a, b) => a.tsMs - b.tsMs);
  // Replay the state before the window: which alarms were active when it began.
  for (const e of ordered(input.alarmsBefore)) if (e.tsMs < fromMs) apply(e, false);
  for (const [alarm, e] of latest) if (!isActiveState(e.state)) open.delete(alarm);

  const raised = emptyCounts();
  const cleared = emptyCounts();
  const raisedList: RaisedAlarm[] = [];
  const raiseCounts = new Map<string, number>();
  const inWindow = ordered(input.alarmEvents).filter((e) => e.tsMs >= fromMs && e.tsMs < toMs);
  for (const e of inWindow) {
    if (e.type === 'raised') {
      count(raised, e.priority);
      raiseCounts.set(e.alarm, (raiseCounts.get(e.alarm) ?? 0) + 1);
      raisedList.push({ alarm: e.alarm, device: e.device, tag: e.tag, priority: e.priority, message: e.message, value: e.value, unit: e.unit, raisedAt: iso(e.tsMs), raisedMs: e.tsMs, clearedAt: null, clearedMs: null });
    } else if (e.type === 'returned' || e.type === 'cleared') {
      count(cleared, e.priority);
      const r = [...raisedList].reverse().find((x) => x.alarm === e.alarm && x.clearedMs === null);
      if (r) {
        r.clearedMs = e.tsMs;
        r.clearedAt = iso(e.tsMs);
      }
    }
    apply(e, true);
  }
  const activeAtEnd: StillActiveAlarm[] = [];
  for (const [alarm, o] of open) {
    spans.push(span(o.raised, o.sinceMs, null));
    const last = latest.get(alarm)!;
    activeAtEnd.push({ alarm, device: o.raised.device, tag: o.raised.tag, priority: o.raised.priority, state: last.state, message: o.raised.message, value: last.value, unit: o.raised.unit, since: iso(o.sinceMs), sinceMs: o.sinceMs, activeMs: toMs - o.sinceMs });
  }
  const rank = (p: string): number => {
    const i = (PRIORITIES as readonly string[]).indexOf(p);
    return i < 0 ? PRIORITIES.length : i;
  };
  activeAtEnd.sort((a, b) => rank(a.priority) - rank(b.priority) || a.sinceMs - b.sinceMs || cmp(a.alarm, b.alarm));
  const allSpans = spans.filter((s) => s.activeInWindowMs > 0 || s.stillActive).sort((a, b) => b.activeMs - a.activeMs || a.sinceMs - b.sinceMs || cmp(a.alarm, b.alarm));
  return {
    raised,
    cleared,
    raisedList: raisedList.slice(0, MAX_RAISED_LISTED),
    raisedListTruncated: raisedList.length > MAX_RAISED_LISTED,
    longestActive: allSpans.slice(0, LONGEST_LISTED),
    activeAtEnd,
    allSpans,
    raiseCounts,
  };
}

// ---------------------------------------------------------------------------------------------
// Health and KPI trends

function change(from: number | null, to: number | null): Change | null {
  if (from === null || to === null) return null;
  const abs = to - from;
  return { abs: round3(abs), pct: from === 0 ? null : round3((abs / Math.abs(from)) * 100) };
}

function aggregate(list: readonly HourlyStat[]): { first: number; last: number; min: number; max: number; avg: number } | null {
  if (list.length === 0) return null;
  let sum = 0;
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of list) {
    sum += s.sum;
    n += s.count;
    min = Math.min(min, s.min);
    max = Math.max(max, s.max);
  }
  return { first: list[0]!.first, last: list[list.length - 1]!.last, min, max, avg: sum / n };
}

function healthTrend(ref: TagRef, list: readonly HourlyStat[], fromMs: number, toMs: number): HealthTrend {
  const inWindow = list.filter((s) => inRange(s, fromMs, toMs));
  const previous = list.filter((s) => inRange(s, fromMs - DAY_MS, fromMs));
  const now = aggregate(inWindow);
  const before = aggregate(previous);
  const hourAvg = (s: HourlyStat | undefined): number | null => (s ? s.sum / s.count : null);
  const firstHourAvg = inWindow.length >= 2 ? hourAvg(inWindow[0]) : null;
  const lastHourAvg = inWindow.length >= 2 ? hourAvg(inWindow[inWindow.length - 1]) : null;
  return {
    device: ref.device,
    tag: ref.tag,
    unit: list[list.length - 1]?.unit ?? '',
    first: roundOrNull(now?.first ?? null),
    last: roundOrNull(now?.last ?? null),
    min: roundOrNull(now?.min ?? null),
    max: roundOrNull(now?.max ?? null),
    avg: roundOrNull(now?.avg ?? null),
    firstHourAvg: roundOrNull(firstHourAvg),
    lastHourAvg: roundOrNull(lastHourAvg),
    changeOverDay: change(firstHourAvg, lastHourAvg),
    previousAvg: roundOrNull(before?.avg ?? null),
    changeVsPrevious: change(before?.avg ?? null, now?.avg ?? null),
    hoursWithData: inWindow.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Energy

interface EnergyFigure {
  kwh: number | null;
  counterStart: number | null;
  counterEnd: number | null;
  resets: number;
  stepsBack: number;
  steppedBack: number;
  hours: number;
  firstMs: number | null;
  hadPrevious: boolean;
}

/**
 * Energy of one kWh counter over the whole UTC hours [fromMs, toMs): the increments within each
 * hour plus the steps between consecutive hours (from the last reading before the first hour on),
 * each step by counterStep (counter.ts): a fall to below half is a reset to 0 (as Prometheus'
 * increase() does), a smaller fall a step back that adds nothing.
 */
function energyFigure(list: readonly HourlyStat[], fromMs: number, toMs: number): EnergyFigure {
  const inWindow = list.filter((s) => inRange(s, fromMs, toMs));
  const before = list.filter((s) => s.hourMs < fromMs);
  let prev: HourlyStat | null = before[before.length - 1] ?? null;
  if (inWindow.length === 0) return { kwh: null, counterStart: null, counterEnd: null, resets: 0, stepsBack: 0, steppedBack: 0, hours: 0, firstMs: null, hadPrevious: prev !== null };
  const hadPrevious = prev !== null;
  const counterStart = prev ? prev.last : inWindow[0]!.first;
  let kwh = 0;
  let resets = 0;
  let stepsBack = 0;
  let steppedBack = 0;
  for (const s of inWindow) {
    if (prev) {
      const step = counterStep(prev.last, s.first);
      kwh += step.increase;
      if (step.reset) resets++;
      else if (step.stepBack > 0) {
        stepsBack++;
        steppedBack += step.stepBack;
      }
    }
    kwh += s.increase ?? 0;
    resets += s.resets ?? 0;
    stepsBack += s.stepsBack ?? 0;
    steppedBack += s.steppedBack ?? 0;
    prev = s;
  }
  return { kwh, counterStart, counterEnd: inWindow[inWindow.length - 1]!.last, resets, stepsBack, steppedBack, hours: inWindow.length, firstMs: inWindow[0]!.firstMs, hadPrevious };
}

function energyOf(list: readonly HourlyStat[], fromMs: number, toMs: number, windowHourCount: number, timeZone: string): DeviceEnergy {
  const f = energyFigure(list, fromMs, toMs);
  const last = list[list.length - 1]!;
  const notes: string[] = [];
  if (f.kwh === null) notes.push('no readings in the window');
  else {
    if (!f.hadPrevious && f.firstMs !== null) notes.push(`no reading in the 24 h before the window: counted from the first reading at ${localTime(f.firstMs, timeZone)}`);
    if (f.resets > 0) notes.push(`counter went backwards ${f.resets} time${f.resets === 1 ? '' : 's'}: counted as a reset to 0`);
    if (f.stepsBack > 0) notes.push(`counter stepped back by ${num(f.steppedBack)} kWh (${f.stepsBack} time${f.stepsBack === 1 ? '' : 's'}): counted as no increase, not as a reset`);
    const missing = windowHourCount - f.hours;
    if (missing > 0) notes.push(`no readings for ${missing} of ${windowHourCount} hours: the counter spans the gap`);
  }
  return {
    device: last.device,
    tag: last.tag,
    unit: last.unit,
    kwh: roundOrNull(f.kwh),
    counterStart: roundOrNull(f.counterStart),
    counterEnd: roundOrNull(f.counterEnd),
    resets: f.resets,
    stepsBack: f.stepsBack,
    steppedBackKwh: round3(f.steppedBack),
    hoursWithData: f.hours,
    notes,
  };
}

function facilityKpis(facility: NonNullable<DailyReportInput['facility']>, series: Map<string, HourlyStat[]>, fromMs: number, toMs: number): FacilityKpis {
  const notes: string[] = [];
  const total = (refs: readonly TagRef[], from: number, to: number, what: string, noteMissing: boolean): number | null => {
    if (refs.length === 0) {
      if (noteMissing) notes.push(`no ${what} energy meters configured`);
      return null;
    }
    let sum = 0;
    let complete = true;
    for (const ref of refs) {
      const kwh = energyFigure(series.get(key(ref.device, ref.tag)) ?? [], from, to).kwh;
      if (kwh === null) {
        complete = false;
        if (noteMissing) notes.push(`no energy figure for ${what} meter ${ref.device}.${ref.tag}`);
      } else sum += kwh;
    }
    return complete ? sum : null;
  };
  const ratio = (fac: number | null, it: number | null): number | null => (fac !== null && it !== null && it > 0 ? fac / it : null);
  const itKwh = total(facility.itEnergy, fromMs, toMs, 'IT', true);
  const facilityKwh = total(facility.facilityEnergy, fromMs, toMs, 'facility', true);
  if (itKwh !== null && itKwh <= 0) notes.push('IT energy is 0: PUE from energy is not defined');
  const previous = ratio(total(facility.facilityEnergy, fromMs - DAY_MS, fromMs, 'facility', false), total(facility.itEnergy, fromMs - DAY_MS, fromMs, 'IT', false));
  let pueAgg: ReturnType<typeof aggregate> = null;
  if (facility.pue) {
    pueAgg = aggregate((series.get(key(facility.pue.device, facility.pue.tag)) ?? []).filter((s) => inRange(s, fromMs, toMs)));
    if (!pueAgg) notes.push(`no readings of the live PUE tag ${facility.pue.device}.${facility.pue.tag} in the window`);
  }
  return {
    itKwh: roundOrNull(itKwh),
    facilityKwh: roundOrNull(facilityKwh),
    pueFromEnergy: roundOrNull(ratio(facilityKwh, itKwh)),
    previousPueFromEnergy: roundOrNull(previous),
    pueAvg: roundOrNull(pueAgg?.avg ?? null),
    pueMin: roundOrNull(pueAgg?.min ?? null),
    pueMax: roundOrNull(pueAgg?.max ?? null),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Coverage

function coverageOf(input: DailyReportInput, series: Map<string, HourlyStat[]>, fromMs: number, toMs: number, hours: readonly number[], timeZone: string): DailyReport['coverage'] {
  const byDevice = new Map<string, Set<number>>();
  for (const d of input.devices) byDevice.set(d, new Set());
  const any = new Set<number>();
  for (const list of series.values()) {
    for (const s of list) {
      if (!inRange(s, fromMs, toMs)) continue;
      let set = byDevice.get(s.device);
      if (!set) byDevice.set(s.device, (set = new Set()));
      set.add(s.hourMs);
      any.add(s.hourMs);
    }
  }
  const devices: DeviceCoverage[] = [...byDevice.keys()].sort(cmp).map((device) => {
    const set = byDevice.get(device)!;
    const missing: string[] = [];
    let runStart: number | null = null;
    for (let i = 0; i <= hours.length; i++) {
      const h = hours[i];
      const isMissing = h !== undefined && !set.has(h);
      if (isMissing && runStart === null) runStart = h;
      if (!isMissing && runStart !== null) {
        const end = h ?? toMs;
        const endText = localTime(end, timeZone);
        // A gap that runs to the window's end at midnight reads "…–24:00", not "…–00:00".
        missing.push(`${localTime(runStart, timeZone)}–${endText === '00:00' && end === toMs ? '24:00' : endText}`);
        runStart = null;
      }
    }
    const hoursWithData = hours.filter((h) => set.has(h)).length;
    return { device, hoursWithData, missing: hoursWithData === 0 && hours.length > 0 ? ['the whole window'] : missing };
  });
  return { windowHours: hours.length, hoursWithAnyData: hours.filter((h) => any.has(h)).length, devices };
}

// ---------------------------------------------------------------------------------------------
// Attention findings (thresholds in AttentionThresholds, documented in docs/reports.md)

function points(n: number): string {
  const r = Math.round(Math.abs(n) * 10) / 10;
  return `${r} point${r === 1 ? '' : 's'}`;
}

function findings(report: DailyReport, spans: readonly ActiveSpan[], raiseCounts: Map<string, number>, t: AttentionThresholds, timeZone: string): AttentionFinding[] {
  const out: AttentionFinding[] = [];
  const named = new Set<string>();
  const label = (s: { alarm: string; priority: string; device: string; tag: string }): string => `alarm ${s.alarm} (${s.priority}, ${s.device} ${s.tag})`;

  // 1. Critical and high alarms still active at the end.
  for (const a of report.alarms.activeAtEnd) {
    if (a.priority !== 'critical' && a.priority !== 'high') continue;
    named.add(a.alarm);
    out.push({ kind: 'alarm', subject: a.alarm, text: `${label(a)} is still active after ${duration(a.activeMs)} (since ${localDateTime(a.sinceMs, timeZone)}): ${a.message}` });
  }
  // 2. Long-active alarm occurrences (one finding per alarm, its longest).
  for (const s of spans) {
    if (s.activeInWindowMs < t.longAlarmMs || named.has(s.alarm)) continue;
    named.add(s.alarm);
    out.push({ kind: 'alarm', subject: s.alarm, text: `${label(s)} was active ${duration(s.activeMs)}${s.stillActive ? ` and is still active (since ${localDateTime(s.sinceMs, timeZone)})` : ` (${localDateTime(s.sinceMs, timeZone)} to ${localDateTime(s.untilMs!, timeZone)})`}: ${s.message}` });
  }
  // 3. Alarms raised again and again.
  for (const [alarm, n] of [...raiseCounts].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))) {
    if (n < t.repeatedRaises) continue;
    out.push({ kind: 'alarm', subject: alarm, text: `alarm ${alarm} was raised ${n} times: a recurring fault or a chattering alarm` });
  }
  // 4. Missing data.
  const windowHours = report.coverage.windowHours;
  for (const d of [...report.coverage.devices].sort((a, b) => a.hoursWithData - b.hoursWithData || cmp(a.device, b.device))) {
    const missing = windowHours - d.hoursWithData;
    if (missing < t.missingHours || missing <= 0) continue;
    const where = d.missing.slice(0, 3).join(', ') + (d.missing.length > 3 ? ', …' : '');
    out.push({ kind: 'coverage', subject: d.device, text: `no data from ${d.device} for ${missing} of ${windowHours} hours (${where})` });
  }
  // 5. Health trends over the day, 6. against the previous 24 h.
  for (const h of report.health) {
    const c = h.changeOverDay;
    if (!c || c.abs === 0) continue;
    const dir = c.abs > 0 ? 'rose' : 'fell';
    const values = `hourly average ${withUnit(h.firstHourAvg, h.unit)} → ${withUnit(h.lastHourAvg, h.unit)}`;
    if (isPercentUnit(h.unit)) {
      if (Math.abs(c.abs) >= t.trendPoints) out.push({ kind: 'trend', subject: `${h.device}.${h.tag}`, text: `${h.device} ${h.tag} ${dir} ${points(c.abs)} over the day (${values})` });
    } else if (c.pct !== null && Math.abs(c.pct) >= t.trendPct) {
      out.push({ kind: 'trend', subject: `${h.device}.${h.tag}`, text: `${h.device} ${h.tag} ${dir} ${pct(c.pct)} over the day (${values})` });
    }
  }
  for (const h of report.health) {
    const c = h.changeVsPrevious;
    if (!c || c.abs === 0) continue;
    const dir = c.abs > 0 ? 'higher' : 'lower';
    const values = `${withUnit(h.avg, h.unit)} vs ${withUnit(h.previousAvg, h.unit)}`;
    if (isPercentUnit(h.unit)) {
      if (Math.abs(c.abs) >= t.vsPreviousPoints) out.push({ kind: 'trend', subject: `${h.device}.${h.tag}`, text: `${h.device} ${h.tag} averaged ${points(c.abs)} ${dir} than the previous 24 h (${values})` });
    } else if (c.pct !== null && Math.abs(c.pct) >= t.vsPreviousPct) {
      out.push({ kind: 'trend', subject: `${h.device}.${h.tag}`, text: `${h.device} ${h.tag} averaged ${pct(c.pct)} ${dir} than the previous 24 h (${values})` });
    }
  }
  // 7. Energy counters that went backwards.
  for (const e of report.energy) {
    if (e.resets > 0) out.push({ kind: 'energy', subject: `${e.device}.${e.tag}`, text: `${e.device} ${e.tag} went backwards ${e.resets} time${e.resets === 1 ? '' : 's'} (counted as a reset to 0): check the meter or its configuration` });
  }
  // 8. Facility PUE.
  const f = report.facility;
  if (f) {
    if (f.pueFromEnergy !== null && f.previousPueFromEnergy !== null && f.previousPueFromEnergy > 0) {
      const p = ((f.pueFromEnergy - f.previousPueFromEnergy) / f.previousPueFromEnergy) * 100;
      if (Math.abs(p) >= t.pueChangePct) out.push({ kind: 'kpi', subject: 'facility', text: `PUE from energy was ${num(f.pueFromEnergy)}, ${pct(p)} ${p > 0 ? 'higher' : 'lower'} than the previous 24 h (${num(f.previousPueFromEnergy)})` });
    }
    if (f.pueFromEnergy === null) out.push({ kind: 'kpi', subject: 'facility', text: `PUE from energy could not be computed: ${f.notes.join('; ') || 'no energy figures'}` });
  }
  return out;
}
