import type { Tag } from './tag.js';

export interface ModbusTcpConnection {
  protocol: 'modbus-tcp';
  host: string;
  port: number;
  /** Modbus unit id (slave id), 0–255. */
  unitId: number;
}

export type DeviceConnection = ModbusTcpConnection;

/** A fully resolved device: what the runtime hands to a driver and the scheduler. */
export interface DeviceSpec {
  id: string;
  name: string;
  /** The device-library profile it was built from, if any (for display). */
  profile?: string;
  connection: DeviceConnection;
  pollIntervalMs: number;
  /** Every request to the device is abandoned after this long. */
  timeoutMs: number;
  /** Planner: largest run of unused registers (or bits) worth reading to save a request. */
  maxGapRegisters: number;
  maxGapBits: number;
  /** Largest request the device accepts: at most 125 registers / 2000 bits (the protocol's limit). */
  maxRegistersPerRequest: number;
  maxBitsPerRequest: number;
  /** Reconnect backoff: first delay, doubling with jitter up to the maximum. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  tags: readonly Tag[];
}

/** How a device's polling is going, as the scheduler sees it (published in the live state). */
export interface DevicePollHealth {
  connected: boolean;
  cycles: number;
  /** Cycles that started later than their slot because the previous one ran long. */
  overruns: number;
  lastCycleMs: number | null;
  lastGoodCycleMs: number | null;
  lastCycleDurationMs: number | null;
  /** Connection attempts that failed in a row; 0 when connected. */
  connectFailures: number;
  /** Current reconnect delay, 0 when connected. */
  backoffMs: number;
  nextConnectMs: number | null;
  lastError: string | null;
}

/** The health of a device that has not been polled yet. */
export function idlePollHealth(): DevicePollHealth {
  return {
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
  };
}
