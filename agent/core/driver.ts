import type { BusHealth } from './bus.js';
import type { Clock } from './clock.js';
import type { DeviceSpec } from './device.js';
import type { Logger } from './logger.js';
import type { RawSample } from './reading.js';
import type { Tag } from './tag.js';

/** A driver's grouping of tags into protocol requests. Opaque to the scheduler except for its counts. */
export interface ReadPlan {
  /** Requests one read of this plan sends. */
  readonly requestCount: number;
  /** Tags covered (the length of the sample array `read` returns). */
  readonly tagCount: number;
}

/**
 * Kinds of failed requests and answers. frame: a serial-line reply that was damaged or not ours
 * (bad CRC, short frame, wrong unit or function, or a late reply to an earlier request); status:
 * the device answered but marked the value bad (OPC UA status code); config: the device refused
 * what we asked for (an unknown node, access denied).
 */
export type DriverErrorKind = 'timeout' | 'exception' | 'comm' | 'decode' | 'frame' | 'status' | 'config';

export interface DriverStats {
  connected: boolean;
  requests: number;
  errors: Record<DriverErrorKind, number>;
  /** Latency of the last successful request, ms. */
  lastLatencyMs: number | null;
  lastError: string | null;
}

export interface ReadOptions {
  /**
   * Only the tags whose values arrived since the previous read (drivers with `onData`; others
   * ignore it and return every tag). The samples then cover just those tags, each with its
   * `tagIndex`; tags the driver polls itself are left for the next full read. A subscription that
   * delivers 10k values in ten publish responses is ten small cycles, not ten of 10k tags.
   */
  changedOnly?: boolean;
}

/**
 * A connection to one field device (or one bus).
 *
 * Guarantees:
 * - `open()` connects or rejects with an error naming the device and endpoint; it may be called
 *   again after a failure or after `close()`.
 * - `read(plan)` resolves with exactly one sample per planned tag, in tag order (with
 *   `changedOnly`, one per changed tag, see ReadOptions). Failures of a
 *   request (timeout, protocol exception, lost connection) come back as bad-quality samples with
 *   a reason; `read` rejects only for programming errors. A lost connection sets `connected` to false.
 * - At most one request is in flight per connection; every request has a timeout.
 * - A driver holds no timers of its own between calls: polling and reconnect backoff belong to
 *   the scheduler.
 */
export interface Driver {
  readonly connected: boolean;
  open(): Promise<void>;
  plan(tags: readonly Tag[]): ReadPlan;
  read(plan: ReadPlan, options?: ReadOptions): Promise<RawSample[]>;
  close(): Promise<void>;
  stats(): DriverStats;
  /**
   * Optional, for drivers that receive values unsolicited (OPC UA subscriptions): `listener` is
   * called when new values have arrived since the last `read`. The scheduler then runs a cycle
   * soon (coalesced with other notifications, never overlapping a cycle); `read` returns the newest
   * values it holds. Registered once, before the first `open`.
   */
  onData?(listener: () => void): void;
}

export interface DriverContext {
  clock: Clock;
  logger: Logger;
}

/** One protocol's entry in the driver registry (an explicit array in the runtime, no import side effects). */
export interface DriverDescriptor {
  /** Matches `DeviceSpec.connection.protocol`. */
  kind: string;
  create(device: DeviceSpec, context: DriverContext): Driver;
  /** Health of the shared lines (RTU buses) this descriptor's drivers use, if any. */
  buses?(): BusHealth[];
}

/** Every error kind at zero: the start of a driver's counters. */
export function zeroErrorCounts(): Record<DriverErrorKind, number> {
  return { timeout: 0, exception: 0, comm: 0, decode: 0, frame: 0, status: 0, config: 0 };
}
