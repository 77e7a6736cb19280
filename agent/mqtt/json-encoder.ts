import type { ActiveAlarmSummary, AlarmEvent } from '../core/alarm.js';
import type { AlarmRecordBody, DataRecordBody, DataRecordReading, OutboxRecord, StoredRecord } from '../core/outbox.js';
import type { OutgoingMessage } from '../core/publisher.js';
import type { QualityReason } from '../core/quality.js';
import type { Topics } from './topics.js';

/** Payload format version carried as `v` in every JSON payload. */
export const PAYLOAD_VERSION = 1;

export type { DataRecordBody, DataRecordReading } from '../core/outbox.js';

/** Builds the outbox record for one poll cycle (stream = device id, count = readings). */
export function dataRecord(body: DataRecordBody, createdMs: number): OutboxRecord {
  if (body.readings.length === 0) throw new Error(`device ${body.device}: a data record needs at least one reading`);
  return { stream: body.device, kind: 'data', count: body.readings.length, body, createdMs };
}

/** A published reading: the stored one with its sequence number, and the timestamp as ISO 8601. */
export interface DataPayloadReading extends Omit<DataRecordReading, 'timestampMs' | 'serverTimestampMs'> {
  seq: number;
  ts: string;
  /** OPC UA: the server's timestamp of the value. */
  serverTs?: string;
}

/** What is published on `{prefix}/{gateway}/devices/{device}/data` (schema: docs/mqtt-payload.schema.json). */
export interface DataPayload {
  v: typeof PAYLOAD_VERSION;
  gateway: string;
  /** The id of the outbox the sequence numbers come from; consumers reset their sequence state when it changes. */
  outbox: string;
  device: string;
  firstSeq: number;
  lastSeq: number;
  prevSeq: number | null;
  historical: boolean;
  ts: string;
  readings: DataPayloadReading[];
}

export interface GatewayStatusPayload {
  v: typeof PAYLOAD_VERSION;
  gateway: string;
  state: 'online' | 'offline';
  /** When the state was published; absent in the last will (the broker sends it later). */
  ts?: string;
  version?: string;
  /** In the online status: the id of the gateway's outbox (as in every data payload). */
  outbox?: string;
  /** For offline: 'stopped' (clean shutdown) or 'connection-lost' (last will). */
  reason?: 'stopped' | 'connection-lost';
}

export type DeviceAvailability = 'online' | 'offline';

export interface DeviceStatusPayload {
  v: typeof PAYLOAD_VERSION;
  gateway: string;
  device: string;
  state: DeviceAvailability;
  ts: string;
  reason?: QualityReason;
  detail?: string;
}

// Readings of one request share a timestamp: remember the last one formatted.
let lastIsoMs = Number.NaN;
let lastIso = '';
let lastIsoSecond = Number.NaN;
/** "YYYY-MM-DDTHH:MM:SS." of lastIsoSecond. */
let lastIsoPrefix = '';

/**
 * ms → ISO 8601 UTC. Hot path (once or twice per reading): the date and time up to the second are
 * cached, so readings within one second (nearly all of them) cost a concatenation, not a Date.
 */
function iso(ms: number, where: string): string {
  if (ms === lastIsoMs) return lastIso;
  const second = Math.floor(ms / 1000);
  if (second !== lastIsoSecond || !Number.isInteger(ms)) {
    const date = new Date(ms);
    if (!Number.isFinite(date.getTime())) throw new Error(`${where}: timestamp ${String(ms)} is not a valid time`);
    lastIsoMs = ms;
    lastIso = date.toISOString();
    // Only the common 24-character form (years 0000–9999) is cut into prefix and milliseconds.
    if (Number.isInteger(ms) && lastIso.length === 24) {
      lastIsoSecond = second;
      lastIsoPrefix = lastIso.slice(0, 20);
    }
    return lastIso;
  }
  const milli = ms - second * 1000;
  lastIsoMs = ms;
  lastIso = lastIsoPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
  return lastIso;
}

function describeRecord(record: StoredRecord): string {
  return `outbox record ${record.id} (stream "${record.stream}", seq ${record.firstSeq}..${record.lastSeq})`;
}

/** Checks the stored body has the DataRecordBody shape; throws an error naming the record otherwise. */
export function asDataRecordBody(record: StoredRecord): DataRecordBody {
  const body = record.body as Partial<DataRecordBody> | null;
  const where = describeRecord(record);
  if (record.kind !== 'data') throw new Error(`${where}: kind "${String(record.kind)}" is not 'data'`);
  if (!body || typeof body !== 'object') throw new Error(`${where}: body is not an object`);
  if (typeof body.device !== 'string' || body.device.length === 0) throw new Error(`${where}: body.device is missing`);
  if (typeof body.cycleMs !== 'number') throw new Error(`${where}: body.cycleMs is missing`);
  if (!Array.isArray(body.readings)) throw new Error(`${where}: body.readings is not an array`);
  if (body.readings.length !== record.count) {
    throw new Error(`${where}: carries ${body.readings.length} readings but ${record.count} sequence numbers`);
  }
  return body as DataRecordBody;
}

