import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../../agent/core/outbox.js';
import {
  encodeAlarmMessage,
  dataRecord,
  encodeDataMessage,
  encodeDataPayload,
  encodeDeviceStatusMessage,
  encodeGatewayStatus,
  type DataRecordBody,
} from '../../../agent/mqtt/json-encoder.js';
import { createTopics } from '../../../agent/mqtt/topics.js';

const topics = createTopics('gw1');
const outboxId = '0123456789abcdef';
const cycleMs = Date.UTC(2026, 10, 28, 12, 0, 0, 250);

function stored(body: DataRecordBody, firstSeq = 41, prevSeq: number | null = 40): StoredRecord {
  return { ...dataRecord(body, cycleMs), id: 7, firstSeq, lastSeq: firstSeq + body.readings.length - 1, prevSeq };
}

const body: DataRecordBody = {
  device: 'chiller-1',
  cycleMs,
  readings: [
    { tag: 'supplyTempC', value: 7.25, unit: '°C', quality: 'good', timestampMs: cycleMs + 12 },
    { tag: 'compressorKw', value: null, unit: 'kW', quality: 'bad', reason: 'timeout', detail: 'no answer within 1000 ms', timestampMs: cycleMs + 13 },
    { tag: 'running', value: true, unit: '', quality: 'uncertain', reason: 'out-of-range', timestampMs: cycleMs + 14 },
  ],
};

describe('json encoder', () => {
  it('encodes a data record with per-reading seq and ISO timestamps', () => {
    expect(encodeDataPayload(stored(body), 'gw1', outboxId, false)).toEqual({
      v: 1,
      gateway: 'gw1',
      outbox: outboxId,
      device: 'chiller-1',
      firstSeq: 41,
      lastSeq: 43,
      prevSeq: 40,
      historical: false,
      ts: '2026-11-28T12:00:00.250Z',
      readings: [
        { seq: 41, tag: 'supplyTempC', value: 7.25, unit: '°C', quality: 'good', ts: '2026-11-28T12:00:00.262Z' },
        { seq: 42, tag: 'compressorKw', value: null, unit: 'kW', quality: 'bad', reason: 'timeout', detail: 'no answer within 1000 ms', ts: '2026-11-28T12:00:00.263Z' },
        { seq: 43, tag: 'running', value: true, unit: '', quality: 'uncertain', reason: 'out-of-range', ts: '2026-11-28T12:00:00.264Z' },
      ],
    });
  });

  it('builds a QoS 1, non-retained message on the device data topic, flagged historical when asked', () => {
    const message = encodeDataMessage(stored(body, 1, null), topics, outboxId, true);
    expect(message).toMatchObject({ topic: 'allbit/gw1/devices/chiller-1/data', qos: 1, retain: false });
    expect(JSON.parse(message.payload as string)).toMatchObject({ outbox: outboxId, historical: true, prevSeq: null, firstSeq: 1 });
  });

  it('refuses a record whose readings do not match its sequence range, naming the record', () => {
    const bad = { ...stored(body), lastSeq: 50, count: 10 };
    expect(() => encodeDataPayload(bad, 'gw1', outboxId, false)).toThrow('outbox record 7 (stream "chiller-1", seq 41..50): carries 3 readings but 10 sequence numbers');
    expect(() => encodeDataPayload({ ...stored(body), body: { nope: 1 } }, 'gw1', outboxId, false)).toThrow(/body.device/);
  });

  it('refuses an empty poll cycle as a record', () => {
    expect(() => dataRecord({ device: 'x', cycleMs, readings: [] }, cycleMs)).toThrow(/at least one reading/);
  });

  it('encodes gateway and device status payloads', () => {
    expect(JSON.parse(encodeGatewayStatus({ gateway: 'gw1', state: 'online', ts: '2026-01-01T00:00:00.000Z', version: '1.2.3', outbox: outboxId }))).toEqual({
      v: 1,
      gateway: 'gw1',
      state: 'online',
      ts: '2026-01-01T00:00:00.000Z',
      version: '1.2.3',
      outbox: outboxId,
    });
    const device = encodeDeviceStatusMessage(topics, { device: 'ups-1', state: 'offline', tsMs: cycleMs, reason: 'comm-lost', detail: 'ECONNREFUSED' });
    expect(device).toMatchObject({ topic: 'allbit/gw1/devices/ups-1/status', qos: 1, retain: true });
    expect(JSON.parse(device.payload as string)).toEqual({ v: 1, gateway: 'gw1', device: 'ups-1', state: 'offline', ts: '2026-11-28T12:00:00.250Z', reason: 'comm-lost', detail: 'ECONNREFUSED' });
  });

  describe('docs/mqtt-payload.schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../docs/mqtt-payload.schema.json', import.meta.url), 'utf8')) as Schema;

    it('accepts an encoded payload', () => {
      expect(validate(schema, JSON.parse(JSON.stringify(encodeDataPayload(stored(body), 'gw1', outboxId, true))))).toEqual([]);
    });

    it('rejects payloads that break it (the validator can fail)', () => {
      const good = encodeDataPayload(stored(body), 'gw1', outboxId, false) as unknown as Record<string, unknown>;
      expect(validate(schema, { ...good, firstSeq: undefined })).toContain('$: missing firstSeq');
      expect(validate(schema, { ...good, extra: 1 })).toContain('$: unexpected property extra');
      expect(validate(schema, { ...good, readings: [{ ...(good.readings as object[])[0], quality: 'fine' }] })).toContain('$.readings[0].quality: not one of good,uncertain,bad');
      expect(validate(schema, { ...good, ts: 'yesterday' })).toContain('$.ts: not a date-time');
      expect(validate(schema, { ...good, outbox: undefined })).toContain('$: missing outbox');
      expect(validate(schema, { ...good, outbox: 'not-hex-at-all!!' })).toContain('$.outbox: does not match ^[0-9a-f]{16}$');
    });
  });
});

