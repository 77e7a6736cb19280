/**
 * The latest reading of every tag a calculation reads, written by the ingest step (every reading
 * of a cycle, reported or not) and read by the calculated devices' drivers. Only watched tags are
 * kept, so a gateway with 10k tags and a few calculations keeps a few dozen entries and the cost
 * per reading of an unwatched device is one Map lookup per cycle.
 */
import type { TagRef } from '../core/calculation.js';
import type { Quality, QualityReason } from '../core/quality.js';
import type { Reading } from '../core/reading.js';

export interface LatestValue {
  value: number | boolean | string | null;
  quality: Quality;
  reason?: QualityReason;
  /** Source timestamp of the reading. */
  timestampMs: number;
  /** When the gateway received it (freshness is judged on this: a device clock may be wrong). */
  receivedMs: number;
}

export class LatestValues {
  /** device → tag → latest; only watched tags have entries. */
  private readonly byDevice = new Map<string, Map<string, LatestValue | null>>();

  watch(refs: readonly TagRef[]): void {
    for (const { device, tag } of refs) {
      let tags = this.byDevice.get(device);
      if (!tags) this.byDevice.set(device, (tags = new Map()));
      if (!tags.has(tag)) tags.set(tag, null);
    }
  }

  /** Whether any tag of this device is read by a calculation. */
  watches(device: string): boolean {
    return this.byDevice.has(device);
  }

  observe(device: string, readings: readonly Reading[], receivedMs: number): void {
    const tags = this.byDevice.get(device);
    if (!tags) return;
    for (const r of readings) {
      if (!tags.has(r.tag)) continue;
      const v: LatestValue = { value: r.value, quality: r.quality, timestampMs: r.timestampMs, receivedMs };
      if (r.reason !== undefined) v.reason = r.reason;
      tags.set(r.tag, v);
    }
  }

  /** The latest reading of a watched tag; null when none has arrived yet (or the tag is not watched). */
  get(ref: TagRef): LatestValue | null {
    return this.byDevice.get(ref.device)?.get(ref.tag) ?? null;
  }
}
