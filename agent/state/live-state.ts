import type { ActiveAlarmSummary, AlarmPriority } from '../core/alarm.js';
import type { BusHealth } from '../core/bus.js';
import { describeConnection, idlePollHealth, type DevicePollHealth, type DeviceSpec } from '../core/device.js';
import type { DriverStats } from '../core/driver.js';
import type { OutboxStats } from '../core/outbox.js';
import type { PublisherState } from '../core/publisher.js';
import type { Reading } from '../core/reading.js';
import { HISTORY_STEP_MS, MinuteHistory } from './minute-history.js';

export type DeviceHealth = DevicePollHealth;

export interface TagView extends Reading {
  description: string;
  /**
   * When the gateway last received this tag's value (ms since epoch). Staleness is judged on it,
   * not on the source timestamp: an OPC UA value that has not changed keeps its old source
   * timestamp while the subscription confirms it every cycle.
   */
  receivedMs: number;
}

export interface DeviceView {
  id: string;
  name: string;
  profile: string | null;
  protocol: string;
  address: string;
  pollIntervalMs: number;
  requestsPerCycle: number;
  health: DeviceHealth;
  driver: DriverStats | null;
  tags: TagView[];
}

export interface ForwarderView {
  published: number;
  failures: number;
  inFlight: number;
  backlog: number;
  /** What the forwarder is doing: idle, live, backlog, disconnected or stopped. */
  lane: string;
  lastError: string | null;
}

export interface IngestView {
  /** Poll cycles that could not be written to the outbox since start (disk full, read-only file). */
  failedAppends: number;
  lastError: string | null;
  /** Whether the last attempt failed. */
  failing: boolean;
}

export interface GatewayView {
  id: string;
  name: string;
  version: string;
  startedMs: number;
  nowMs: number;
  ready: boolean;
  readingsIn: number;
  readingsReported: number;
  broker: PublisherState | null;
  buffer: OutboxStats | null;
  forwarder: ForwarderView | null;
  ingest: IngestView | null;
  /** Shared RTU lines (serial ports, RTU-over-TCP converters). */
  buses: BusHealth[];
  devices: DeviceView[];
}

/** Readings per second over the last `windowMs` (up to 10 s), from the counters' growth. */
export interface RatesView {
  windowMs: number;
  /** Readings out of the poll loops (every reading, reported or not). */
  inPerSec: number;
  /** Readings committed to the outbox (report-by-exception passed). */
  reportedPerSec: number;
  /** Readings that left the outbox acknowledged by the broker: reported − growth of the waiting readings − dropped. */
  forwardedPerSec: number;
  /** Outbox records (messages) acknowledged by the broker. */
  messagesPerSec: number;
}

/** A device without its tags: what the overview lists. */
export interface DeviceSummary extends Omit<DeviceView, 'tags'> {
  tagCount: number;
  /**
   * Tags by quality as shown (a stale value counts as uncertain). `notApplicable`: the part of
   * `bad` that is a calculated value with no meaning now (an idle machine's efficiency) — not a fault.
   */
  quality: { good: number; uncertain: number; bad: number; notApplicable: number };
}

export interface AlarmCounts {
  total: number;
  unacknowledged: number;
  shelved: number;
  byPriority: Record<AlarmPriority, number>;
}

/** The page's top: small, whatever the number of tags. */
export interface OverviewView {
  id: string;
  name: string;
  version: string;
  startedMs: number;
  nowMs: number;
  uptimeMs: number;
  ready: boolean;
  readingsIn: number;
  readingsReported: number;
  rates: RatesView;
  broker: PublisherState | null;
  buffer: (OutboxStats & { oldestAgeMs: number | null }) | null;
  forwarder: ForwarderView | null;
  ingest: IngestView | null;
  /** True when readings are kept in the outbox instead of being forwarded (no broker connection). */
  buffering: boolean;
  buses: BusHealth[];
  devices: DeviceSummary[];
  /** null when no alarm rule is configured (no alarm engine). */
  alarms: AlarmCounts | null;
}

export interface AlarmsView {
  /** False when no alarm rule is configured: there is nothing to acknowledge. */
  enabled: boolean;
  nowMs: number;
  /** Most urgent first, then oldest first (the engine's order). */
  alarms: ActiveAlarmSummary[];
  /** Grows whenever the list changes (so a stream sends it only then). */
  version: number;
}

export interface DeviceHistoryView {
  device: string;
  stepMs: number;
  /** Start of each minute, ms since epoch, oldest first; the last is the minute in progress. */
  minutesMs: number[];
  /** One entry per numeric tag: the mean of each minute's usable values, null where there were none. */
  tags: { tag: string; unit: string; values: (number | null)[] }[];
}