/** Just enough JSON Schema for our own schema file (no new dependency). */
interface Schema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  items?: Schema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  format?: string;
  pattern?: string;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function validate(schema: Schema, value: unknown, at = '$'): string[] {
  const errors: string[] = [];
  if (value === undefined) return [`${at}: undefined`];
  if (schema.type) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOf(value);
    if (!allowed.includes(actual) && !(actual === 'integer' && allowed.includes('number'))) return [`${at}: expected ${allowed.join('|')}, got ${actual}`];
  }
  if ('const' in schema && value !== schema.const) errors.push(`${at}: not ${String(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: not one of ${schema.enum.join(',')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: too short`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) errors.push(`${at}: not a date-time`);
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...validate(schema.items!, item, `${at}[${i}]`)));
  } else if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (object[key] === undefined) errors.push(`${at}: missing ${key}`);
    for (const [key, child] of Object.entries(object)) {
      if (child === undefined) continue;
      const sub = schema.properties?.[key];
      if (sub) errors.push(...validate(sub, child, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property ${key}`);
    }
  }
  return errors;
}

describe('timestamps in payloads', () => {
  it('writes every millisecond of a second, and across seconds, exactly as Date.toISOString does', async () => {
    const { encodeDataMessage } = await import('../../../agent/mqtt/json-encoder.js');
    const base = Date.UTC(2026, 10, 28, 8, 21, 3);
    const stamps = [base, base + 5, base + 57, base + 999, base + 1000, base + 1042, base - 1, base - 1001, Date.UTC(1969, 11, 31, 23, 59, 59, 7), Date.UTC(10000, 0, 1)];
    for (const ms of stamps) {
      const topics = (await import('../../../agent/mqtt/topics.js')).createTopics('g', 'allbit');
      const record = { id: 1, stream: 'd', kind: 'data' as const, count: 1, firstSeq: 1, lastSeq: 1, prevSeq: null, createdMs: ms, body: { device: 'd', cycleMs: ms, readings: [{ tag: 't', value: 1, unit: '', quality: 'good' as const, timestampMs: ms, serverTimestampMs: ms + 3 }] } };
      const message = encodeDataMessage(record, topics, '0123456789abcdef', false);
      const payload = JSON.parse(String(message.payload)) as { ts: string; readings: { ts: string; serverTs: string }[] };
      expect(payload.ts).toBe(new Date(ms).toISOString());
      expect(payload.readings[0].ts).toBe(new Date(ms).toISOString());
      expect(payload.readings[0].serverTs).toBe(new Date(ms + 3).toISOString());
    }
  });
});

describe('daily report message', () => {
  it('is retained, QoS 1, on reports/daily, and carries the report as JSON and as Markdown', async () => {
    const { encodeDailyReportMessage } = await import('../../../agent/mqtt/json-encoder.js');
    const report = { v: 1, kind: 'allbit.daily-report', window: { date: '2026-06-10', from: '2026-06-09T22:00:00.000Z', to: '2026-06-10T22:00:00.000Z', timeZone: 'Europe/Berlin' }, attention: [{ text: 'x' }] };
    const message = encodeDailyReportMessage(topics, report, '# Report\n', Date.UTC(2026, 5, 10, 22, 5));
    expect(message).toMatchObject({ topic: 'allbit/gw1/reports/daily', qos: 1, retain: true });
    expect(JSON.parse(message.payload as string)).toEqual({
      v: 1,
      gateway: 'gw1',
      ts: '2026-06-10T22:05:00.000Z',
      date: '2026-06-10',
      from: '2026-06-09T22:00:00.000Z',
      to: '2026-06-10T22:00:00.000Z',
      timeZone: 'Europe/Berlin',
      report,
      markdown: '# Report\n',
    });
  });
});

describe('alarm events message', () => {
  it('carries what a residual anomaly alarm expected and what a predictive alarm predicted', () => {
    const base = { device: 'chiller-1', tag: 'power_kw', priority: 'medium' as const, state: 'active-unack' as const, message: 'm', value: 412, unit: 'kW', tsMs: Date.UTC(2026, 10, 28, 6), type: 'raised' as const };
    const record: StoredRecord = {
      id: 1, stream: '@alarms', kind: 'alarm', count: 2, createdMs: base.tsMs, firstSeq: 10, lastSeq: 11, prevSeq: null,
      body: {
        events: [
          { ...base, ruleId: 'chiller-1.power_kw.anomaly', expected: { value: 318.5, from: 'cooling_load_kw', fromValue: 1450 } },
          { ...base, ruleId: 'chiller-1.cond_approach.predict', prediction: { crossingMs: base.tsMs + 38 * 60_000, inMs: 38 * 60_000, earliestMs: base.tsMs + 30 * 60_000, latestMs: base.tsMs + 50 * 60_000, confidence: 0.9876, slopePerMin: 0.01 } },
        ],
      },
    } as StoredRecord;
    const payload = JSON.parse(String(encodeAlarmMessage(record, topics, "ob", false).payload)) as { events: Record<string, unknown>[] };
    expect(payload.events[0]).toMatchObject({ seq: 10, alarm: 'chiller-1.power_kw.anomaly', expected: { value: 318.5, from: 'cooling_load_kw', fromValue: 1450 } });
    expect(payload.events[0].prediction).toBeUndefined();
    expect(payload.events[1]).toMatchObject({ seq: 11, prediction: { at: '2026-11-28T06:38:00.000Z', inMinutes: 38, confidence: 0.988 } });
    expect(payload.events[1].expected).toBeUndefined();
  });
});
