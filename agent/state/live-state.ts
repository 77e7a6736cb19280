import type { BusHealth } from '../core/bus.js';
import { describeConnection, idlePollHealth, type DevicePollHealth, type DeviceSpec } from '../core/device.js';
import type { DriverStats } from '../core/driver.js';
import type { OutboxStats } from '../core/outbox.js';
import type { PublisherState } from '../core/publisher.js';
import type { Reading } from '../core/reading.js';

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
  }

  recordReadings(deviceId: string, readings: readonly Reading[], reported: number): void {
    const device = this.devices.get(deviceId);
    const index = this.tagIndex.get(deviceId);
    if (!device || !index) return;
    const receivedMs = this.now();
    for (const r of readings) {
      const i = index.get(r.tag);
      if (i === undefined) continue;
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

  setBuffer(stats: OutboxStats): void {
    this.buffer = stats;
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