/** What changes of a device, for the live stream: `values[i]` belongs to `tags[i]` of the device view. */
export interface DeviceValuesView {
  id: string;
  nowMs: number;
  requestsPerCycle: number;
  health: DeviceHealth;
  driver: DriverStats | null;
  /** [value (null when bad), quality as shown, reason or null, receivedMs] */
  values: [Reading['value'], Reading['quality'], string | null, number][];
}

const RATE_WINDOW_MS = 10_000;

interface CounterSample {
  tMs: number;
  in: number;
  reported: number;
  /** reported − waiting − dropped: grows by the readings forwarded (see RatesView). */
  forwarded: number;
  messages: number;
}

/**
 * The live picture of the gateway: latest value per tag, device health, broker and buffer state.
 * The pipeline writes it; the status page and metrics only read it (one-way flow).
 */
export class LiveState {
  private readonly devices = new Map<string, DeviceView>();
  private readonly tagIndex = new Map<string, Map<string, number>>();
  private readonly timeouts = new Map<string, number>();
  private broker: PublisherState | null = null;
  private buffer: OutboxStats | null = null;
  private forwarder: ForwarderView | null = null;
  private ingest: IngestView | null = null;
  private buses: BusHealth[] = [];
  private readingsIn = 0;
  private readingsReported = 0;
  private ready = false;
  private alarms: ActiveAlarmSummary[] | null = null;
  private alarmsKey = '';
  private alarmsVersion = 0;
  private readonly histories = new Map<string, MinuteHistory>();
  private readonly samples: CounterSample[] = [];

  constructor(
    private readonly gateway: { id: string; name: string; version: string; startedMs: number },
    private readonly now: () => number,
  ) {}

  addDevice(device: DeviceSpec, requestsPerCycle: number): void {
    const c = device.connection;
    this.devices.set(device.id, {
      id: device.id,
      name: device.name,
      profile: device.profile ?? null,
      protocol: c.protocol,
      address: describeConnection(c),
      pollIntervalMs: device.pollIntervalMs,
      requestsPerCycle,
      health: idlePollHealth(),
      driver: null,
      tags: device.tags.map((t) => ({
        device: device.id,
        tag: t.name,
        description: t.description,
        unit: t.unit,
        value: null,
        quality: 'bad',
        reason: 'not-connected',
        timestampMs: this.gateway.startedMs,
        receivedMs: this.gateway.startedMs,
      })),
    });
    this.tagIndex.set(device.id, new Map(device.tags.map((t, i) => [t.name, i])));
    this.timeouts.set(device.id, device.timeoutMs);
    this.histories.set(device.id, new MinuteHistory(device.tags.length));
  }

  recordReadings(deviceId: string, readings: readonly Reading[], reported: number): void {
    const device = this.devices.get(deviceId);
    const index = this.tagIndex.get(deviceId);
    if (!device || !index) return;
    const receivedMs = this.now();
    const history = this.histories.get(deviceId)!;
    history.advance(receivedMs);
    for (const r of readings) {
      const i = index.get(r.tag);
      if (i === undefined) continue;
      if (typeof r.value === 'number' && r.quality !== 'bad') history.add(i, r.value);
      // Updated in place: the per-tag views live for the agent's lifetime (less garbage to promote).
      const view = device.tags[i];
      view.value = r.value;
      view.quality = r.quality;
      view.timestampMs = r.timestampMs;
      view.receivedMs = receivedMs;
      if (r.serverTimestampMs !== undefined) view.serverTimestampMs = r.serverTimestampMs;
      else if (view.serverTimestampMs !== undefined) delete view.serverTimestampMs;
      view.reason = r.reason;
      view.detail = r.detail;
    }
    this.readingsIn += readings.length;
    this.readingsReported += reported;
  }

