/**
 * Wall-clock time in an IANA time zone, from Node's Intl (no time-zone database of our own): what
 * the daily report's schedule and its text both need. One formatter per zone, kept.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch (cause) {
      throw new Error(`time zone "${timeZone}" is not a known IANA time zone (for example "Europe/Berlin", "America/New_York", "UTC")`, { cause });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a clear error unless `timeZone` is an IANA time zone this Node knows. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time of `ms` in `timeZone`. */
export function wallTime(ms: number, timeZone: string): Wall {
  const parts = formatterFor(timeZone).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** UTC offset of `timeZone` at `ms`, in ms (local − UTC, whole seconds). */
export function offsetMs(ms: number, timeZone: string): number {
  const w = wallTime(ms, timeZone);
  const floored = Math.floor(ms / 1000) * 1000;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - floored;
}
