/**
 * The plant simulator: a chiller, a cooling tower, a transformer and a UPS driven by one AI
 * workload, each served as its own Modbus TCP device with a vendor register map.
 *
 * simulators/ imports only node built-ins and its protocol library (HOUSE rule): it does its own
 * register encoding, so the agent's codec is never tested only against itself.
 */
import { DeviceServer } from './modbus/device-server.js';
import { chillerMap } from './modbus/maps/chiller.js';
import { coolingTowerMap } from './modbus/maps/cooling-tower.js';
import { transformerMap } from './modbus/maps/transformer.js';
import { upsMap } from './modbus/maps/ups.js';
import type { DeviceMap, SimulatorPoint } from './modbus/points.js';
import { RegisterImage } from './modbus/register-image.js';
import type { RegisterSource } from './modbus/rtu/responder.js';
import { RtuBus } from './modbus/rtu/rtu-bus.js';
import { openSerialLink, type SerialLink } from './modbus/rtu/serial-link.js';
import { FAULTS_BY_KIND } from './plant/faults.js';
import { DEVICE_KINDS, Plant, type DeviceKind, type PointValue } from './plant/plant.js';

export type { DeviceKind, PointValue } from './plant/plant.js';
export type { AddressBlock, PointArea, PointType, SimulatorPoint, WordOrder } from './modbus/points.js';
export type { FaultName } from './plant/faults.js';
export * from './modbus/rtu/index.js';
export * from './opcua/index.js';

/** Suggested fixed ports for the demo (tests use 0 = ephemeral). */
export const DEMO_PORTS: Readonly<Record<DeviceKind, number>> = {
  chiller: 15020,
  'cooling-tower': 15021,
  transformer: 15022,
  ups: 15023,
};

export interface PlantSimulatorOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port per device; 0 or absent = an ephemeral port (read it back from `devices`). */
  ports?: Partial<Record<DeviceKind, number>>;
  /** Simulated seconds per real second while autoRun is on; default 1. */
  timeSpeed?: number;
  /** Seed of every pseudo-random signal; default 1. */
  seed?: number;
  /** Default true: advance with wall time on an internal interval. False: only step() advances. */
  autoRun?: boolean;
  /** How often autoRun advances the plant (real ms); default 250. */
  tickMs?: number;
  /** Simulated time at start (epoch ms; hour of day is UTC); default Date.now(). */
  startTimeMs?: number;
  /** Also serve the devices as units of one Modbus RTU bus (beside their Modbus TCP servers). */
  rtu?: PlantRtuOptions;
}

export interface PlantRtuOptions {
  /** Serve the bus as RTU over TCP on this port (0 = ephemeral) on `host`. */
  tcpPort?: number;
  /** Serve the bus on this serial device (e.g. one end of a socat pty pair); re-attached when it vanishes and comes back. */
  serialPath?: string;
  /** Pace replies as on a line of this speed (and open the serial device at it; default 9600 there). Absent = no pacing. */
  baudRate?: number;
  /** Device id → unit id of the devices on the bus; default every device, unit ids 1..4 in `devices` order. */
  units?: Record<string, number>;
}

export interface PlantRtu {
  /** Port of the RTU-over-TCP listener, when `tcpPort` was given. */
  port?: number;
  serialPath?: string;
  /** Device id → unit id. */
  units: Record<string, number>;
  /** The bus itself: fault hooks (`setResponseDelayMs`, `garbleNext`) and `stats`. */
  bus: RtuBus;
  /** The serial link, when `serialPath` was given: its `state` tells whether the port is attached. */
  serialLink?: SerialLink;
}

export interface SimulatedDevice {
  id: string;
  kind: DeviceKind;
  host: string;
  port: number;
  unitId: number;
}

export interface InjectFaultOptions {
  /** Seconds of simulated time for the fault to develop from 0 to 1; 0 = at once. Default per fault (README). */
  rampSeconds?: number;
}

