import type { CalculatedOutput } from './calculation.js';

/** Where a tag's value lives on a Modbus device. Addresses are 0-based protocol addresses. */
export type ModbusArea = 'holding' | 'input' | 'coil' | 'discrete';

export const DATA_TYPES = [
  'bool',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

/**
 * Byte/word order of multi-register values, named after the order in which the bytes
 * A (most significant) … D of a 32-bit value appear on the wire.
 * ABCD big-endian; CDAB word-swapped; BADC byte-swapped; DCBA little-endian.
 * For 64-bit values the same rule extends to eight bytes (ABCD = ABCDEFGH, CDAB = GHEFCDAB,
 * BADC = BADCFEHG, DCBA = HGFEDCBA).
 */
export const BYTE_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

export interface ModbusAddress {
  area: ModbusArea;
  /** 0-based register or bit address. */
  address: number;
  type: DataType;
  order: ByteOrder;
  /** For `bool` read from a register: which bit (0 = least significant). */
  bit?: number;
  /** For `string`: number of registers (two ASCII characters each). */
  length?: number;
}

/** OPC UA: how a tag's node is read. */
export type OpcUaReadMode = 'subscribe' | 'read';

/** Where a tag's value lives on an OPC UA server. */
export interface OpcUaNode {
  /**
   * NodeId string: "ns=2;s=Chiller1.SupplyTemp", "i=2258", or with the namespace URI instead of
   * its index ("nsu=urn:vendor:plant;s=…"), which survives a server that renumbers its namespaces.
   */
  nodeId: string;
  /** subscribe (a monitored item, the default) or read (polled with Read every poll interval). */
  mode: OpcUaReadMode;
  /** Monitored item: how often the server samples the value; -1 = the subscription's publishing interval. */
  samplingIntervalMs: number;
  /** Monitored item: values the server queues between publishes (the newest is kept when it overflows). */
  queueSize: number;
  /** Monitored item: absolute data-change deadband applied by the server (0 = every change). */
  serverDeadband: number;
}

export type TagSource = ModbusAddress | OpcUaNode | CalculatedOutput;

export function isOpcUaNode(source: TagSource): source is OpcUaNode {
  return 'nodeId' in source;
}

/** The Modbus address of a tag; throws if the tag belongs to another protocol (a programming error). */
export function modbusAddressOf(tag: Tag): ModbusAddress {
  if (!('area' in tag.source)) throw new Error(`tag ${tag.name}: not a Modbus tag`);
  return tag.source;
}

/** A fully resolved tag: profile and overrides merged, defaults applied. */
export interface Tag {
  /** Unique within the device; used in topics and payloads. */
  name: string;
  description: string;
  /** Engineering unit ("°C", "kW", "%"); empty for dimensionless values and states. */
  unit: string;
  source: TagSource;
  /** engineering = raw * scale + offset (numeric types only). */
  scale: number;
  offset: number;
  /** Report-by-exception: a numeric change smaller than this is not reported. 0 reports every change. */
  deadband: number;
  /** Report the value at least this often even if it has not changed. */
  maxSilenceMs: number;
  /** Plausible range; a value outside it is reported with quality uncertain / out-of-range. */
  min?: number;
  max?: number;
}

/** The value a tag can take once decoded. int64/uint64 beyond 2^53 are kept exact as bigint by codecs and turned into numbers by normalize. */
export type RawValue = number | bigint | boolean | string;
export type EngineeringValue = number | boolean | string;
