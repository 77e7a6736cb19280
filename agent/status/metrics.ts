import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AlarmPriority } from '../core/alarm.js';
import type { BusErrorCounts } from '../core/bus.js';
import { zeroErrorCounts, type DriverErrorKind } from '../core/driver.js';
import type { BrokerConnectionState } from '../core/publisher.js';
import type { Quality } from '../core/quality.js';
import type { DeviceView, GatewayView } from '../state/live-state.js';

export interface MetricsOptions {
  /** Prefix of the gateway's own metrics (default `allbit_`). Process metrics keep their standard names. */
  prefix?: string;
}

/**
 * What the metrics read. `LiveState.snapshot()` (GatewayView, every tag) fits; so does a tag-free
 * view whose devices carry `tagCount` and per-quality counts instead of `tags` (and may carry
 * alarm counts) — far cheaper to produce at 10k tags than a deep copy of every tag.
 */
export interface MetricsView
  extends Pick<
    GatewayView,
    'id' | 'name' | 'version' | 'startedMs' | 'nowMs' | 'ready' | 'readingsIn' | 'readingsReported' | 'broker' | 'buffer' | 'forwarder' | 'ingest' | 'buses'
  > {
  devices: readonly MetricsDevice[];
  /** Active alarms; absent or null when the view has none (no alarm engine). */
  alarms?: { total: number; unacknowledged: number; shelved: number; byPriority: Record<AlarmPriority, number> } | null;
}

export type MetricsDevice = Pick<
  DeviceView,
  'id' | 'name' | 'profile' | 'protocol' | 'address' | 'pollIntervalMs' | 'requestsPerCycle' | 'health' | 'driver'
> &
  (
    | { tags: readonly { quality: Quality }[] }
    /** Tags by quality as shown (a stale value counted as uncertain). */
    | { tagCount: number; quality: Record<Quality, number> }
  );

export interface Metrics {
  /** The Content-Type header for `render()`'s text (Prometheus text format 0.0.4). */
  contentType: string;
  /** One scrape: takes one snapshot and renders every metric from it. */
  render(): Promise<string>;
}

/**
 * `/metrics` in the Prometheus text format.
 *
 * Every gateway figure is computed at scrape time from ONE `snapshot()` per render (prom-client
 * `collect` callbacks); nothing runs on the pipeline's hot path and there are no timers here.
 * From a view with tags, each render walks every tag once (to count tags by quality). Process
 * metrics come from prom-client's default collectors: RSS, heap, event-loop lag and its
 * percentiles, GC.
 *
 * Each call has its own Registry (never prom-client's global one), so two agents in one process
 * do not collide.
 *
 * Counters: the snapshot holds absolute totals kept by the pipeline (cycles, requests, errors,
 * readings). They are exposed as Prometheus counters (`_total`, so `rate()` and `increase()`
 * work and a restart reads as a counter reset) by resetting the prom-client Counter and
 * incrementing it by the absolute value inside `collect()` — prom-client's Counter only offers
 * `inc`, and a Gauge would mislabel the semantics for Prometheus and for dashboards.
 */
export function createMetrics(snapshot: () => MetricsView, options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? 'allbit_';
  const register = new Registry();
  collectDefaultMetrics({ register });

  // The snapshot of the render in progress. prom-client's `metrics()` calls every `collect`
  // synchronously before it first awaits (ours are synchronous), so all of one render's metrics
  // come from the same snapshot and a concurrent render cannot interleave. Cleared at once
  // afterwards: should a prom-client upgrade defer collection, the gateway metrics would vanish
  // (and the tests fail) rather than mix two scrapes.
  let current: Frame | null = null;
  for (const spec of SPECS) define(register, prefix + spec.name, spec, () => current);

  return {
    contentType: register.contentType,
    render(): Promise<string> {
      current = { view: snapshot() };
      try {
        return register.metrics();
      } finally {
        current = null;
      }
    },
  };
}

/** What one render's collect callbacks read. */
interface Frame {
  view: MetricsView;
}

type Emit = (labels: Record<string, string>, value: number) => void;

interface MetricSpec {
  /** Without the prefix. */
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  labels: readonly string[];
  fill(view: MetricsView, emit: Emit): void;
}