export interface PlantSimulator {
  readonly devices: readonly SimulatedDevice[];
  /** The RTU bus, when started with the `rtu` option. A stopped device is silent on it too. */
  readonly rtu?: PlantRtu;
  /** Simulated time of the last step (epoch ms). */
  readonly timeMs: number;
  /** Advances simulated time by dtSeconds and refreshes every register image. */
  step(dtSeconds: number): void;
  /** Physical values by point name as of the last step: exactly what the registers encode, before quantisation. */
  values(deviceId: string): Record<string, PointValue>;
  /** The vendor register map of a device. */
  pointMap(deviceId: string): SimulatorPoint[];
  /**
   * Read access to the device's register image (the one its Modbus TCP server answers from), for
   * serving it over other transports such as RTU (`createRtuBus`); offline while the device is stopped.
   */
  registers(deviceId: string): RegisterSource;
  /** Faults the device accepts. */
  faults(deviceId: string): string[];
  /** Sets a fault's target severity (0..1); the effective severity ramps toward it with simulated time. */
  injectFault(deviceId: string, fault: string, severity: number, options?: InjectFaultOptions): void;
  /** Repairs a fault: its effective severity drops to 0 at once. */
  clearFault(deviceId: string, fault: string): void;
  /** Takes a device offline: its port stops listening and open connections are dropped. */
  stopDevice(deviceId: string): Promise<void>;
  /** Brings a device back on the same port. */
  startDevice(deviceId: string): Promise<void>;
  /**
   * Calls `listener` after every step and after a device is stopped or started (the moments to read
   * `values()` and `registers(id).isOnline()` again); returns a function that removes it. Every
   * listener runs even if one throws; the first error is then rethrown to the caller.
   */
  onUpdate(listener: () => void): () => void;
  close(): Promise<void>;
}

const MAPS: Record<DeviceKind, DeviceMap> = {
  chiller: chillerMap,
  'cooling-tower': coolingTowerMap,
  transformer: transformerMap,
  ups: upsMap,
};

interface DeviceEntry {
  info: SimulatedDevice;
  map: DeviceMap;
  image: RegisterImage;
  server: DeviceServer;
}

