import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { ActiveAlarmSummary, AlarmPriority, AlarmState } from '../../../agent/core/alarm.js';
import type { BusHealth } from '../../../agent/core/bus.js';
import { idlePollHealth, type DeviceSpec } from '../../../agent/core/device.js';
import { zeroErrorCounts } from '../../../agent/core/driver.js';
import type { Tag } from '../../../agent/core/tag.js';
import { LiveState } from '../../../agent/state/live-state.js';
import { createMetrics } from '../../../agent/status/metrics.js';

/** parse-prometheus-text-format (CommonJS, untyped): the shape it returns. */
interface ParsedSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: ParsedSample[];
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const tag = (name: string, address: number): Tag => ({
  name,
  description: name,
  unit: '',
  source: { area: 'input', address, type: 'uint16', order: 'ABCD' },
  scale: 1,
  offset: 0,
  deadband: 0,
  maxSilenceMs: 0,
});

const limits = { maxGapRegisters: 16, maxGapBits: 64, maxRegistersPerRequest: 125, maxBitsPerRequest: 2000, backoffInitialMs: 1000, backoffMaxMs: 60000 };

const ups: DeviceSpec = {
  id: 'ups-1',
  name: 'UPS A',
  profile: 'generic-ups',
  connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 1 },
  pollIntervalMs: 1000,
  timeoutMs: 500,
  ...limits,
  tags: [tag('load_pct', 0), tag('voltage_v', 1), tag('temp_c', 2)],
};

const bus = {
  id: 'rs485-1',
  transport: 'serial',
  path: '/dev/ttyUSB0',
  baudRate: 9600,
  dataBits: 8,
  parity: 'even',
  stopBits: 1,
  interFrameGapMs: 4,
  timeoutMs: 500,
  backoffInitialMs: 1000,
  backoffMaxMs: 60000,
} as const;

const crah: DeviceSpec = {
  id: 'crah-2',
  name: 'CRAH 2 "north"',
  connection: { protocol: 'modbus-rtu', bus, unitId: 3 },
  pollIntervalMs: 2000,
  timeoutMs: 500,
  ...limits,
  tags: [tag('supply_c', 0), tag('return_c', 1)],
};

const busHealth: BusHealth = {
  id: 'rs485-1',
  description: '/dev/ttyUSB0 9600 8E1',
  transport: 'serial',
  open: true,
  devices: ['crah-2'],
  requests: 90,
  answered: 70,
  errors: { timeout: 12, crc: 5, shortFrame: 1, wrongUnit: 0, wrongFunction: 0, byteCount: 0, lateReply: 2, exception: 0, comm: 0 },
  lastLatencyMs: 45,
  meanLatencyMs: 38.5,
  utilization: 0.25,
  openFailures: 0,
  backoffMs: 0,
  lastError: 'crc mismatch',
};

const STARTED_MS = 1_700_000_000_000;

