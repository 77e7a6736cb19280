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

export type DriverErrorKind = 'timeout' | 'exception' | 'comm' | 'decode';

export interface DriverStats {
  connected: boolean;
  requests: number;
  errors: Record<DriverErrorKind, number>;
  /** Latency of the last successful request, ms. */
  lastLatencyMs: number | null;
  lastError: string | null;
}

/**
 * A connection to one field device (or one bus).
 *
 * Guarantees:
 * - `open()` connects or rejects with an error naming the device and endpoint; it may be called
 *   again after a failure or after `close()`.
 * - `read(plan)` resolves with exactly one sample per planned tag, in tag order. Failures of a
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
  read(plan: ReadPlan): Promise<RawSample[]>;
  close(): Promise<void>;
  stats(): DriverStats;
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
}
