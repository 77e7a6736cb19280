import type { Clock } from '../core/clock.js';
import type { DeviceSpec } from '../core/device.js';
import type { Logger } from '../core/logger.js';
import type { DataRecordBody, Outbox, StoredRecord } from '../core/outbox.js';
import type { Reading } from '../core/reading.js';
import type { Tag } from '../core/tag.js';
import { asLastReported, shouldReport, type LastReported } from '../normalize/report-by-exception.js';
import { toReading } from '../normalize/to-reading.js';
import type { PollCycle } from '../scheduler/poll-loop.js';
import type { LiveState } from '../state/live-state.js';

export interface CycleIngestOptions {
  devices: readonly DeviceSpec[];
  outbox: Outbox;
  state: LiveState;
  clock: Clock;
  logger: Logger;
  /** Called after a record was committed, so the forwarder can publish it. */
  onAppended: (stored: readonly StoredRecord[]) => void;
}

/**
 * The per-cycle step of the pipeline: raw samples → readings → report-by-exception →
 * one outbox transaction → live state. If the outbox cannot take the cycle (disk full,
 * read-only file), the error is logged with its cause, what was buffered before stays,
 * and the readings are offered again on the next cycle (report-by-exception state is only
 * advanced after a successful commit).
 */
export class CycleIngest {
  private readonly tags = new Map<string, readonly Tag[]>();
  private readonly lastReported = new Map<string, Array<LastReported | undefined>>();
  private appendFailures = 0;

  constructor(private readonly options: CycleIngestOptions) {
    for (const d of options.devices) {
      this.tags.set(d.id, d.tags);
      this.lastReported.set(d.id, new Array(d.tags.length));
    }
  }

  get failedAppends(): number {
    return this.appendFailures;
  }

  ingest(cycle: PollCycle): void {
    const tags = this.tags.get(cycle.deviceId);
    const last = this.lastReported.get(cycle.deviceId);
    if (!tags || !last) throw new Error(`ingest: unknown device "${cycle.deviceId}"`);
    const now = this.options.clock.now();
    const readings: Reading[] = [];
    const reportIndexes: number[] = [];
    for (const sample of cycle.samples) {
      const tag = tags[sample.tagIndex];
      const reading = toReading(cycle.deviceId, tag, sample);
      readings.push(reading);
      if (shouldReport(last[sample.tagIndex], reading, tag, now)) reportIndexes.push(readings.length - 1);
    }

    let committed = reportIndexes.length === 0;
    let stored: StoredRecord[] = [];
    if (reportIndexes.length > 0) {
      const body: DataRecordBody = {
        device: cycle.deviceId,
        cycleMs: cycle.cycleMs,
        readings: reportIndexes.map((i) => {
          const r = readings[i];
          return {
            tag: r.tag,
            value: r.value,
            unit: r.unit,
            quality: r.quality,
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
            ...(r.detail !== undefined ? { detail: r.detail } : {}),
            timestampMs: r.timestampMs,
          };
        }),
      };
      try {
        stored = this.options.outbox.append([{ stream: cycle.deviceId, kind: 'data', count: reportIndexes.length, body, createdMs: now }]);
        committed = true;
        for (const i of reportIndexes) last[cycle.samples[i].tagIndex] = asLastReported(readings[i], now);
      } catch (err) {
        this.appendFailures++;
        this.options.logger.error(
          { err: (err as Error).message, cause: String((err as Error).cause ?? ''), device: cycle.deviceId, readings: reportIndexes.length },
          'could not buffer a poll cycle; earlier buffered data is kept, these readings will be offered again next cycle',
        );
      }
    }
    this.options.state.recordReadings(cycle.deviceId, readings, committed ? reportIndexes.length : 0);
    if (stored.length > 0) this.options.onAppended(stored);
  }
}