function define(register: Registry, name: string, spec: MetricSpec, frame: () => Frame | null): void {
  const labelNames = [...spec.labels];
  // A metric with no labels and nothing to say (no broker state yet) is left out, not shown as 0.
  const fill = (metric: Counter | Gauge, emit: Emit): void => {
    metric.reset();
    const current = frame();
    let emitted = false;
    if (current)
      spec.fill(current.view, (labels, value) => {
        emitted = true;
        emit(labels, value);
      });
    if (!emitted && labelNames.length === 0) metric.remove({});
  };
  if (spec.type === 'counter') {
    new Counter({
      name,
      help: spec.help,
      labelNames,
      registers: [register],
      collect(this: Counter) {
        // A counter cannot go down; a negative total would be a bug upstream, shown as 0 here.
        fill(this, (labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
  } else {
    new Gauge({
      name,
      help: spec.help,
      labelNames,
      registers: [register],
      collect(this: Gauge) {
        fill(this, (labels, value) => this.set(labels, value));
      },
    });
  }
}

const DRIVER_ERROR_KINDS = Object.keys(zeroErrorCounts()) as DriverErrorKind[];

/** Bus error fields → the `kind` label (snake_case); typed so a new field cannot be forgotten. */
const BUS_ERROR_KINDS: Record<keyof BusErrorCounts, string> = {
  timeout: 'timeout',
  crc: 'crc',
  shortFrame: 'short_frame',
  wrongUnit: 'wrong_unit',
  wrongFunction: 'wrong_function',
  byteCount: 'byte_count',
  lateReply: 'late_reply',
  exception: 'exception',
  comm: 'comm',
};

const QUALITIES: Record<Quality, true> = { good: true, uncertain: true, bad: true };
const BROKER_STATES: Record<BrokerConnectionState, true> = { connecting: true, connected: true, disconnected: true, closed: true };
/** The forwarder's lanes (agent/mqtt/forwarder.ts ForwarderLane; LiveState carries it as a string). */
const FORWARDER_LANES = ['idle', 'live', 'backlog', 'disconnected', 'stopped'] as const;

/** The one walk over a device's tags in a render. */
function countByQuality(tags: readonly { quality: Quality }[]): Record<Quality, number> {
  const counts: Record<Quality, number> = { good: 0, uncertain: 0, bad: 0 };
  for (const t of tags) counts[t.quality] += 1;
  return counts;
}

const seconds = (ms: number): number => ms / 1000;
const flag = (on: boolean): number => (on ? 1 : 0);
const deviceLabels = (d: MetricsDevice): Record<string, string> => ({ device: d.id, protocol: d.protocol });

const DEVICE = ['device', 'protocol'] as const;

function perDevice(name: string, type: MetricSpec['type'], help: string, value: (d: MetricsDevice, nowMs: number) => number | null): MetricSpec {
  return {
    name,
    type,
    help,
    labels: DEVICE,
    fill(view, emit) {
      for (const d of view.devices) {
        const v = value(d, view.nowMs);
        if (v !== null) emit(deviceLabels(d), v);
      }
    },
  };
}

function single(name: string, type: MetricSpec['type'], help: string, value: (view: MetricsView) => number | null): MetricSpec {
  return {
    name,
    type,
    help,
    labels: [],
    fill(view, emit) {
      const v = value(view);
      if (v !== null) emit({}, v);
    },
  };
}

function perBus(name: string, type: MetricSpec['type'], help: string, value: (b: MetricsView['buses'][number]) => number | null): MetricSpec {
  return {
    name,
    type,
    help,
    labels: ['bus'],
    fill(view, emit) {
      for (const b of view.buses) {
        const v = value(b);
        if (v !== null) emit({ bus: b.id }, v);
      }
    },
  };
}

const SPECS: MetricSpec[] = [
  // ── The gateway ───────────────────────────────────────────────────────────────────────────
  {
    name: 'info',
    type: 'gauge',
    help: 'Always 1; the labels name this gateway and its software version.',
    labels: ['gateway', 'name', 'version'],
    fill: (v, emit) => emit({ gateway: v.id, name: v.name, version: v.version }, 1),
  },
  single('start_time_seconds', 'gauge', 'When the gateway agent started, seconds since 1970-01-01 UTC.', (v) => seconds(v.startedMs)),
  single('uptime_seconds', 'gauge', 'Seconds since the gateway agent started.', (v) => seconds(v.nowMs - v.startedMs)),
  single('ready', 'gauge', '1 when the agent is fully started and polling; 0 while starting or stopping.', (v) => flag(v.ready)),
  single('readings_in_total', 'counter', 'Readings taken from devices (every tag of every poll cycle, reported or not) since start.', (v) => v.readingsIn),
  single(
    'readings_reported_total',
    'counter',
    'Readings written to the buffer for sending since start (changed beyond the deadband, quality changed, or heartbeat).',
    (v) => v.readingsReported,
  ),
  single(
    'ingest_failed_appends_total',
    'counter',
    'Poll cycles that could not be written to the buffer since start (disk full, read-only file): those readings are lost.',
    (v) => v.ingest?.failedAppends ?? null,
  ),
  single('ingest_failing', 'gauge', '1 when the last write to the buffer failed.', (v) => (v.ingest ? flag(v.ingest.failing) : null)),

  // ── The buffer (SQLite outbox) ────────────────────────────────────────────────────────────
  single('buffer_readings', 'gauge', 'Readings waiting in the buffer to be sent to the broker.', (v) => v.buffer?.readings ?? null),
  single('buffer_records', 'gauge', 'Messages waiting in the buffer (one per device and poll cycle, or a batch of alarm events).', (v) => v.buffer?.records ?? null),
  single('buffer_bytes', 'gauge', 'Bytes of message bodies waiting in the buffer.', (v) => v.buffer?.bytes ?? null),
  single('buffer_max_bytes', 'gauge', 'Buffer size limit in bytes; beyond it the oldest messages are dropped.', (v) => v.buffer?.maxBytes ?? null),
  single(
    'buffer_oldest_age_seconds',
    'gauge',
    'Age of the oldest message not yet sent, in seconds; 0 when the buffer is empty. Growing means data is not reaching the broker.',
    (v) => (v.buffer ? (v.buffer.oldestCreatedMs === null ? 0 : Math.max(0, seconds(v.nowMs - v.buffer.oldestCreatedMs))) : null),
  ),
  single('buffer_appended_records_total', 'counter', 'Messages written to the buffer since the buffer file was created.', (v) => v.buffer?.appendedRecords ?? null),
  single(
    'buffer_acked_records_total',
    'counter',
    'Messages the broker acknowledged and the buffer deleted, since the buffer file was created.',
    (v) => v.buffer?.ackedRecords ?? null,
  ),
  single(
    'buffer_dropped_records_total',
    'counter',
    'Messages dropped unsent because the buffer was full or the disk was full (oldest first), since the buffer file was created.',
    (v) => v.buffer?.droppedRecords ?? null,
  ),
  single(
    'buffer_dropped_readings_total',
    'counter',
    'Readings dropped unsent because the buffer was full or the disk was full (oldest first), since the buffer file was created.',
    (v) => v.buffer?.droppedReadings ?? null,
  ),

  // ── Forwarding to the broker ──────────────────────────────────────────────────────────────
  single(
    'forwarder_acked_records_total',
    'counter',
    'Buffered messages published and acknowledged by the broker since start.',
    (v) => v.forwarder?.published ?? null,
  ),
  single(
    'forwarder_failures_total',
    'counter',
    'Forwarding attempts that failed and will be retried (publish, buffer read or delete) since start.',
    (v) => v.forwarder?.failures ?? null,
  ),
  single('forwarder_in_flight_messages', 'gauge', 'Messages sent and waiting for the broker to acknowledge them.', (v) => v.forwarder?.inFlight ?? null),
  single(
    'forwarder_backlog_records',
    'gauge',
    'Messages that were waiting when the broker connection came up and are still being caught up (at most).',
    (v) => v.forwarder?.backlog ?? null,
  ),
  {
    name: 'forwarder_lane',
    type: 'gauge',
    help: 'What the forwarder is doing: 1 for the current lane (idle, live, backlog, disconnected, stopped), 0 for the others.',
    labels: ['lane'],
    fill(v, emit) {
      if (!v.forwarder) return;
      const lane = v.forwarder.lane;
      for (const l of FORWARDER_LANES) emit({ lane: l }, flag(l === lane));
      // A lane this list does not know yet is still shown.
      if (!(FORWARDER_LANES as readonly string[]).includes(lane)) emit({ lane }, 1);
    },
  },

  // ── The broker connection ─────────────────────────────────────────────────────────────────
  single('broker_connected', 'gauge', '1 when connected to the MQTT broker, 0 otherwise.', (v) => (v.broker ? flag(v.broker.state === 'connected') : null)),
  {
    name: 'broker_state',
    type: 'gauge',
    help: 'MQTT broker connection state: 1 for the current state (connecting, connected, disconnected, closed), 0 for the others.',
    labels: ['state'],
    fill(v, emit) {
      if (!v.broker) return;
      for (const s of Object.keys(BROKER_STATES) as BrokerConnectionState[]) emit({ state: s }, flag(s === v.broker.state));
    },
  },
  single(
    'broker_state_duration_seconds',
    'gauge',
    'Seconds since the broker connection entered its current state.',
    (v) => (v.broker ? Math.max(0, seconds(v.nowMs - v.broker.sinceMs)) : null),
  ),
  single(
    'broker_acked_messages_total',
    'counter',
    'Messages the broker acknowledged since start (data, alarms, status and reports).',
    (v) => v.broker?.acked ?? null,
  ),

  // ── Devices ───────────────────────────────────────────────────────────────────────────────
  {
    name: 'device_info',
    type: 'gauge',
    help: 'Always 1; the labels give each device\'s name, address and profile.',
    labels: ['device', 'protocol', 'name', 'address', 'profile'],
    fill(v, emit) {
      for (const d of v.devices) emit({ ...deviceLabels(d), name: d.name, address: d.address, profile: d.profile ?? '' }, 1);
    },
  },
  perDevice('device_connected', 'gauge', '1 when the device answers (connected), 0 when it cannot be reached.', (d) => flag(d.health.connected)),
  perDevice('device_poll_cycles_total', 'counter', 'Poll cycles run for the device since start, failed ones included.', (d) => d.health.cycles),
  perDevice(
    'device_poll_overruns_total',
    'counter',
    'Poll slots skipped because the previous cycle ran longer than the poll interval, since start.',
    (d) => d.health.overruns,
  ),
  perDevice('device_poll_interval_seconds', 'gauge', 'Configured poll interval of the device, in seconds.', (d) => seconds(d.pollIntervalMs)),
  perDevice(
    'device_last_cycle_duration_seconds',
    'gauge',
    'How long the device\'s last poll cycle took, in seconds.',
    (d) => (d.health.lastCycleDurationMs === null ? null : seconds(d.health.lastCycleDurationMs)),
  ),
  perDevice(
    'device_last_good_cycle_age_seconds',
    'gauge',
    'Seconds since the last poll cycle that reached the device (absent if it never answered since start).',
    (d, nowMs) => (d.health.lastGoodCycleMs === null ? null : Math.max(0, seconds(nowMs - d.health.lastGoodCycleMs))),
  ),
  perDevice('device_connect_failures', 'gauge', 'Connection attempts that failed in a row; 0 when connected.', (d) => d.health.connectFailures),
  perDevice(
    'device_reconnect_backoff_seconds',
    'gauge',
    'Current wait before the next connection attempt, in seconds; 0 when connected.',
    (d) => seconds(d.health.backoffMs),
  ),
  perDevice('device_requests_per_cycle', 'gauge', 'Protocol requests one poll cycle of the device sends.', (d) => d.requestsPerCycle),
  perDevice('device_requests_total', 'counter', 'Protocol requests sent to the device since start.', (d) => d.driver?.requests ?? 0),
  {
    name: 'device_request_errors_total',
    type: 'counter',
    help:
      'Failed requests to the device since start, by kind: timeout (no answer), exception (device refused), comm (connection lost), ' +
      'decode (bad data), frame (damaged serial reply), status (device marked the value bad), config (unknown address, access denied).',
    labels: [...DEVICE, 'kind'],
    fill(v, emit) {
      for (const d of v.devices) {
        const labels = deviceLabels(d);
        for (const kind of DRIVER_ERROR_KINDS) emit({ ...labels, kind }, d.driver?.errors[kind] ?? 0);
      }
    },
  },
  perDevice(
    'device_last_request_latency_seconds',
    'gauge',
    'Response time of the last successful request to the device, in seconds.',
    (d) => (d.driver?.lastLatencyMs == null ? null : seconds(d.driver.lastLatencyMs)),
  ),
  perDevice('device_tags', 'gauge', 'Tags configured on the device.', (d) => ('tags' in d ? d.tags.length : d.tagCount)),
  {
    name: 'device_tags_by_quality',
    type: 'gauge',
    help: 'Tags of the device by the quality of their latest value now: good, uncertain (includes stale values) or bad (no trustworthy value).',
    labels: [...DEVICE, 'quality'],
    fill(v, emit) {
      for (const d of v.devices) {
        const counts = 'tags' in d ? countByQuality(d.tags) : d.quality;
        const labels = deviceLabels(d);
        for (const quality of Object.keys(QUALITIES) as Quality[]) emit({ ...labels, quality }, counts[quality]);
      }
    },
  },

  // ── Alarms ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'alarms_active',
    type: 'gauge',
    help:
      'Alarms in the active list now (condition present, or cleared but not yet acknowledged; shelved and out-of-service ones included), ' +
      'by priority: critical, high, medium, low.',
    labels: ['priority'],
    fill(v, emit) {
      if (!v.alarms) return;
      for (const [priority, count] of Object.entries(v.alarms.byPriority)) emit({ priority }, count);
    },
  },
  single('alarms_unacknowledged', 'gauge', 'Alarms waiting for an operator to acknowledge them.', (v) => v.alarms?.unacknowledged ?? null),
  single('alarms_shelved', 'gauge', 'Alarms shelved (temporarily silenced by an operator).', (v) => v.alarms?.shelved ?? null),

  // ── Shared serial lines (Modbus RTU buses) ────────────────────────────────────────────────
  {
    name: 'bus_info',
    type: 'gauge',
    help: 'Always 1; the labels describe each shared serial line (Modbus RTU bus): transport and port or converter.',
    labels: ['bus', 'transport', 'description'],
    fill(v, emit) {
      for (const b of v.buses) emit({ bus: b.id, transport: b.transport, description: b.description }, 1);
    },
  },
  perBus('bus_open', 'gauge', '1 when the serial line (or converter connection) is open, 0 otherwise.', (b) => flag(b.open)),
  perBus('bus_devices', 'gauge', 'Devices polled over the line.', (b) => b.devices.length),
  perBus('bus_requests_total', 'counter', 'Requests sent on the line since start.', (b) => b.requests),
  perBus('bus_answered_total', 'counter', 'Requests on the line that got an answer (data or a Modbus exception) since start.', (b) => b.answered),
  {
    name: 'bus_errors_total',
    type: 'counter',
    help:
      'Errors on the line since start, by kind: timeout (no reply), crc, short_frame, wrong_unit, wrong_function, byte_count ' +
      '(damaged or foreign replies), late_reply (reply after its timeout), exception (device refused), comm (port or converter failed).',
    labels: ['bus', 'kind'],
    fill(v, emit) {
      for (const b of v.buses) {
        for (const [field, kind] of Object.entries(BUS_ERROR_KINDS) as [keyof BusErrorCounts, string][]) emit({ bus: b.id, kind }, b.errors[field]);
      }
    },
  },
  perBus('bus_last_latency_seconds', 'gauge', 'Response time of the last answered request on the line, in seconds.', (b) =>
    b.lastLatencyMs === null ? null : seconds(b.lastLatencyMs),
  ),
  perBus('bus_mean_latency_seconds', 'gauge', 'Average response time on the line (exponentially weighted), in seconds.', (b) =>
    b.meanLatencyMs === null ? null : seconds(b.meanLatencyMs),
  ),
  perBus('bus_utilization_ratio', 'gauge', 'Share of time the line was busy with requests since it opened (0 to 1).', (b) => b.utilization),
  perBus('bus_open_failures', 'gauge', 'Attempts to open the line that failed in a row; 0 when open.', (b) => b.openFailures),
  perBus('bus_reopen_backoff_seconds', 'gauge', 'Current wait before the next attempt to open the line, in seconds; 0 when open.', (b) => seconds(b.backoffMs)),
];
