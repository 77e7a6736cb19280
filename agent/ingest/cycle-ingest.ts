import type { Clock } from '../core/clock.js';
import type { DeviceSpec } from '../core/device.js';
import type { Logger } from '../core/logger.js';
import type { AlarmEvent } from '../core/alarm.js';
import { ALARM_STREAM, type AlarmRecordBody, type DataRecordBody, type DataRecordReading, type Outbox, type OutboxRecord, type StoredRecord } from '../core/outbox.js';
import type { Reading } from '../core/reading.js';
import type { Tag } from '../core/tag.js';
import { asLastReported, shouldReport, type LastReported } from '../normalize/report-by-exception.js';
import { toReading } from '../normalize/to-reading.js';
import type { PollCycle } from '../core/reading.js';
import type { LiveState } from '../state/live-state.js';

export interface CycleIngestOptions {
  devices: readonly DeviceSpec[];
  outbox: Outbox;
  state: LiveState;
  clock: Clock;
  logger: Logger;
  /** Called after a record was committed, so the forwarder can publish it. */
  onAppended: (stored: readonly StoredRecord[]) => void;
  /**
   * The alarm engine, if alarms are configured: sees every reading of a cycle (reported or not)
   * and returns the events they caused, which go into the same outbox transaction as the readings.
   */
  alarms?: { evaluate(readings: readonly Reading[], nowMs: number): AlarmEvent[] };
  /** See every reading of every cycle (reported or not), after normalization: the calculated devices' inputs. */
  observers?: readonly ((device: string, readings: readonly Reading[], nowMs: number) => void)[];
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
  private lastAppendError: string | null = null;
  private failing = false;
  /** Alarm events not yet committed (the outbox refused the last attempt): offered again with the next append. */
  private pendingAlarmEvents: AlarmEvent[] = [];

  constructor(private readonly options: CycleIngestOptions) {
    for (const d of options.devices) {
      this.tags.set(d.id, d.tags);
      this.lastReported.set(d.id, new Array(d.tags.length));
    }
  }

  /** Poll cycles that could not be buffered since start, and the last reason. */
  appendHealth(): { failedAppends: number; lastError: string | null; failing: boolean } {
    return { failedAppends: this.appendFailures, lastError: this.lastAppendError, failing: this.failing };
  }

  ingest(cycle: PollCycle): void {
    const tags = this.tags.get(cycle.deviceId);
    const last = this.lastReported.get(cycle.deviceId);
    if (!tags || !last) throw new Error(`ingest: unknown device "${cycle.deviceId}"`);
    const now = this.options.clock.now();
    // Report-by-exception silence is measured on the monotonic clock: an NTP step backwards must not stop heartbeats.
    const nowMono = this.options.clock.monotonicMs();
    const readings: Reading[] = [];
    const reportIndexes: number[] = [];
    for (const sample of cycle.samples) {
      const tag = tags[sample.tagIndex];
      const reading = toReading(cycle.deviceId, tag, sample);
      readings.push(reading);
      if (shouldReport(last[sample.tagIndex], reading, tag, nowMono)) reportIndexes.push(readings.length - 1);
    }

    if (this.options.observers) for (const observe of this.options.observers) observe(cycle.deviceId, readings, now);
    if (this.options.alarms) this.pendingAlarmEvents.push(...this.options.alarms.evaluate(readings, now));
    let committed = reportIndexes.length === 0;
    let stored: StoredRecord[] = [];
    if (reportIndexes.length === 0 && this.pendingAlarmEvents.length > 0) stored = this.appendAlarmRecord(now);
    if (reportIndexes.length > 0) {
      const body: DataRecordBody = {
        device: cycle.deviceId,
        cycleMs: cycle.cycleMs,
        readings: reportIndexes.map((i) => {
          const r = readings[i];
          const stored: DataRecordReading = { tag: r.tag, value: r.value, unit: r.unit, quality: r.quality, timestampMs: r.timestampMs };
          if (r.reason !== undefined) stored.reason = r.reason;
          if (r.detail !== undefined) stored.detail = r.detail;
          if (r.serverTimestampMs !== undefined) stored.serverTimestampMs = r.serverTimestampMs;
          return stored;
        }),
      };
      try {
        const alarmRecords = this.alarmRecords(now);
        stored = this.options.outbox.append([{ stream: cycle.deviceId, kind: 'data', count: reportIndexes.length, body, createdMs: now }, ...alarmRecords]);
        if (alarmRecords.length > 0) this.pendingAlarmEvents = [];
        committed = true;
        for (const i of reportIndexes) {
          const tagIndex = cycle.samples[i].tagIndex;
          last[tagIndex] = asLastReported(readings[i], nowMono, last[tagIndex]);
        }
        if (this.failing) {
          this.failing = false;
          this.options.logger.info({ failedAppends: this.appendFailures }, 'buffering works again');
        }
      } catch (err) {
        this.appendFailures++;
        this.lastAppendError = (err as Error).message;
        // The first failure of a run is an error; repeats (every device, every cycle) go to debug so a full disk does not flood the log.
        const log = this.failing ? this.options.logger.debug : this.options.logger.error;
        this.failing = true;
        log.call(this.options.logger, 
          { err: (err as Error).message, cause: String((err as Error).cause ?? ''), device: cycle.deviceId, readings: reportIndexes.length },
          'could not buffer a poll cycle; earlier buffered data is kept, these readings will be offered again next cycle',
        );
      }
    }
    this.options.state.recordReadings(cycle.deviceId, readings, committed ? reportIndexes.length : 0);
    if (stored.length > 0) this.options.onAppended(stored);
  }

  /** Alarm events not caused by a reading (delays completing, shelving expiring, operator actions): one outbox record. */
  appendAlarmEvents(events: readonly AlarmEvent[]): void {
    if (events.length === 0 && this.pendingAlarmEvents.length === 0) return;
    this.pendingAlarmEvents.push(...events);
    const stored = this.appendAlarmRecord(this.options.clock.now());
    if (stored.length > 0) this.options.onAppended(stored);
  }

  private alarmRecords(nowMs: number): OutboxRecord[] {
    if (this.pendingAlarmEvents.length === 0) return [];
    const body: AlarmRecordBody = { events: this.pendingAlarmEvents };
    return [{ stream: ALARM_STREAM, kind: 'alarm', count: body.events.length, body, createdMs: nowMs }];
  }

  private appendAlarmRecord(nowMs: number): StoredRecord[] {
    try {
      const stored = this.options.outbox.append(this.alarmRecords(nowMs));
      this.pendingAlarmEvents = [];
      return stored;
    } catch (err) {
      this.appendFailures++;
      this.lastAppendError = (err as Error).message;
      const log = this.failing ? this.options.logger.debug : this.options.logger.error;
      this.failing = true;
      log.call(this.options.logger, { err: (err as Error).message, events: this.pendingAlarmEvents.length }, 'could not buffer alarm events; they will be offered again with the next append');
      return [];
    }
  }
}
