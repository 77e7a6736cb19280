import type { DevicePollHealth, DeviceSpec } from '../core/device.js';
import type { DriverStats } from '../core/driver.js';
import type { OutboxStats } from '../core/outbox.js';
import type { PublisherState } from '../core/publisher.js';
import type { Reading } from '../core/reading.js';

export type DeviceHealth = DevicePollHealth;

export interface TagView extends Reading {
  description: string;
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
  devices: DeviceView[];
}

/**
 * The live picture of the gateway: latest value per tag, device health, broker and buffer state.
 * The pipeline writes it; the status page and metrics only read it (one-way flow).
 */
export class LiveState {
  private readonly devices = new Map<string, DeviceView>();
  private readonly tagIndex = new Map<string, Map<string, number>>();
  private broker: PublisherState | null = null;
  private buffer: OutboxStats | null = null;
  private forwarder: ForwarderView | null = null;
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
      address: `${c.host}:${c.port} unit ${c.unitId}`,
      pollIntervalMs: device.pollIntervalMs,
      requestsPerCycle,
      health: {
        connected: false,
        cycles: 0,
        overruns: 0,
        lastCycleMs: null,
        lastGoodCycleMs: null,
        lastCycleDurationMs: null,
        connectFailures: 0,
        backoffMs: 0,
        nextConnectMs: null,
        lastError: null,
      },
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
      })),
    });
    this.tagIndex.set(device.id, new Map(device.tags.map((t, i) => [t.name, i])));
  }

  recordReadings(deviceId: string, readings: readonly Reading[], reported: number): void {
    const device = this.devices.get(deviceId);
    const index = this.tagIndex.get(deviceId);
    if (!device || !index) return;
    for (const r of readings) {
      const i = index.get(r.tag);
      if (i !== undefined) device.tags[i] = { ...r, description: device.tags[i].description };
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

  setReady(ready: boolean): void {
    this.ready = ready;
  }

  isReady(): boolean {
    return this.ready;
  }

  /** A deep copy, safe to serialise and hand out. */
  snapshot(): GatewayView {
    return structuredClone({
      ...this.gateway,
      nowMs: this.now(),
      ready: this.ready,
      readingsIn: this.readingsIn,
      readingsReported: this.readingsReported,
      broker: this.broker,
      buffer: this.buffer,
      forwarder: this.forwarder,
      devices: [...this.devices.values()],
    });
  }
}
