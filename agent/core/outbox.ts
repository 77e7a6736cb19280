import type { AlarmEvent } from './alarm.js';
import type { Quality, QualityReason } from './quality.js';
import type { EngineeringValue } from './tag.js';

/** A publishable message waiting in the outbox: for example one device's readings from one poll cycle. */
export interface OutboxRecord {
  /** The stream the record belongs to (a device id, or "alarms"): sequence chains are kept per stream. */
  stream: string;
  /** What the body is; the publisher chooses topic and encoding from it. */
  kind: 'data' | 'alarm';
  /** How many sequence numbers the record consumes (one per reading it carries, at least 1). */
  count: number;
  /** JSON-serialisable body. */
  body: unknown;
  createdMs: number;
}

export interface StoredRecord extends OutboxRecord {
  /** Outbox position: increases with every append, never reused. */
  id: number;
  /** Gateway-wide sequence numbers firstSeq..lastSeq (inclusive) belong to this record. */
  firstSeq: number;
  lastSeq: number;
  /** lastSeq of the previous record on the same stream, or null for the first ever: lets a consumer of one stream detect gaps. */
  prevSeq: number | null;
}

export interface OutboxStats {
  /** Records waiting (appended, not yet acknowledged or dropped). */
  records: number;
  /** Sum of sequence numbers waiting (readings). */
  readings: number;
  /** Bytes of stored bodies waiting. */
  bytes: number;
  maxBytes: number;
  oldestCreatedMs: number | null;
  /** Totals since the outbox file was created. */
  appendedRecords: number;
  ackedRecords: number;
  droppedRecords: number;
  droppedReadings: number;
  /** Next gateway-wide sequence number to be assigned. */
  nextSeq: number;
  /**
   * Random id of this outbox (created with it, kept across restarts). Sequence numbers are unique
   * only within one outbox: a new id (file deleted, restored from a backup) tells consumers to
   * reset their sequence state.
   */
  outboxId: string;
}

export interface OutboxRange {
  /** Only records with id > afterId. */
  afterId?: number;
  /** Only records with id < beforeId. */
  beforeId?: number;
}

/**
 * Store-and-forward buffer.
 *
 * Guarantees:
 * - What `append` returned from is durable (committed in one transaction) and survives a crash.
 * - Sequence numbers are gateway-wide, strictly increasing, never reused — also across restarts.
 * - `next` returns the oldest waiting records first and does not remove them; nothing leaves
 *   the outbox before `ack`. Delivery is therefore at least once.
 * - When the stored bytes exceed `maxBytes`, the oldest records are dropped, counted and logged;
 *   so are the oldest when the disk is full, to make room for the newest.
 * - Single writer: one outbox is used by one process at a time; opening it again fails.
 */
export interface Outbox {
  append(records: readonly OutboxRecord[]): StoredRecord[];
  next(max: number, range?: OutboxRange): StoredRecord[];
  ack(batch: readonly Pick<StoredRecord, 'id'>[]): void;
  stats(): OutboxStats;
  close(): void;
}

/** One reading inside a data record body, as the ingest side stores it. */
export interface DataRecordReading {
  tag: string;
  value: EngineeringValue | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
  /** Source timestamp, ms since epoch. */
  timestampMs: number;
  /** OPC UA: the server's timestamp, ms since epoch. */
  serverTimestampMs?: number;
}

/**
 * The body of an outbox record of kind 'data': one device's reported readings from one poll
 * cycle. The record's `count` equals `readings.length` (one sequence number per reading).
 */
export interface DataRecordBody {
  device: string;
  /** Wall-clock start of the poll cycle, ms since epoch. */
  cycleMs: number;
  readings: DataRecordReading[];
}

/** The outbox stream of alarm events (not a valid device id, so it never collides with one). */
export const ALARM_STREAM = '@alarms';

/** The body of an outbox record of kind 'alarm': events in the order they happened; `count` = events.length. */
export interface AlarmRecordBody {
  events: AlarmEvent[];
}
