import { describe, expect, it } from 'vitest';
import { crc16, encodeReadRequest, parseReply, replyLength } from '../../../../drivers/modbus/rtu/frame.js';

/** A reply frame with a correct CRC. */
function frame(...bytes: number[]): Buffer {
  const b = Buffer.alloc(bytes.length + 2);
  Buffer.from(bytes).copy(b);
  b.writeUInt16LE(crc16(b, bytes.length), bytes.length);
  return b;
}

describe('Modbus RTU framing (master side)', () => {
  it('encodes a read request with the CRC of the specification example', () => {
    // Modbus over serial line spec / common reference: 01 03 00 00 00 0A → CRC C5 CD (low byte first).
    expect(encodeReadRequest(1, 3, 0, 10).toString('hex')).toBe('01030000000ac5cd');
    expect(encodeReadRequest(17, 4, 8, 1).toString('hex')).toBe('110400080001b298');
  });

  it('knows the length of a normal reply', () => {
    expect(replyLength(3, 10)).toBe(25);
    expect(replyLength(1, 10)).toBe(7);
    expect(replyLength(2, 16)).toBe(7);
  });

  it('decodes registers and bits of our reply', () => {
    expect(parseReply(frame(1, 3, 4, 0x12, 0x34, 0xff, 0xfe), { unitId: 1, functionCode: 3, count: 2 })).toEqual({ status: 'data', data: [0x1234, 0xfffe], length: 9 });
    expect(parseReply(frame(2, 1, 2, 0b10000101, 0b1), { unitId: 2, functionCode: 1, count: 9 })).toEqual({
      status: 'data',
      data: [true, false, true, false, false, false, false, true, true],
      length: 7,
    });
  });

  it('waits for more bytes, saying how many it needs', () => {
    const full = frame(1, 3, 4, 0, 1, 0, 2);
    expect(parseReply(full.subarray(0, 1), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'incomplete', need: 9 });
    expect(parseReply(full.subarray(0, 5), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'incomplete', have: 5, need: 9 });
  });

  it('returns an exception reply with its code', () => {
    expect(parseReply(frame(1, 0x83, 2), { unitId: 1, functionCode: 3, count: 2 })).toEqual({ status: 'exception', code: 2, length: 5 });
  });

  it('fails a reply whose CRC is wrong', () => {
    const bad = frame(1, 3, 4, 0, 1, 0, 2);
    bad[4] ^= 0x40;
    expect(parseReply(bad, { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'error', kind: 'crc', detail: 'CRC error in a 9-byte reply (unit 1, function 3)' });
  });

  it('recognises a valid frame from another unit or for another function as foreign, with its length', () => {
    const other = Buffer.concat([frame(7, 3, 2, 0, 9), frame(1, 3, 4, 0, 1, 0, 2)]);
    expect(parseReply(other, { unitId: 1, functionCode: 3, count: 2 })).toEqual({ status: 'foreign', kind: 'wrong-unit', unitId: 7, functionCode: 3, length: 7 });
    expect(parseReply(other.subarray(7), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'data', data: [1, 2] });
    expect(parseReply(frame(1, 4, 2, 0, 9), { unitId: 1, functionCode: 3, count: 1 })).toMatchObject({ status: 'foreign', kind: 'wrong-function' });
  });

  it('fails a reply with the wrong byte count, and bytes that are no read reply at all', () => {
    expect(parseReply(frame(1, 3, 2, 0, 1), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'error', kind: 'byte-count', detail: 'reply carries 2 data bytes, expected 4' });
    expect(parseReply(Buffer.from([1, 0x10, 0, 0]), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'error', kind: 'wrong-function' });
    expect(parseReply(Buffer.from([9, 0x55, 0, 0]), { unitId: 1, functionCode: 3, count: 2 })).toMatchObject({ status: 'error', kind: 'wrong-unit' });
  });
});
