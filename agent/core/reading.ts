import type { QualityInfo, QualityReason, Quality } from './quality.js';
import type { EngineeringValue, RawValue } from './tag.js';

/** What a driver returns for one tag in one read: the raw decoded value or a reason it has none. */
export interface RawSample {
  /** Index of the tag in the array the plan was built from. */
  tagIndex: number;
  value?: RawValue;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
  /** Source timestamp (ms since epoch): when the device answered, or the source timestamp the device reported (OPC UA). */
  timestampMs: number;
  /** OPC UA: the server's timestamp of the value, when it sent one. */
  serverTimestampMs?: number;
}

/** A typed engineering value — the unit of "All to Bit". */
export interface Reading extends QualityInfo {
  device: string;
  tag: string;
  /** null when quality is bad. */
  value: EngineeringValue | null;
  unit: string;
  /** Source timestamp, ms since epoch. */
  timestampMs: number;
  /** OPC UA: the server's timestamp, when the server sent one. */
  serverTimestampMs?: number;
}

/** The outcome of one poll cycle of one device, handed from the scheduler to the pipeline. */
export interface PollCycle {
  deviceId: string;
  /** Wall-clock start of the cycle (ms since epoch). */
  cycleMs: number;
  /**
   * One sample per tag, in tag order — or, in a cycle run because a driver announced new values,
   * one per tag that changed (each sample names its tag by `tagIndex`).
   */
  samples: RawSample[];
  /** Whether the device was reached in this cycle. */
  connected: boolean;
}
