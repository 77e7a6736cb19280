/** CRC-16/MODBUS against published vectors: the simulator's RTU framing must be right on its own. */
import { describe, expect, it } from 'vitest';
import { crc16Modbus, hasValidCrc, withCrc } from '../../../simulators/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('crc16Modbus', () => {
  it.each([
    ['01 03 00 00 00 0A', 'C5 CD'], // read 10 holding registers from unit 1
    ['11 03 00 6B 00 03', '76 87'], // Modbus over serial line spec, 6.3 example
    ['01 04 00 00 00 01', '31 CA'],
  ])('request %s → CRC bytes %s (low byte first)', (body, crc) => {
    const frame = withCrc(hex(body));
    expect(frame.subarray(-2).toString('hex')).toBe(hex(crc).toString('hex'));
    expect(hasValidCrc(frame)).toBe(true);
  });

  it('gives the catalogue check value 0x4B37 for "123456789"', () => {
    expect(crc16Modbus(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('starts from 0xFFFF (the CRC of nothing)', () => {
    expect(crc16Modbus(new Uint8Array(0))).toBe(0xffff);
  });

  it('rejects a frame with any single byte flipped, and frames too short to carry a CRC', () => {
    const frame = withCrc(hex('01 03 00 00 00 0A'));
    for (let i = 0; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] ^= 0x01;
      expect(hasValidCrc(bad), `byte ${i} flipped`).toBe(false);
    }
    expect(hasValidCrc(hex('01 03 FF'))).toBe(false);
  });
});