export async function startPlantSimulator(opts: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const timeSpeed = opts.timeSpeed ?? 1;
  if (!(timeSpeed > 0) || !Number.isFinite(timeSpeed)) throw new RangeError(`timeSpeed must be a positive number, got ${timeSpeed}`);
  const plant = new Plant({ seed: opts.seed ?? 1, startTimeMs: opts.startTimeMs ?? Date.now() });

  const entries = new Map<string, DeviceEntry>();
  for (const kind of DEVICE_KINDS) {
    const id = `${kind}-1`;
    const map = MAPS[kind];
    const image = new RegisterImage(map);
    image.update(plant.values(kind));
    const port = opts.ports?.[kind] ?? 0;
    const server = new DeviceServer({ id, host, port, unitId: 1, image });
    entries.set(id, { info: { id, kind, host, port, unitId: 1 }, map, image, server });
  }

  try {
    for (const entry of entries.values()) {
      await entry.server.start();
      entry.info.port = entry.server.port;
    }
  } catch (err) {
    await Promise.all([...entries.values()].map((e) => e.server.stop()));
    throw err;
  }

  const rtu = opts.rtu
    ? await startRtu(entries, host, opts.rtu).catch(async (err: unknown) => {
        await Promise.all([...entries.values()].map((e) => e.server.stop()));
        throw err;
      })
    : undefined;

  const entry = (deviceId: string): DeviceEntry => {
    const found = entries.get(deviceId);
    if (!found) throw new Error(`unknown simulated device "${deviceId}" (known: ${[...entries.keys()].join(', ')})`);
    return found;
  };

  const listeners = new Set<() => void>();
  const notify = (): void => {
    const errors: unknown[] = [];
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  const step = (dtSeconds: number): void => {
    plant.step(dtSeconds);
    for (const e of entries.values()) e.image.update(plant.values(e.info.kind));
    notify();
  };

  let timer: NodeJS.Timeout | undefined;
  if (opts.autoRun ?? true) {
    let lastReal = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      step(((now - lastReal) / 1000) * timeSpeed);
      lastReal = now;
    }, opts.tickMs ?? 250);
    timer.unref();
  }

  let closed = false;
  return {
    devices: [...entries.values()].map((e) => e.info),
    rtu: rtu?.info,
    get timeMs() {
      return plant.timeMs;
    },
    step,
    values: (deviceId) => plant.values(entry(deviceId).info.kind),
    pointMap: (deviceId) => entry(deviceId).map.points.map((p) => ({ ...p })),
    registers: (deviceId) => {
      const { image, server } = entry(deviceId);
      return {
        readRegisters: (area, address, count) => image.readRegisters(area, address, count),
        readBit: (area, address) => image.readBit(area, address),
        isOnline: () => server.running,
      };
    },
    faults: (deviceId) => Object.keys(FAULTS_BY_KIND[entry(deviceId).info.kind]),
    injectFault: (deviceId, fault, severity, options) => plant.injectFault(entry(deviceId).info.kind, fault, severity, options?.rampSeconds),
    clearFault: (deviceId, fault) => plant.clearFault(entry(deviceId).info.kind, fault),
    stopDevice: async (deviceId) => {
      await entry(deviceId).server.stop();
      notify();
    },
    startDevice: async (deviceId) => {
      if (closed) throw new Error(`simulator closed: cannot start ${deviceId}`);
      await entry(deviceId).server.start();
      notify();
    },
    onUpdate: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close: async () => {
      closed = true;
      if (timer) clearInterval(timer);
      await rtu?.close();
      await Promise.all([...entries.values()].map((e) => e.server.stop()));
    },
  };
}

/** The device's register image as an RTU unit reads it: offline (silent) while its server is stopped. */
function rtuSourceOf(e: DeviceEntry): RegisterSource {
  return {
    readRegisters: (area, address, count) => e.image.readRegisters(area, address, count),
    readBit: (area, address) => e.image.readBit(area, address),
    isOnline: () => e.server.running,
  };
}

async function startRtu(entries: ReadonlyMap<string, DeviceEntry>, host: string, options: PlantRtuOptions): Promise<{ info: PlantRtu; close(): Promise<void> }> {
  if (options.tcpPort === undefined && options.serialPath === undefined) throw new Error('rtu: give tcpPort, serialPath or both');
  const units = { ...(options.units ?? Object.fromEntries([...entries.keys()].map((id, i) => [id, i + 1]))) };
  const sources = new Map<number, RegisterSource>();
  for (const [deviceId, unitId] of Object.entries(units)) {
    const e = entries.get(deviceId);
    if (!e) throw new Error(`rtu.units: unknown simulated device "${deviceId}" (known: ${[...entries.keys()].join(', ')})`);
    if (sources.has(unitId)) throw new Error(`rtu.units: unit id ${unitId} is given to two devices`);
    sources.set(unitId, rtuSourceOf(e));
  }
  const bus = new RtuBus({ units: sources, baudRate: options.baudRate });
  let serialLink: SerialLink | undefined;
  const close = async (): Promise<void> => {
    await serialLink?.close();
    await bus.close();
  };
  try {
    const port = options.tcpPort !== undefined ? await bus.listen(host, options.tcpPort) : undefined;
    if (options.serialPath !== undefined) {
      serialLink = await openSerialLink(bus, { path: options.serialPath, baudRate: options.baudRate ?? 9600, reopen: true });
    }
    return { info: { port, serialPath: options.serialPath, units, bus, serialLink }, close };
  } catch (err) {
    await close();
    throw err;
  }
}
