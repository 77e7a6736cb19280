/**
 * Modbus RTU framing, master side (pure): read requests out, replies in.
 *
 * A reply is checked in the order a line corrupts it: unit id, function, byte count, CRC. A frame
 * that is complete and CRC-valid but from another unit (or for another function) is reported as
 * such with its length, so the line can drop exactly that frame and keep waiting for ours — a late
 * reply to an earlier, timed-out request must not fail the innocent request after it.
 * Written here, not taken from the simulator: a codec must not be tested only against itself.
 */
import type { ModbusFunctionCode } from '../planner.js';

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), table-driven. */
const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc16(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  return crc;
}

/** A read request frame: unit, function, address, count, CRC (low byte first). */
export function encodeReadRequest(unitId: number, functionCode: ModbusFunctionCode, address: number, count: number): Buffer {
  const frame = Buffer.alloc(8);
  frame[0] = unitId;
  frame[1] = functionCode;
  frame.writeUInt16BE(address, 2);
  frame.writeUInt16BE(count, 4);
  frame.writeUInt16LE(crc16(frame, 6), 6);
  return frame;
}

/** Bytes of a normal reply to a read of `count` registers (FC3/4) or bits (FC1/2). */
export function replyLength(functionCode: ModbusFunctionCode, count: number): number {
  return 5 + (functionCode <= 2 ? Math.ceil(count / 8) : count * 2);
}

export interface ExpectedReply {
  unitId: number;
  functionCode: ModbusFunctionCode;
  count: number;
}

export type FrameErrorKind = 'crc' | 'short' | 'wrong-unit' | 'wrong-function' | 'byte-count';

export type ReplyParse =
  /** More bytes needed. */
  | { status: 'incomplete'; have: number; need: number }
  /** Our reply: registers (FC3/4) or bits (FC1/2). */
  | { status: 'data'; data: number[] | boolean[]; length: number }
  /** Our unit answered with a Modbus exception. */
  | { status: 'exception'; code: number; length: number }
  /** A complete, CRC-valid frame that is not our answer (another unit, another function): drop `length` bytes and keep waiting. */
  | { status: 'foreign'; kind: 'wrong-unit' | 'wrong-function'; unitId: number; functionCode: number; length: number }
  /** Damaged or unintelligible bytes: the transaction fails. */
  | { status: 'error'; kind: Exclude<FrameErrorKind, 'short'>; detail: string };

/**
 * Parses the bytes received so far for a transaction expecting `expected`.
 * Never throws; `buffer` may hold more bytes than one frame (they stay for the caller).
 */
export function parseReply(buffer: Uint8Array, expected: ExpectedReply): ReplyParse {
  if (buffer.length < 2) return { status: 'incomplete', have: buffer.length, need: replyLength(expected.functionCode, expected.count) };
  const unitId = buffer[0];
  const fc = buffer[1];
  const framed = frameLength(buffer);
  if (framed === undefined) {
    // A function code no read reply carries: the bytes cannot be framed at all.
    return { status: 'error', kind: unitId === expected.unitId ? 'wrong-function' : 'wrong-unit', detail: `unintelligible reply: unit ${unitId}, function ${fc}` };
  }
  if (framed.length > buffer.length) return { status: 'incomplete', have: buffer.length, need: framed.length };
  const length = framed.length;
  const crcOk = buffer[length - 2] === (crc16(buffer, length - 2) & 0xff) && buffer[length - 1] === crc16(buffer, length - 2) >>> 8;
  if (!crcOk) return { status: 'error', kind: 'crc', detail: `CRC error in a ${length}-byte reply (unit ${unitId}, function ${fc & 0x7f})` };
  if (unitId !== expected.unitId) return { status: 'foreign', kind: 'wrong-unit', unitId, functionCode: fc, length };
  if ((fc & 0x7f) !== expected.functionCode) return { status: 'foreign', kind: 'wrong-function', unitId, functionCode: fc, length };
  if (fc & 0x80) return { status: 'exception', code: buffer[2], length };
  const expectedBytes = replyLength(expected.functionCode, expected.count) - 5;
  if (buffer[2] !== expectedBytes) {
    return { status: 'error', kind: 'byte-count', detail: `reply carries ${buffer[2]} data bytes, expected ${expectedBytes}` };
  }
  return { status: 'data', data: decodePayload(buffer, expected), length };
}

/** Length of the frame at the start of `buffer` from its header, or undefined if it is no read reply. */
function frameLength(buffer: Uint8Array): { length: number } | undefined {
  const fc = buffer[1];
  if (fc & 0x80) return (fc & 0x7f) >= 1 && (fc & 0x7f) <= 4 ? { length: 5 } : undefined;
  if (fc < 1 || fc > 4) return undefined;
  if (buffer.length < 3) return { length: 3 };
  return { length: 5 + buffer[2] };
}

function decodePayload(buffer: Uint8Array, expected: ExpectedReply): number[] | boolean[] {
  if (expected.functionCode <= 2) {
    const bits = new Array<boolean>(expected.count);
    for (let i = 0; i < expected.count; i++) bits[i] = ((buffer[3 + (i >> 3)] >> (i & 7)) & 1) === 1;
    return bits;
  }
  const words = new Array<number>(expected.count);
  for (let i = 0; i < expected.count; i++) words[i] = (buffer[3 + 2 * i] << 8) | buffer[4 + 2 * i];
  return words;
}
