/** Deterministic formatting for the report: local times, numbers, durations. */
import { offsetMs, wallTime } from '../core/zoned-time.js';

const pad = (n: number): string => String(n).padStart(2, '0');

function parts(ms: number, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute', string> {
  const w = wallTime(ms, timeZone);
  return { year: String(w.year), month: pad(w.month), day: pad(w.day), hour: pad(w.hour), minute: pad(w.minute) };
}

/** "2026-03-29 14:05" in the time zone. */
export function localDateTime(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** "14:05" in the time zone. */
export function localTime(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p.hour}:${p.minute}`;
}

/** "UTC+02:00" at that instant. */
export function utcOffset(ms: number, timeZone: string): string {
  const minutes = Math.round(offsetMs(ms, timeZone) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Rounds for the JSON report (3 decimals; -0 → 0). */
export function round3(n: number): number {
  const r = Math.round(n * 1000) / 1000;
  return r === 0 ? 0 : r;
}

export function roundOrNull(n: number | null): number | null {
  return n === null || !Number.isFinite(n) ? null : round3(n);
}

/** A number for people: 3 significant digits-ish, fixed decimals by magnitude (deterministic). */
export function num(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  const decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  const s = n.toFixed(decimals);
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** A number with its unit ("0.62 kW/ton", "94.0 %"); a dimensionless number (COP, PUE) stands alone. */
export function withUnit(n: number | null, unit: string): string {
  if (n === null || !Number.isFinite(n)) return '—';
  return unit ? `${num(n)} ${unit}` : num(n);
}

/** A percentage change rounded to a whole number ("12 %"). */
export function pct(n: number): string {
  return `${Math.round(Math.abs(n))} %`;
}

/** "6 h 12 min", "45 min", "2 d 3 h", "< 1 min". */
export function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return '< 1 min';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** Escapes a table cell (pipes and line breaks). */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