/** `outboxId` is the outbox's `stats().outboxId`: sequence numbers are unique only within it. */
export function encodeDataPayload(record: StoredRecord, gatewayId: string, outboxId: string, historical: boolean): DataPayload {
  const body = asDataRecordBody(record);
  const where = describeRecord(record);
  return {
    v: PAYLOAD_VERSION,
    gateway: gatewayId,
    outbox: outboxId,
    device: body.device,
    firstSeq: record.firstSeq,
    lastSeq: record.lastSeq,
    prevSeq: record.prevSeq,
    historical,
    ts: iso(body.cycleMs, where),
    readings: body.readings.map((reading, i) => {
      const out: DataPayloadReading = {
        seq: record.firstSeq + i,
        tag: reading.tag,
        value: reading.value ?? null,
        unit: reading.unit,
        quality: reading.quality,
        ...(reading.reason !== undefined ? { reason: reading.reason } : {}),
        ...(reading.detail !== undefined ? { detail: reading.detail } : {}),
        ts: iso(reading.timestampMs, `${where} tag "${reading.tag}"`),
      };
      if (reading.serverTimestampMs !== undefined) out.serverTs = iso(reading.serverTimestampMs, `${where} tag "${reading.tag}" server timestamp`);
      return out;
    }),
  };
}

/** The QoS 1, non-retained message for one data record. */
export function encodeDataMessage(record: StoredRecord, topics: Topics, outboxId: string, historical: boolean): OutgoingMessage {
  const payload = encodeDataPayload(record, topics.gatewayId, outboxId, historical);
  return { topic: topics.deviceData(payload.device), payload: JSON.stringify(payload), qos: 1, retain: false };
}

/** What is published on `{prefix}/{gateway}/alarms/events` (docs/mqtt.md). */
export interface AlarmEventsPayload {
  v: typeof PAYLOAD_VERSION;
  gateway: string;
  outbox: string;
  firstSeq: number;
  lastSeq: number;
  prevSeq: number | null;
  historical: boolean;
  events: AlarmEventPayload[];
}

export interface AlarmEventPayload {
  seq: number;
  type: string;
  alarm: string;
  device: string;
  tag: string;
  priority: string;
  state: string;
  message: string;
  value: AlarmEvent['value'];
  unit: string;
  ts: string;
  by?: string;
  reason?: string;
  until?: string;
  /** Predictive alarms: the predicted crossing (ISO), minutes until it, the interval and the confidence. */
  prediction?: { at: string; inMinutes: number; earliest: string; latest: string; confidence: number; slopePerMin: number };
  /** Residual anomaly alarms: what the equipment model expected, from which input and its value. */
  expected?: { value: number; from: string; fromValue: number };
}

export function encodeAlarmMessage(record: StoredRecord, topics: Topics, outboxId: string, historical: boolean): OutgoingMessage {
  const where = describeRecord(record);
  const body = record.body as Partial<AlarmRecordBody> | null;
  if (!body || !Array.isArray(body.events) || body.events.length !== record.count) throw new Error(`${where}: body is not an alarm record with ${record.count} event(s)`);
  const payload: AlarmEventsPayload = {
    v: PAYLOAD_VERSION,
    gateway: topics.gatewayId,
    outbox: outboxId,
    firstSeq: record.firstSeq,
    lastSeq: record.lastSeq,
    prevSeq: record.prevSeq,
    historical,
    events: body.events.map((e, i) => {
      const out: AlarmEventPayload = {
        seq: record.firstSeq + i,
        type: e.type,
        alarm: e.ruleId,
        device: e.device,
        tag: e.tag,
        priority: e.priority,
        state: e.state,
        message: e.message,
        value: e.value ?? null,
        unit: e.unit,
        ts: iso(e.tsMs, `${where} event ${i}`),
      };
      if (e.by !== undefined) out.by = e.by;
      if (e.reason !== undefined) out.reason = e.reason;
      if (e.untilMs !== undefined) out.until = iso(e.untilMs, `${where} event ${i} until`);
      if (e.prediction) {
        const p = e.prediction;
        out.prediction = {
          at: new Date(p.crossingMs).toISOString(),
          inMinutes: Math.round(p.inMs / 6000) / 10,
          earliest: new Date(p.earliestMs).toISOString(),
          latest: new Date(Math.min(p.latestMs, 8.64e15)).toISOString(),
          confidence: Math.round(p.confidence * 1000) / 1000,
          slopePerMin: p.slopePerMin,
        };
      }
      if (e.expected) out.expected = { value: e.expected.value, from: e.expected.from, fromValue: e.expected.fromValue };
      return out;
    }),
  };
  return { topic: topics.alarmEvents, payload: JSON.stringify(payload), qos: 1, retain: false };
}