/** A real LiveState as the runtime fills it: one healthy device, one failing one, a bus, buffer, broker, forwarder. */
function plant() {
  let now = STARTED_MS;
  const state = new LiveState({ id: 'gw-7', name: 'Hall 7 gateway', version: '0.1.0', startedMs: STARTED_MS }, () => now);
  state.addDevice(ups, 1);
  state.addDevice(crah, 2);

  now = STARTED_MS + 10_000;
  state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 42, unit: '%', quality: 'good', timestampMs: now }], 1);
  now = STARTED_MS + 20_000;
  state.recordReadings(
    'ups-1',
    [
      { device: 'ups-1', tag: 'voltage_v', value: 230, unit: 'V', quality: 'good', timestampMs: now },
      { device: 'ups-1', tag: 'temp_c', value: 140, unit: '°C', quality: 'uncertain', reason: 'out-of-range', timestampMs: now },
    ],
    2,
  );
  state.setDeviceHealth(
    'ups-1',
    { ...idlePollHealth(), connected: true, cycles: 120, overruns: 2, lastCycleMs: now, lastGoodCycleMs: now - 1500, lastCycleDurationMs: 35 },
    { connected: true, requests: 500, errors: zeroErrorCounts(), lastLatencyMs: 12, lastError: null },
    1,
  );
  state.setDeviceHealth(
    'crah-2',
    { ...idlePollHealth(), connected: false, cycles: 40, lastCycleMs: now, connectFailures: 4, backoffMs: 8000, nextConnectMs: now + 8000, lastError: 'timed out' },
    { connected: false, requests: 60, errors: { ...zeroErrorCounts(), timeout: 7, comm: 3 }, lastLatencyMs: null, lastError: 'timed out' },
    2,
  );
  state.setBuses([busHealth]);
  state.setBuffer({
    records: 30,
    readings: 900,
    bytes: 65_536,
    maxBytes: 1_048_576,
    oldestCreatedMs: now - 90_000,
    appendedRecords: 1000,
    ackedRecords: 950,
    droppedRecords: 20,
    droppedReadings: 600,
    nextSeq: 30_001,
    outboxId: 'ob-1',
  });
  state.setBroker({ state: 'disconnected', sinceMs: now - 60_000, lastError: 'ECONNREFUSED', acked: 940 });
  state.setForwarder({ published: 930, failures: 5, inFlight: 0, backlog: 30, lane: 'disconnected', lastError: 'publish: not connected' });
  state.setIngest({ failedAppends: 1, lastError: 'SQLITE_FULL', failing: false });
  state.setReady(true);
  return { state, advance: (ms: number) => (now += ms) };
}

/** The one sample of `name` whose labels include `labels`; fails unless exactly one matches. */
function sample(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): ParsedSample {
  const family = families.find((f) => f.name === name);
  expect(family, `metric ${name}`).toBeDefined();
  const matches = family!.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(matches, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return matches[0];
}
const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number => Number(sample(families, name, labels).value);
const family = (families: ParsedFamily[], name: string): ParsedFamily | undefined => families.find((f) => f.name === name);

/** Checks the exposition line by line: every sample unique and announced by HELP and TYPE before it. */
function expectValidExposition(text: string): void {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const series = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      const seen = kind === 'HELP' ? help : type;
      expect(seen.has(name), `second # ${kind} for ${name}`).toBe(false);
      seen.set(name, rest);
      continue;
    }
    expect(line.startsWith('#'), `unexpected comment: ${line}`).toBe(false);
    // The parser reads the single line as one untyped sample (it needs the line's end).
    const [parsed] = parsePrometheus(`${line}\n`);
    const name = parsed.name;
    const s = parsed.metrics[0];
    expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    expect(s.value, line).toMatch(/^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?Inf|NaN|Nan)$/);
    const base = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => type.get(n) !== undefined);
    expect(base, `# TYPE before ${line}`).toBeDefined();
    expect(help.get(base!), `# HELP for ${base}`).toBeTruthy();
    if (base !== name) expect(['histogram', 'summary']).toContain(type.get(base!));
    const key = `${name}${JSON.stringify(Object.entries(s.labels ?? {}).sort(([a], [b]) => a.localeCompare(b)))}`;
    expect(series.has(key), `duplicate series ${key}`).toBe(false);
    series.add(key);
  }
  for (const t of type.values()) expect(['counter', 'gauge', 'histogram', 'summary']).toContain(t);

  // The whole text as one document: every family typed and helped, each family in one block.
  const families = parsePrometheus(text);
  const names = families.map((f) => f.name);
  expect(new Set(names).size, 'a metric family split in two blocks').toBe(names.length);
  for (const f of families) {
    expect(f.type, f.name).not.toBe('UNTYPED');
    expect(f.help, f.name).not.toBe('');
  }
}

