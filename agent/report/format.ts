/** Deterministic formatting for the report: local times, numbers, durations. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch (cause) {
      throw new Error(`report: time zone "${timeZone}" is not a known IANA time zone`, { cause });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

function parts(ms: number, timeZone: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
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
  const p = parts(ms, timeZone);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const minutes = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
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
