import { describe, expect, it } from 'vitest';
import { encodeWords } from '../../../simulators/modbus/encode.js';
import type { SimulatorPoint } from '../../../simulators/modbus/points.js';

const point = (over: Partial<SimulatorPoint>): SimulatorPoint => ({
  name: 'p',
  area: 'holding',
  address: 0,
  type: 'uint16',
  order: 'ABCD',
  scale: 1,
  unit: '',
  description: '',
  ...over,
});

describe('vendor register encoding (known answers, independent of any decoder)', () => {
  it('float32 123.456 = 0x42F6E979 in every byte order', () => {
    expect(encodeWords(point({ type: 'float32', order: 'ABCD' }), 123.456)).toEqual([0x42f6, 0xe979]);
    expect(encodeWords(point({ type: 'float32', order: 'CDAB' }), 123.456)).toEqual([0xe979, 0x42f6]);
    expect(encodeWords(point({ type: 'float32', order: 'BADC' }), 123.456)).toEqual([0xf642, 0x79e9]);
    expect(encodeWords(point({ type: 'float32', order: 'DCBA' }), 123.456)).toEqual([0x79e9, 0xf642]);
  });

  it('64-bit values extend the rule to eight bytes (CDAB = GHEFCDAB)', () => {
    // bytes A..H = 00 01 02 03 04 05 06 07 (a safe integer, so exactly representable)
    const exact = 0x0001020304050607;
    expect(Number.isSafeInteger(exact)).toBe(true);
    expect(encodeWords(point({ type: 'uint64', order: 'ABCD' }), exact)).toEqual([0x0001, 0x0203, 0x0405, 0x0607]);
    expect(encodeWords(point({ type: 'uint64', order: 'CDAB' }), exact)).toEqual([0x0607, 0x0405, 0x0203, 0x0001]);
    expect(encodeWords(point({ type: 'uint64', order: 'BADC' }), exact)).toEqual([0x0100, 0x0302, 0x0504, 0x0706]);
    expect(encodeWords(point({ type: 'uint64', order: 'DCBA' }), exact)).toEqual([0x0706, 0x0504, 0x0302, 0x0100]);
    // 1.5 as float64 = 0x3FF8000000000000
    expect(encodeWords(point({ type: 'float64', order: 'ABCD' }), 1.5)).toEqual([0x3ff8, 0, 0, 0]);
    expect(encodeWords(point({ type: 'float64', order: 'CDAB' }), 1.5)).toEqual([0, 0, 0, 0x3ff8]);
  });

  it('scaled integers round to the nearest count, negative int16 is two’s complement, out of range clamps', () => {
    expect(encodeWords(point({ type: 'int16', scale: 0.1 }), 7.04)).toEqual([70]);
    expect(encodeWords(point({ type: 'int16', scale: 0.1 }), -2.5)).toEqual([0xffe7]); // −25 counts
    expect(encodeWords(point({ type: 'uint16', scale: 0.01 }), 50.016)).toEqual([5002]);
    expect(encodeWords(point({ type: 'uint16' }), 70000)).toEqual([65535]);
    expect(encodeWords(point({ type: 'int16' }), -40000)).toEqual([0x8000]);
    expect(encodeWords(point({ type: 'uint32', order: 'ABCD' }), 0x12345678)).toEqual([0x1234, 0x5678]);
    expect(encodeWords(point({ type: 'uint32', order: 'CDAB' }), 0x12345678)).toEqual([0x5678, 0x1234]);
    expect(encodeWords(point({ type: 'int32', order: 'ABCD' }), -2)).toEqual([0xffff, 0xfffe]);
  });

  it('strings: two ASCII characters per register, first in the high byte, NUL padded', () => {
    expect(encodeWords(point({ type: 'string', length: 3 }), 'ABC')).toEqual([0x4142, 0x4300, 0x0000]);
    expect(encodeWords(point({ type: 'string', length: 1 }), 'TOOLONG')).toEqual([0x544f]);
  });

  it('refuses a non-finite number with the point named', () => {
    expect(() => encodeWords(point({ name: 'oil_temp', type: 'int16' }), Number.NaN)).toThrow(/oil_temp/);
  });
});