  setDeviceHealth(deviceId: string, health: DeviceHealth, driver: DriverStats, requestsPerCycle: number): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    device.requestsPerCycle = requestsPerCycle;
    device.health = health;
    device.driver = driver;
  }

  setBroker(state: PublisherState): void {
    this.broker = state;
  }

  /** The runtime calls it once a second; the rates are sampled here too (on the state's own clock). */
  setBuffer(stats: OutboxStats): void {
    this.buffer = stats;
    this.sampleCounters();
  }

  /** The active alarm list (the engine's summaries), after every alarm change and every tick. */
  setAlarms(summaries: readonly ActiveAlarmSummary[]): void {
    const key = JSON.stringify(summaries);
    if (this.alarms !== null && key === this.alarmsKey) return;
    this.alarms = summaries.map((a) => ({ ...a }));
    this.alarmsKey = key;
    this.alarmsVersion++;
  }

  setForwarder(view: ForwarderView): void {
    this.forwarder = view;
  }

  setIngest(view: IngestView): void {
    this.ingest = view;
  }

  setBuses(buses: BusHealth[]): void {
    this.buses = buses;
  }

  setReady(ready: boolean): void {
    this.ready = ready;
  }

  isReady(): boolean {
    return this.ready;
  }

  private sampleCounters(): void {
    const tMs = this.now();
    const last = this.samples.at(-1);
    if (last && tMs - last.tMs < 900 && tMs >= last.tMs) return;
    const b = this.buffer;
    this.samples.push({
      tMs,
      in: this.readingsIn,
      reported: this.readingsReported,
      forwarded: this.readingsReported - (b ? b.readings + b.droppedReadings : 0),
      messages: this.forwarder?.published ?? 0,
    });
    while (this.samples.length > 2 && (tMs - this.samples[1].tMs >= RATE_WINDOW_MS || this.samples[0].tMs > tMs)) this.samples.shift();
  }

  /** Readings per second over the last ten seconds (zero until two samples a second apart exist). */
  rates(): RatesView {
    // With a runtime, samples are taken with the buffer stats (consistent counters); without one, here.
    if (this.buffer === null || this.samples.length === 0) this.sampleCounters();
    const first = this.samples[0];
    const last = this.samples.at(-1)!;
    const windowMs = last.tMs - first.tMs;
    if (windowMs <= 0) return { windowMs: 0, inPerSec: 0, reportedPerSec: 0, forwardedPerSec: 0, messagesPerSec: 0 };
    const perSec = (a: number, b: number) => Math.max(0, ((b - a) * 1000) / windowMs);
    return {
      windowMs,
      inPerSec: perSec(first.in, last.in),
      reportedPerSec: perSec(first.reported, last.reported),
      forwardedPerSec: perSec(first.forwarded, last.forwarded),
      messagesPerSec: perSec(first.messages, last.messages),
    };
  }

  private staleAfterMs(device: DeviceView): number {
    return 3 * device.pollIntervalMs + 2 * (this.timeouts.get(device.id) ?? 0);
  }

  /** The overview: gateway, broker, buffer, rates, device health and alarm counts; no tags. */
  overview(): OverviewView {
    const nowMs = this.now();
    const rates = this.rates();
    const devices: DeviceSummary[] = [];
    for (const d of this.devices.values()) {
      const staleAfterMs = this.staleAfterMs(d);
      const quality = { good: 0, uncertain: 0, bad: 0, notApplicable: 0 };
      for (const t of d.tags) {
        if (t.quality === 'bad') {
          quality.bad++;
          if (t.reason === 'not-applicable') quality.notApplicable++;
        }
        else if (t.quality === 'uncertain' || nowMs - t.receivedMs > staleAfterMs) quality.uncertain++;
        else quality.good++;
      }
      devices.push({
        id: d.id,
        name: d.name,
        profile: d.profile,
        protocol: d.protocol,
        address: d.address,
        pollIntervalMs: d.pollIntervalMs,
        requestsPerCycle: d.requestsPerCycle,
        health: { ...d.health },
        driver: d.driver && { ...d.driver, errors: { ...d.driver.errors } },
        tagCount: d.tags.length,
        quality,
      });
    }
    let alarms: AlarmCounts | null = null;
    if (this.alarms) {
      alarms = { total: this.alarms.length, unacknowledged: 0, shelved: 0, byPriority: { critical: 0, high: 0, medium: 0, low: 0 } };
      for (const a of this.alarms) {
        alarms.byPriority[a.priority]++;
        if (a.state === 'active-unack' || a.state === 'returned-unack') alarms.unacknowledged++;
        if (a.shelvedUntilMs !== null) alarms.shelved++;
      }
    }
    const b = this.buffer;
    return {
      ...this.gateway,
      nowMs,
      uptimeMs: nowMs - this.gateway.startedMs,
      ready: this.ready,
      readingsIn: this.readingsIn,
      readingsReported: this.readingsReported,
      rates,
      broker: this.broker && { ...this.broker },
      buffer: b && { ...b, oldestAgeMs: b.oldestCreatedMs === null ? null : Math.max(0, nowMs - b.oldestCreatedMs) },
      forwarder: this.forwarder && { ...this.forwarder },
      ingest: this.ingest && { ...this.ingest },
      buffering: this.broker === null || this.broker.state !== 'connected',
      buses: structuredClone(this.buses),
      devices,
      alarms,
    };
  }

  deviceIds(): string[] {
    return [...this.devices.keys()];
  }

  /** One device with its tags (stale values marked as in `snapshot()`), or null when unknown. */
  device(deviceId: string): DeviceView | null {
    const d = this.devices.get(deviceId);
    if (!d) return null;
    const nowMs = this.now();
    const staleAfterMs = this.staleAfterMs(d);
    return {
      ...d,
      health: { ...d.health },
      driver: d.driver && { ...d.driver, errors: { ...d.driver.errors } },
      tags: d.tags.map((t) => {
        const tag = { ...t };
        if (tag.quality !== 'bad' && nowMs - tag.receivedMs > staleAfterMs) {
          tag.quality = 'uncertain';
          tag.reason = 'stale';
          tag.detail = `no fresh value for ${Math.round((nowMs - tag.receivedMs) / 1000)} s`;
        }
        return tag;
      }),
    };
  }

  /**
   * A device's changing part for the live stream, compact: health, driver stats and per tag (in the
   * order of `device(id).tags`) `[value, quality, reason, receivedMs]`, stale values marked as in
   * `device()`. About a third of the full view's bytes, and no per-tag object.
   */
  deviceValues(deviceId: string): DeviceValuesView | null {
    const d = this.devices.get(deviceId);
    if (!d) return null;
    const nowMs = this.now();
    const staleAfterMs = this.staleAfterMs(d);
    const values: DeviceValuesView['values'] = new Array(d.tags.length);
    for (let i = 0; i < d.tags.length; i++) {
      const t = d.tags[i];
      const stale = t.quality !== 'bad' && nowMs - t.receivedMs > staleAfterMs;
      values[i] = [t.value, stale ? 'uncertain' : t.quality, stale ? 'stale' : (t.reason ?? null), t.receivedMs];
    }
    return { id: d.id, nowMs, requestsPerCycle: d.requestsPerCycle, health: d.health, driver: d.driver, values };
  }

  /** The last hour of a device's numeric tags, one point per minute; `tags` limits it to those names. */
  history(deviceId: string, tags?: readonly string[]): DeviceHistoryView | null {
    const d = this.devices.get(deviceId);
    const history = this.histories.get(deviceId);
    const index = this.tagIndex.get(deviceId);
    if (!d || !history || !index) return null;
    const indexes = tags ? tags.map((t) => index.get(t)).filter((i): i is number => i !== undefined) : undefined;
    const series = history.series(this.now(), indexes);
    return {
      device: deviceId,
      stepMs: HISTORY_STEP_MS,
      minutesMs: series.minutesMs,
      tags: [...series.values].map(([i, values]) => ({ tag: d.tags[i].tag, unit: d.tags[i].unit, values })),
    };
  }

  /** Bytes the one-hour history holds (typed arrays only). */
  historyBytes(): number {
    let total = 0;
    for (const h of this.histories.values()) total += h.bytes;
    return total;
  }

  alarmList(): AlarmsView {
    return { enabled: this.alarms !== null, nowMs: this.now(), alarms: this.alarms ? this.alarms.map((a) => ({ ...a })) : [], version: this.alarmsVersion };
  }

  /**
   * A deep copy, safe to serialise and hand out. A value older than three poll intervals plus
   * the device timeout (the poll loop is stuck or far behind) is shown as uncertain / stale,
   * never as a normal value.
   */
  snapshot(): GatewayView {
    const nowMs = this.now();
    const view: GatewayView = structuredClone({
      ...this.gateway,
      nowMs,
      ready: this.ready,
      readingsIn: this.readingsIn,
      readingsReported: this.readingsReported,
      broker: this.broker,
      buffer: this.buffer,
      forwarder: this.forwarder,
      ingest: this.ingest,
      buses: this.buses,
      devices: [...this.devices.values()],
    });
    for (const device of view.devices) {
      const staleAfterMs = 3 * device.pollIntervalMs + 2 * (this.timeouts.get(device.id) ?? 0);
      for (const tag of device.tags) {
        if (tag.quality !== 'bad' && nowMs - tag.receivedMs > staleAfterMs) {
          tag.quality = 'uncertain';
          tag.reason = 'stale';
          tag.detail = `no fresh value for ${Math.round((nowMs - tag.receivedMs) / 1000)} s`;
        }
      }
    }
    return view;
  }
}