describe('createMetrics', () => {
  it('exposes device, bus, buffer, broker and gateway figures from the live state', async () => {
    const { state } = plant();
    const metrics = createMetrics(() => state.snapshot());
    const m = parsePrometheus(await metrics.render());

    // Gateway.
    expect(sample(m, 'allbit_info').labels).toEqual({ gateway: 'gw-7', name: 'Hall 7 gateway', version: '0.1.0' });
    expect(value(m, 'allbit_ready')).toBe(1);
    expect(value(m, 'allbit_start_time_seconds')).toBe(STARTED_MS / 1000);
    expect(value(m, 'allbit_uptime_seconds')).toBe(20);
    expect(value(m, 'allbit_readings_in_total')).toBe(3);
    expect(value(m, 'allbit_readings_reported_total')).toBe(3);
    expect(value(m, 'allbit_ingest_failed_appends_total')).toBe(1);
    expect(value(m, 'allbit_ingest_failing')).toBe(0);

    // Devices: labels, health, driver counters (every error kind, zero included), latency.
    expect(sample(m, 'allbit_device_info', { device: 'crah-2' }).labels).toEqual({
      device: 'crah-2',
      protocol: 'modbus-rtu',
      name: 'CRAH 2 "north"',
      address: 'bus rs485-1 (/dev/ttyUSB0 9600 8E1) unit 3',
      profile: '',
    });
    expect(sample(m, 'allbit_device_info', { device: 'ups-1' }).labels).toMatchObject({ protocol: 'modbus-tcp', profile: 'generic-ups' });
    expect(value(m, 'allbit_device_connected', { device: 'ups-1', protocol: 'modbus-tcp' })).toBe(1);
    expect(value(m, 'allbit_device_connected', { device: 'crah-2', protocol: 'modbus-rtu' })).toBe(0);
    expect(value(m, 'allbit_device_poll_cycles_total', { device: 'ups-1' })).toBe(120);
    expect(value(m, 'allbit_device_poll_cycles_total', { device: 'crah-2' })).toBe(40);
    expect(value(m, 'allbit_device_poll_overruns_total', { device: 'ups-1' })).toBe(2);
    expect(value(m, 'allbit_device_poll_interval_seconds', { device: 'crah-2' })).toBe(2);
    expect(value(m, 'allbit_device_last_cycle_duration_seconds', { device: 'ups-1' })).toBe(0.035);
    expect(value(m, 'allbit_device_last_good_cycle_age_seconds', { device: 'ups-1' })).toBe(1.5);
    expect(family(m, 'allbit_device_last_good_cycle_age_seconds')!.metrics).toHaveLength(1); // crah-2 never answered
    expect(value(m, 'allbit_device_connect_failures', { device: 'crah-2' })).toBe(4);
    expect(value(m, 'allbit_device_reconnect_backoff_seconds', { device: 'crah-2' })).toBe(8);
    expect(value(m, 'allbit_device_reconnect_backoff_seconds', { device: 'ups-1' })).toBe(0);
    expect(value(m, 'allbit_device_requests_per_cycle', { device: 'crah-2' })).toBe(2);
    expect(value(m, 'allbit_device_requests_total', { device: 'ups-1' })).toBe(500);
    expect(value(m, 'allbit_device_requests_total', { device: 'crah-2' })).toBe(60);
    const crahErrors = family(m, 'allbit_device_request_errors_total')!.metrics.filter((s) => s.labels?.device === 'crah-2');
    expect(Object.fromEntries(crahErrors.map((s) => [s.labels!.kind, Number(s.value)]))).toEqual({
      timeout: 7,
      exception: 0,
      comm: 3,
      decode: 0,
      frame: 0,
      status: 0,
      config: 0,
    });
    expect(value(m, 'allbit_device_request_errors_total', { device: 'ups-1', kind: 'timeout' })).toBe(0);
    expect(value(m, 'allbit_device_last_request_latency_seconds', { device: 'ups-1' })).toBe(0.012);
    expect(family(m, 'allbit_device_last_request_latency_seconds')!.metrics.map((s) => s.labels!.device)).toEqual(['ups-1']);

    // Tags by quality now: load_pct went stale (10 s > 3 × 1 s + 2 × 0.5 s), temp_c is out of range.
    expect(value(m, 'allbit_device_tags', { device: 'ups-1' })).toBe(3);
    expect(value(m, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'good' })).toBe(1);
    expect(value(m, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'uncertain' })).toBe(2);
    expect(value(m, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'bad' })).toBe(0);
    expect(value(m, 'allbit_device_tags_by_quality', { device: 'crah-2', quality: 'bad' })).toBe(2);

    // The bus.
    expect(sample(m, 'allbit_bus_info').labels).toEqual({ bus: 'rs485-1', transport: 'serial', description: '/dev/ttyUSB0 9600 8E1' });
    expect(value(m, 'allbit_bus_open', { bus: 'rs485-1' })).toBe(1);
    expect(value(m, 'allbit_bus_devices', { bus: 'rs485-1' })).toBe(1);
    expect(value(m, 'allbit_bus_requests_total', { bus: 'rs485-1' })).toBe(90);
    expect(value(m, 'allbit_bus_answered_total', { bus: 'rs485-1' })).toBe(70);
    expect(value(m, 'allbit_bus_errors_total', { bus: 'rs485-1', kind: 'timeout' })).toBe(12);
    expect(value(m, 'allbit_bus_errors_total', { bus: 'rs485-1', kind: 'crc' })).toBe(5);
    expect(value(m, 'allbit_bus_errors_total', { bus: 'rs485-1', kind: 'short_frame' })).toBe(1);
    expect(value(m, 'allbit_bus_errors_total', { bus: 'rs485-1', kind: 'late_reply' })).toBe(2);
    expect(family(m, 'allbit_bus_errors_total')!.metrics).toHaveLength(9);
    expect(value(m, 'allbit_bus_last_latency_seconds', { bus: 'rs485-1' })).toBe(0.045);
    expect(value(m, 'allbit_bus_mean_latency_seconds', { bus: 'rs485-1' })).toBe(0.0385);
    expect(value(m, 'allbit_bus_utilization_ratio', { bus: 'rs485-1' })).toBe(0.25);
    expect(value(m, 'allbit_bus_reopen_backoff_seconds', { bus: 'rs485-1' })).toBe(0);

    // Buffer, forwarder, broker.
    expect(value(m, 'allbit_buffer_readings')).toBe(900);
    expect(value(m, 'allbit_buffer_records')).toBe(30);
    expect(value(m, 'allbit_buffer_bytes')).toBe(65_536);
    expect(value(m, 'allbit_buffer_max_bytes')).toBe(1_048_576);
    expect(value(m, 'allbit_buffer_oldest_age_seconds')).toBe(90);
    expect(value(m, 'allbit_buffer_appended_records_total')).toBe(1000);
    expect(value(m, 'allbit_buffer_acked_records_total')).toBe(950);
    expect(value(m, 'allbit_buffer_dropped_records_total')).toBe(20);
    expect(value(m, 'allbit_buffer_dropped_readings_total')).toBe(600);
    expect(value(m, 'allbit_forwarder_acked_records_total')).toBe(930);
    expect(value(m, 'allbit_forwarder_failures_total')).toBe(5);
    expect(value(m, 'allbit_forwarder_in_flight_messages')).toBe(0);
    expect(value(m, 'allbit_forwarder_backlog_records')).toBe(30);
    expect(value(m, 'allbit_forwarder_lane', { lane: 'disconnected' })).toBe(1);
    expect(family(m, 'allbit_forwarder_lane')!.metrics.filter((s) => s.value === '1')).toHaveLength(1);
    expect(value(m, 'allbit_broker_connected')).toBe(0);
    expect(Object.fromEntries(family(m, 'allbit_broker_state')!.metrics.map((s) => [s.labels!.state, Number(s.value)]))).toEqual({
      connecting: 0,
      connected: 0,
      disconnected: 1,
      closed: 0,
    });
    expect(value(m, 'allbit_broker_state_duration_seconds')).toBe(60);
    expect(value(m, 'allbit_broker_acked_messages_total')).toBe(940);
  });

  it('gives the same figures from the tag-free overview as from the full snapshot, plus alarm counts', async () => {
    const { state } = plant();
    const alarm = (priority: AlarmPriority, s: AlarmState, shelvedUntilMs: number | null = null): ActiveAlarmSummary => ({
      alarm: `a-${priority}-${s}`,
      device: 'ups-1',
      tag: 'temp_c',
      priority,
      state: s,
      message: 'too hot',
      value: 140,
      unit: '°C',
      sinceMs: STARTED_MS,
      shelvedUntilMs,
      shelvedBy: shelvedUntilMs === null ? null : 'op',
      outOfService: false,
    });
    state.setAlarms([alarm('critical', 'active-unack'), alarm('high', 'active-ack', STARTED_MS + 3_600_000), alarm('high', 'returned-unack')]);
    const ours = (families: ParsedFamily[]) => families.filter((f) => f.name.startsWith('allbit_') && !f.name.startsWith('allbit_alarms_'));

    const fromSnapshot = parsePrometheus(await createMetrics(() => state.snapshot()).render());
    const fromOverview = parsePrometheus(await createMetrics(() => state.overview()).render());
    expect(ours(fromOverview)).toEqual(ours(fromSnapshot));
    expect(value(fromOverview, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'uncertain' })).toBe(2);

    expect(Object.fromEntries(family(fromOverview, 'allbit_alarms_active')!.metrics.map((s) => [s.labels!.priority, Number(s.value)]))).toEqual({
      critical: 1,
      high: 2,
      medium: 0,
      low: 0,
    });
    expect(value(fromOverview, 'allbit_alarms_unacknowledged')).toBe(2);
    expect(value(fromOverview, 'allbit_alarms_shelved')).toBe(1);
    // The full snapshot carries no alarms: the families are announced, with no samples.
    expect(family(fromSnapshot, 'allbit_alarms_active')?.metrics).toEqual([]);
    expect(family(fromSnapshot, 'allbit_alarms_unacknowledged')?.metrics).toEqual([]);
  });

  it('types totals as counters and everything else as gauges, in base units', async () => {
    const { state } = plant();
    const m = parsePrometheus(await createMetrics(() => state.snapshot()).render());
    const ours = m.filter((f) => f.name.startsWith('allbit_'));
    expect(ours.length).toBeGreaterThan(40);
    for (const f of ours) {
      expect(f.type, f.name).toBe(f.name.endsWith('_total') ? 'COUNTER' : 'GAUGE');
      expect(f.name, 'units are seconds, not ms').not.toMatch(/_ms$|_milliseconds/);
    }
  });

  it('renders a valid exposition: every sample announced by HELP and TYPE, no duplicate series', async () => {
    const { state } = plant();
    const metrics = createMetrics(() => state.snapshot());
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.render();
    expectValidExposition(text);
    // Process metrics from prom-client's default collectors.
    const m = parsePrometheus(text);
    expect(value(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(family(m, 'nodejs_eventloop_lag_seconds')?.type).toBe('GAUGE');
    expect(family(m, 'nodejs_eventloop_lag_p99_seconds')?.type).toBe('GAUGE');
    expect(family(m, 'nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
    expect(family(m, 'nodejs_gc_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('the exposition check itself rejects duplicate series, missing HELP or TYPE and split families', () => {
    const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 1\na_total{x="2"} 2\n';
    expect(() => expectValidExposition(ok)).not.toThrow();
    expect(() => expectValidExposition(`${ok}a_total{x="1"} 3\n`)).toThrow(/duplicate series/);
    expect(() => expectValidExposition('# TYPE b gauge\nb 1\n')).toThrow(/# HELP for b/);
    expect(() => expectValidExposition('# HELP b B.\nb 1\n')).toThrow(/# TYPE before b 1/);
    expect(() => expectValidExposition(`${ok}# HELP c C.\n# TYPE c gauge\nc 1\na_total{x="3"} 1\n`)).toThrow(/split in two blocks/);
    expect(() => expectValidExposition('# HELP d D.\n# TYPE d gauge\nd one\n')).toThrow();
  });

  it('leaves out what is not known yet instead of reporting zero', async () => {
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: 0 }, () => 5000);
    state.addDevice(ups, 1);
    const text = await createMetrics(() => state.snapshot()).render();
    expectValidExposition(text);
    const m = parsePrometheus(text);
    for (const name of ['allbit_broker_connected', 'allbit_broker_state', 'allbit_buffer_bytes', 'allbit_buffer_oldest_age_seconds', 'allbit_forwarder_lane', 'allbit_ingest_failed_appends_total']) {
      expect(family(m, name)?.metrics, name).toEqual([]);
    }
    expect(family(m, 'allbit_device_last_request_latency_seconds')?.metrics).toEqual([]);
    // A device not polled yet: its counters exist at zero, so rate() works from the first error.
    expect(value(m, 'allbit_device_requests_total', { device: 'ups-1' })).toBe(0);
    expect(value(m, 'allbit_device_request_errors_total', { device: 'ups-1', kind: 'comm' })).toBe(0);
    expect(value(m, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'bad' })).toBe(3);
    expect(value(m, 'allbit_ready')).toBe(0);
  });

  it('reports the absolute totals of each snapshot: repeated scrapes do not add up', async () => {
    const { state, advance } = plant();
    let snapshots = 0;
    const metrics = createMetrics(() => {
      snapshots += 1;
      return state.snapshot();
    });
    await metrics.render();
    expect(snapshots).toBe(1);
    const again = parsePrometheus(await metrics.render());
    expect(snapshots).toBe(2);
    expect(value(again, 'allbit_device_poll_cycles_total', { device: 'ups-1' })).toBe(120);
    expect(value(again, 'allbit_device_request_errors_total', { device: 'crah-2', kind: 'timeout' })).toBe(7);
    expect(value(again, 'allbit_readings_in_total')).toBe(3);

    advance(1000);
    state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 43, unit: '%', quality: 'good', timestampMs: 0 }], 0);
    state.setBroker({ state: 'connected', sinceMs: STARTED_MS + 21_000, lastError: null, acked: 941 });
    const later = parsePrometheus(await metrics.render());
    expect(value(later, 'allbit_readings_in_total')).toBe(4);
    expect(value(later, 'allbit_readings_reported_total')).toBe(3);
    expect(value(later, 'allbit_device_tags_by_quality', { device: 'ups-1', quality: 'good' })).toBe(2);
    expect(value(later, 'allbit_broker_connected')).toBe(1);
    expect(value(later, 'allbit_broker_state', { state: 'connected' })).toBe(1);
    expect(value(later, 'allbit_broker_state', { state: 'disconnected' })).toBe(0);
    expect(value(later, 'allbit_broker_state_duration_seconds')).toBe(0);
  });

  it('takes each of two overlapping scrapes from its own snapshot', async () => {
    const { state } = plant();
    let readings = 0;
    const metrics = createMetrics(() => {
      readings += 1;
      state.recordReadings('crah-2', [], readings);
      return state.snapshot();
    });
    const [first, second] = await Promise.all([metrics.render(), metrics.render()]);
    expect(value(parsePrometheus(first), 'allbit_readings_reported_total')).toBe(4);
    expect(value(parsePrometheus(second), 'allbit_readings_reported_total')).toBe(6);
  });

  it('keeps agents apart: each has its own registry, and the prefix is configurable', async () => {
    const a = plant().state;
    const b = new LiveState({ id: 'other', name: 'other', version: '2', startedMs: 0 }, () => 0);
    const first = createMetrics(() => a.snapshot());
    const second = createMetrics(() => b.snapshot(), { prefix: 'edge_' });
    const [m1, m2] = [parsePrometheus(await first.render()), parsePrometheus(await second.render())];
    expect(sample(m1, 'allbit_info').labels?.gateway).toBe('gw-7');
    expect(family(m1, 'edge_info')).toBeUndefined();
    expect(sample(m2, 'edge_info').labels?.gateway).toBe('other');
    expect(family(m2, 'allbit_info')).toBeUndefined();
    expect(family(m2, 'edge_device_connected')?.metrics).toEqual([]);
    expect(family(m2, 'process_resident_memory_bytes')).toBeDefined();
  });
});
