/**
 * Answers one RTU request from a unit's register image: the firmware side of FC 1–4. Pure: a
 * frame with a valid CRC in, the reply frame out (undefined when the unit must stay silent).
 */
import { withCrc } from './crc16.js';

/** What an RTU unit reads from: the same register image the device's Modbus TCP server uses. */
export interface RegisterSource {
  /** Throws an error with `modbusErrorCode` 2 for an unmapped address. */
  readRegisters(area: 'holding' | 'input', address: number, count: number): number[];
  /** Throws an error with `modbusErrorCode` 2 for an unmapped address. */
  readBit(area: 'coil' | 'discrete', address: number): boolean;
  /** False while the device is offline: it then does not answer on the bus either. Absent = always online. */
  isOnline?(): boolean;
}

export const EXCEPTION_ILLEGAL_FUNCTION = 1;
export const EXCEPTION_ILLEGAL_DATA_ADDRESS = 2;
export const EXCEPTION_ILLEGAL_DATA_VALUE = 3;

/** Quantity limits of the read functions (Modbus application protocol 6.1–6.4). */
const MAX_BITS = 2000;
const MAX_REGISTERS = 125;

export function exceptionFrame(unitId: number, fc: number, code: number): Buffer {
  return withCrc(Uint8Array.of(unitId, 0x80 | fc, code));
}

function isIllegalAddress(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { modbusErrorCode?: unknown }).modbusErrorCode === 2;
}

/**
 * The reply to `frame` (unit id, function, data, CRC; the CRC already checked) from `unit`.
 * Functions other than 1–4 answer exception 1 (the simulated devices are read-only).
 */
export function answerRequest(frame: Uint8Array, unit: RegisterSource): Buffer {
  const unitId = frame[0];
  const fc = frame[1];
  if (fc < 1 || fc > 4) return exceptionFrame(unitId, fc & 0x7f, EXCEPTION_ILLEGAL_FUNCTION);
  if (frame.length !== 8) return exceptionFrame(unitId, fc, EXCEPTION_ILLEGAL_DATA_VALUE);
  const address = (frame[2] << 8) | frame[3];
  const quantity = (frame[4] << 8) | frame[5];
  const bits = fc === 1 || fc === 2;
  if (quantity < 1 || quantity > (bits ? MAX_BITS : MAX_REGISTERS)) return exceptionFrame(unitId, fc, EXCEPTION_ILLEGAL_DATA_VALUE);
  if (address + quantity > 0x10000) return exceptionFrame(unitId, fc, EXCEPTION_ILLEGAL_DATA_ADDRESS);
  try {
    if (bits) {
      const area = fc === 1 ? 'coil' : 'discrete';
      const data = Buffer.alloc(Math.ceil(quantity / 8));
      for (let i = 0; i < quantity; i++) if (unit.readBit(area, address + i)) data[i >> 3] |= 1 << (i & 7);
      return withCrc(Buffer.concat([Uint8Array.of(unitId, fc, data.length), data]));
    }
    const words = unit.readRegisters(fc === 3 ? 'holding' : 'input', address, quantity);
    const data = Buffer.alloc(words.length * 2);
    words.forEach((w, i) => data.writeUInt16BE(w & 0xffff, i * 2));
    return withCrc(Buffer.concat([Uint8Array.of(unitId, fc, data.length), data]));
  } catch (err) {
    if (isIllegalAddress(err)) return exceptionFrame(unitId, fc, EXCEPTION_ILLEGAL_DATA_ADDRESS);
    throw err;
  }
}
