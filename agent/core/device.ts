import type { CalculationSpec } from './calculation.js';
import type { Tag } from './tag.js';

export interface ModbusTcpConnection {
  protocol: 'modbus-tcp';
  host: string;
  port: number;
  /** Modbus unit id (slave id), 0–255. */
  unitId: number;
}

export type SerialParity = 'none' | 'even' | 'odd';

/** An RS-485 line on a local serial port. */
export interface SerialBusSpec {
  id: string;
  transport: 'serial';
  /** Device path: /dev/ttyUSB0, /dev/serial/by-id/…, COM3. */
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: SerialParity;
  stopBits: 1 | 2;
  /** Silence kept between the end of one transaction and the next request (at least the 3.5-character time the baud rate requires). */
  interFrameGapMs: number;
  /** Every request on the bus is abandoned after this long (the longest timeout of its devices). */
  timeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/** Raw RTU frames through a serial-to-Ethernet converter ("RTU over TCP"; not Modbus TCP framing). */
export interface TcpRtuBusSpec {
  id: string;
  transport: 'tcp';
  host: string;
  port: number;
  /** Baud rate of the converter's serial side, when known: sets the inter-frame gap. */
  baudRate?: number;
  interFrameGapMs: number;
  timeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export type RtuBusSpec = SerialBusSpec | TcpRtuBusSpec;

export interface ModbusRtuConnection {
  protocol: 'modbus-rtu';
  /** The shared line; several devices (unit ids) name the same bus. */
  bus: RtuBusSpec;
  /** Modbus unit id on the bus, 1–247. */
  unitId: number;
}

export type OpcUaSecurityMode = 'None' | 'Sign' | 'SignAndEncrypt';
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type OpcUaSecurityPolicy = (typeof OPCUA_SECURITY_POLICIES)[number];

/** A secret as core sees it: it can be revealed to the one part that needs it, and never prints itself. */
export interface SecretValue {
  reveal(): string;
}

export type OpcUaIdentity =
  | { type: 'anonymous' }
  | { type: 'username'; username: string; password: SecretValue }
  | { type: 'certificate'; certificateFile: string; privateKey: SecretValue };

export interface OpcUaConnection {
  protocol: 'opcua';
  /** opc.tcp://host:4840/path */
  endpointUrl: string;
  securityMode: OpcUaSecurityMode;
  securityPolicy: OpcUaSecurityPolicy;
  identity: OpcUaIdentity;
  /**
   * The client's PKI folder (own certificate and key, trusted/ and rejected/ server certificates).
   * Always named by the config (resolved against the config file), never the user's home.
   */
  pkiDir: string;
  /** Subscription publishing interval. */
  publishingIntervalMs: number;
  /** Session timeout requested from the server. */
  sessionTimeoutMs: number;
}

/** A calculated device: no field connection; its values are computed from other devices' readings. */
export interface CalculatedConnection {
  protocol: 'calc';
  calculation: CalculationSpec;
}

export type DeviceConnection = ModbusTcpConnection | ModbusRtuConnection | OpcUaConnection | CalculatedConnection;
export type Protocol = DeviceConnection['protocol'];

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

/** Where a device is reached, for people: "10.0.0.5:502 unit 1", "bus rs485-1 (/dev/ttyUSB0 9600 8E1) unit 3", "opc.tcp://…". */
export function describeConnection(c: DeviceConnection): string {
  switch (c.protocol) {
    case 'modbus-tcp':
      return `${c.host}:${c.port} unit ${c.unitId}`;
    case 'modbus-rtu':
      return `bus ${c.bus.id} (${describeBus(c.bus)}) unit ${c.unitId}`;
    case 'opcua':
      return `${c.endpointUrl} (${c.securityMode === 'None' ? 'no security' : `${c.securityMode} ${c.securityPolicy}`})`;
    case 'calc':
      return `${c.calculation.model} calculation${c.calculation.source ? ` from ${c.calculation.source}` : ''}`;
  }
}

/** "/dev/ttyUSB0 9600 8E1" or "rtu over tcp 10.0.0.9:4001". */
export function describeBus(bus: RtuBusSpec): string {
  if (bus.transport === 'tcp') return `rtu over tcp ${bus.host}:${bus.port}`;
  return `${bus.path} ${bus.baudRate} ${bus.dataBits}${bus.parity[0].toUpperCase()}${bus.stopBits}`;
}