/** The retained list of active alarms on `{prefix}/{gateway}/alarms/active` (docs/mqtt.md). */
export function encodeActiveAlarmsMessage(topics: Topics, alarms: readonly ActiveAlarmSummary[], nowMs: number): OutgoingMessage {
  const when = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const payload = {
    v: PAYLOAD_VERSION,
    gateway: topics.gatewayId,
    ts: new Date(nowMs).toISOString(),
    alarms: alarms.map((a) => ({
      alarm: a.alarm,
      device: a.device,
      tag: a.tag,
      priority: a.priority,
      state: a.state,
      message: a.message,
      value: a.value,
      unit: a.unit,
      since: when(a.sinceMs),
      ...(a.shelvedUntilMs !== null ? { shelvedUntil: when(a.shelvedUntilMs), shelvedBy: a.shelvedBy } : {}),
      ...(a.outOfService ? { outOfService: true } : {}),
    })),
  };
  return { topic: topics.alarmsActive, payload: JSON.stringify(payload), qos: 1, retain: true };
}

/** One reply on `{prefix}/{gateway}/alarms/replies` to a command with request id `id` (docs/mqtt.md). */
export function encodeAlarmReply(topics: Topics, reply: { id: string | null; ok: boolean; alarm?: string; error?: string; state?: string; shelvedUntilMs?: number | null }, nowMs: number): OutgoingMessage {
  const { shelvedUntilMs, ...rest } = reply;
  const payload = {
    v: PAYLOAD_VERSION,
    gateway: topics.gatewayId,
    ts: new Date(nowMs).toISOString(),
    ...rest,
    ...(shelvedUntilMs !== undefined && shelvedUntilMs !== null ? { shelvedUntil: new Date(shelvedUntilMs).toISOString() } : {}),
  };
  return { topic: topics.alarmReplies, payload: JSON.stringify(payload), qos: 1, retain: false };
}

/** Any outbox record → its MQTT message, by kind. */
export function encodeRecordMessage(record: StoredRecord, topics: Topics, outboxId: string, historical: boolean): OutgoingMessage {
  return record.kind === 'alarm' ? encodeAlarmMessage(record, topics, outboxId, historical) : encodeDataMessage(record, topics, outboxId, historical);
}

export function encodeGatewayStatus(status: Omit<GatewayStatusPayload, 'v'>): string {
  return JSON.stringify({ v: PAYLOAD_VERSION, ...status });
}

/** The retained availability message of one device; the runtime republishes these on every (re)connect. */
export function encodeDeviceStatusMessage(
  topics: Topics,
  status: { device: string; state: DeviceAvailability; tsMs: number; reason?: QualityReason; detail?: string },
): OutgoingMessage {
  const payload: DeviceStatusPayload = {
    v: PAYLOAD_VERSION,
    gateway: topics.gatewayId,
    device: status.device,
    state: status.state,
    ts: iso(status.tsMs, `device ${status.device} status`),
  };
  if (status.reason !== undefined) payload.reason = status.reason;
  if (status.detail !== undefined) payload.detail = status.detail;
  return { topic: topics.deviceStatus(status.device), payload: JSON.stringify(payload), qos: 1, retain: true };
}

/** The part of a daily report the message needs; the report itself is carried whole (agent/report, docs/reports.md). */
export interface DailyReportLike {
  v: number;
  window: { date: string; from: string; to: string; timeZone: string };
}

/** What is published, retained, on `{prefix}/{gateway}/reports/daily` (docs/mqtt.md). */
export interface DailyReportPayload<R extends DailyReportLike = DailyReportLike> {
  v: typeof PAYLOAD_VERSION;
  gateway: string;
  /** When it was published. */
  ts: string;
  /** The report's local date, window and time zone, so a consumer can decide without parsing the report. */
  date: string;
  from: string;
  to: string;
  timeZone: string;
  /** The report as JSON (its own version in `report.v`). */
  report: R;
  /** The same report rendered as Markdown, for people and LLM tools. */
  markdown: string;
}

/** The retained, QoS 1 message carrying the latest daily report, as JSON and as Markdown. */
export function encodeDailyReportMessage<R extends DailyReportLike>(topics: Topics, report: R, markdown: string, nowMs: number): OutgoingMessage {
  const payload: DailyReportPayload<R> = {
    v: PAYLOAD_VERSION,
    gateway: topics.gatewayId,
    ts: iso(nowMs, 'daily report'),
    date: report.window.date,
    from: report.window.from,
    to: report.window.to,
    timeZone: report.window.timeZone,
    report,
    markdown,
  };
  return { topic: topics.reportsDaily, payload: JSON.stringify(payload), qos: 1, retain: true };
}
