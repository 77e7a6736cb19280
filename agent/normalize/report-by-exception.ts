import type { Reading } from '../core/reading.js';
import type { Tag } from '../core/tag.js';

/** What was last reported for a tag: the input to the next report-by-exception decision. */
export interface LastReported {
  value: Reading['value'];
  quality: Reading['quality'];
  reason?: Reading['reason'];
  /** When it was reported (gateway clock, ms). */
  reportedMs: number;
}

/**
 * Report-by-exception: a reading is reported when it is the first, when its quality or reason
 * changed, when a numeric value moved by more than the tag's deadband (any change when the
 * deadband is 0), when any other value changed, or when the tag has been silent for
 * `maxSilenceMs` (the heartbeat; 0 reports every poll).
 */
export function shouldReport(last: LastReported | undefined, reading: Reading, tag: Tag, nowMs: number): boolean {
  if (last === undefined) return true;
  if (tag.maxSilenceMs === 0 || nowMs - last.reportedMs >= tag.maxSilenceMs) return true;
  if (last.quality !== reading.quality || last.reason !== reading.reason) return true;
  if (typeof reading.value === 'number' && typeof last.value === 'number') {
    const delta = Math.abs(reading.value - last.value);
    if (tag.deadband === 0) return delta !== 0;
    // Tolerate binary rounding: 7.2 - 7 is 0.2000000000000002, which is not a change beyond a 0.2 deadband.
    const epsilon = 1e-9 * Math.max(1, Math.abs(reading.value), Math.abs(last.value));
    return delta - tag.deadband > epsilon;
  }
  return reading.value !== last.value;
}

/** The memory of what was reported; `reuse` (the tag's previous memory) is updated in place to spare the garbage collector. */
export function asLastReported(reading: Reading, nowMs: number, reuse?: LastReported): LastReported {
  if (!reuse) return { value: reading.value, quality: reading.quality, reason: reading.reason, reportedMs: nowMs };
  reuse.value = reading.value;
  reuse.quality = reading.quality;
  reuse.reason = reading.reason;
  reuse.reportedMs = nowMs;
  return reuse;
}
