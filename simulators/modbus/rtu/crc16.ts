/**
 * CRC-16/MODBUS (reflected polynomial 0xA001, initial value 0xFFFF), sent low byte first.
 * The simulator's own implementation, independent of the agent's and of modbus-serial's.
 */

/** CRC-16/MODBUS of `bytes` (0..0xFFFF). */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** `body` followed by its CRC, low byte first: a complete RTU frame. */
export function withCrc(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(body.length + 2);
  frame.set(body, 0);
  frame.writeUInt16LE(crc16Modbus(body), body.length);
  return frame;
}

/** True when the last two bytes of `frame` are the CRC of the rest (frames under 4 bytes never are). */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const n = frame.length - 2;
  return crc16Modbus(frame.subarray(0, n)) === (frame[n] | (frame[n + 1] << 8));
}
