/**
 * A vendor register map, as the simulated device's firmware holds it. Deliberately its own
 * types (simulators/ imports nothing of the agent): this is the vendor's side of the contract.
 */
export type PointArea = 'holding' | 'input' | 'coil' | 'discrete';
export type PointType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'string';
/** Bytes A (most significant) … D on the wire: ABCD big-endian, CDAB word-swapped, BADC byte-swapped, DCBA little-endian. */
export type WordOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

export interface SimulatorPoint {
  name: string;
  area: PointArea;
  /** 0-based protocol address. */
  address: number;
  type: PointType;
  order: WordOrder;
  /** bool inside a holding/input register: bit number, 0 = least significant. */
  bit?: number;
  /** string: number of registers (two ASCII characters each, first character in the high byte, NUL padded). */
  length?: number;
  /** raw = round(value / scale); engineering = raw · scale. 1 for floats, bools and strings. */
  scale: number;
  unit: string;
  description: string;
}

/** Address ranges the device answers; reserved words inside a block read 0, anything outside is exception 2. */
export interface AddressBlock {
  area: PointArea;
  start: number;
  /** Number of registers or bits. */
  count: number;
}

export interface DeviceMap {
  points: SimulatorPoint[];
  blocks: AddressBlock[];
}

/** Registers a point occupies (bits: 1). */
export function pointWidth(p: SimulatorPoint): number {
  switch (p.type) {
    case 'bool':
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return p.length ?? 1;
  }
}
