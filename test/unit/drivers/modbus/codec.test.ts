import { describe, expect, it } from 'vitest';
import type { ByteOrder, DataType } from '../../../../agent/core/tag.js';
import { decodeBit, decodeRegisters, encodeRegisters, registerCount } from '../../../../drivers/modbus/codec.js';

/**
 * Every vector below is written by hand from the value's IEEE-754 / two's-complement image
 * (noted next to it), never produced by the encoder under test.
 */
type Vectors = Record<ByteOrder, number[]>;
interface Case {
  name: string;
  type: DataType;
  value: number | bigint;
  words: Vectors;
}

const CASES: Case[] = [
  // int16 -12345 = 0xCFC7; 16-bit values honour only the byte swap.
  { name: 'int16 -12345', type: 'int16', value: -12345, words: { ABCD: [0xcfc7], CDAB: [0xcfc7], BADC: [0xc7cf], DCBA: [0xc7cf] } },
  // uint16 43981 = 0xABCD
  { name: 'uint16 43981', type: 'uint16', value: 43981, words: { ABCD: [0xabcd], CDAB: [0xabcd], BADC: [0xcdab], DCBA: [0xcdab] } },
  // int32 -2 = 0xFFFFFFFE
  {
    name: 'int32 -2',
    type: 'int32',
    value: -2,
    words: { ABCD: [0xffff, 0xfffe], CDAB: [0xfffe, 0xffff], BADC: [0xffff, 0xfeff], DCBA: [0xfeff, 0xffff] },
  },
  // int32 305419896 = 0x12345678
  {
    name: 'int32 0x12345678',
    type: 'int32',
    value: 305419896,
    words: { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] },
  },
  // uint32 4023233417 = 0xEFCDAB89 (above 2^31: must stay positive)
  {
    name: 'uint32 0xEFCDAB89',
    type: 'uint32',
    value: 4023233417,
    words: { ABCD: [0xefcd, 0xab89], CDAB: [0xab89, 0xefcd], BADC: [0xcdef, 0x89ab], DCBA: [0x89ab, 0xcdef] },
  },
  // float32 123.456 = 0x42F6E979
  {
    name: 'float32 123.456',
    type: 'float32',
    value: Math.fround(123.456),
    words: { ABCD: [0x42f6, 0xe979], CDAB: [0xe979, 0x42f6], BADC: [0xf642, 0x79e9], DCBA: [0x79e9, 0xf642] },
  },
  // float32 -2.5 = 0xC0200000
  {
    name: 'float32 -2.5',
    type: 'float32',
    value: -2.5,
    words: { ABCD: [0xc020, 0x0000], CDAB: [0x0000, 0xc020], BADC: [0x20c0, 0x0000], DCBA: [0x0000, 0x20c0] },
  },
  // uint64 0x0123456789ABCDEF = 81985529216486895 > 2^53 → bigint.  ABCDEFGH = 01 23 45 67 89 AB CD EF
  {
    name: 'uint64 0x0123456789ABCDEF',
    type: 'uint64',
    value: 81985529216486895n,
    words: {
      ABCD: [0x0123, 0x4567, 0x89ab, 0xcdef], // ABCDEFGH
      CDAB: [0xcdef, 0x89ab, 0x4567, 0x0123], // GHEFCDAB
      BADC: [0x2301, 0x6745, 0xab89, 0xefcd], // BADCFEHG
      DCBA: [0xefcd, 0xab89, 0x6745, 0x2301], // HGFEDCBA
    },
  },
  // uint64 2^64-1 = 0xFFFFFFFFFFFFFFFF
  {
    name: 'uint64 max',
    type: 'uint64',
    value: 18446744073709551615n,
    words: {
      ABCD: [0xffff, 0xffff, 0xffff, 0xffff],
      CDAB: [0xffff, 0xffff, 0xffff, 0xffff],
      BADC: [0xffff, 0xffff, 0xffff, 0xffff],
      DCBA: [0xffff, 0xffff, 0xffff, 0xffff],
    },
  },
  // int64 -81985529216486895 = 0xFEDCBA9876543211 (two's complement of 0x0123456789ABCDEF)
  {
    name: 'int64 -0x0123456789ABCDEF',
    type: 'int64',
    value: -81985529216486895n,
    words: {
      ABCD: [0xfedc, 0xba98, 0x7654, 0x3211],
      CDAB: [0x3211, 0x7654, 0xba98, 0xfedc],
      BADC: [0xdcfe, 0x98ba, 0x5476, 0x1132],
      DCBA: [0x1132, 0x5476, 0x98ba, 0xdcfe],
    },
  },
  // int64 2^53 = 0x0020000000000000: first value beyond MAX_SAFE_INTEGER → bigint
  {
    name: 'int64 2^53',
    type: 'int64',
    value: 9007199254740992n,
    words: {
      ABCD: [0x0020, 0x0000, 0x0000, 0x0000],
      CDAB: [0x0000, 0x0000, 0x0000, 0x0020],
      BADC: [0x2000, 0x0000, 0x0000, 0x0000],
      DCBA: [0x0000, 0x0000, 0x0000, 0x2000],
    },
  },
  // int64 2^53-1 = 0x001FFFFFFFFFFFFF: still safe → number
  {
    name: 'int64 2^53-1',
    type: 'int64',
    value: 9007199254740991,
    words: {
      ABCD: [0x001f, 0xffff, 0xffff, 0xffff],
      CDAB: [0xffff, 0xffff, 0xffff, 0x001f],
      BADC: [0x1f00, 0xffff, 0xffff, 0xffff],
      DCBA: [0xffff, 0xffff, 0xffff, 0x1f00],
    },
  },
  // int64 -2 = 0xFFFFFFFFFFFFFFFE → number
  {
    name: 'int64 -2',
    type: 'int64',
    value: -2,
    words: {
      ABCD: [0xffff, 0xffff, 0xffff, 0xfffe],
      CDAB: [0xfffe, 0xffff, 0xffff, 0xffff],
      BADC: [0xffff, 0xffff, 0xffff, 0xfeff],
      DCBA: [0xfeff, 0xffff, 0xffff, 0xffff],
    },
  },
  // float64 123.456 = 0x405EDD2F1A9FBE77
  {
    name: 'float64 123.456',
    type: 'float64',
    value: 123.456,
    words: {
      ABCD: [0x405e, 0xdd2f, 0x1a9f, 0xbe77],
      CDAB: [0xbe77, 0x1a9f, 0xdd2f, 0x405e],
      BADC: [0x5e40, 0x2fdd, 0x9f1a, 0x77be],
      DCBA: [0x77be, 0x9f1a, 0x2fdd, 0x5e40],
    },
  },
  // float64 -2.5 = 0xC004000000000000
  {
    name: 'float64 -2.5',
    type: 'float64',
    value: -2.5,
    words: {
      ABCD: [0xc004, 0x0000, 0x0000, 0x0000],
      CDAB: [0x0000, 0x0000, 0x0000, 0xc004],
      BADC: [0x04c0, 0x0000, 0x0000, 0x0000],
      DCBA: [0x0000, 0x0000, 0x0000, 0x04c0],
    },
  },
];

const ORDERS: ByteOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

describe('decodeRegisters: every numeric type × every byte order', () => {
  for (const c of CASES) {
    for (const order of ORDERS) {
      it(`${c.name} ${order}`, () => {
        const result = decodeRegisters({ type: c.type, order }, c.words[order]);
        expect(result).toEqual({ ok: true, value: c.value });
      });
    }
  }

  it('returns a number (not a bigint) for 64-bit values within the safe range', () => {
    const result = decodeRegisters({ type: 'uint64', order: 'ABCD' }, [0, 0, 0, 42]);
    expect(result).toEqual({ ok: true, value: 42 });
    expect(typeof (result as { value: unknown }).value).toBe('number');
  });

  it('decodes at an offset inside a longer answer', () => {
    const words = [0x1111, 0x42f6, 0xe979, 0x2222];
    expect(decodeRegisters({ type: 'float32', order: 'ABCD' }, words, 1)).toEqual({ ok: true, value: Math.fround(123.456) });
    expect(decodeRegisters({ type: 'uint16', order: 'ABCD' }, words, 3)).toEqual({ ok: true, value: 0x2222 });
  });

  it('reports an answer too short for the value', () => {
    const result = decodeRegisters({ type: 'float64', order: 'ABCD' }, [0x405e, 0xdd2f, 0x1a9f], 0);
    expect(result.ok).toBe(false);
  });

  it('rejects words that are not uint16', () => {
    expect(decodeRegisters({ type: 'uint16', order: 'ABCD' }, [0x10000]).ok).toBe(false);
    expect(decodeRegisters({ type: 'uint16', order: 'ABCD' }, [-1]).ok).toBe(false);
  });
});

describe('encodeRegisters matches the hand-computed vectors', () => {
  for (const c of CASES) {
    for (const order of ORDERS) {
      it(`${c.name} ${order}`, () => {
        expect(encodeRegisters({ type: c.type, order }, c.value)).toEqual(c.words[order]);
      });
    }
  }

  it('refuses values the type cannot hold', () => {
    expect(() => encodeRegisters({ type: 'int16', order: 'ABCD' }, 40000)).toThrow(RangeError);
    expect(() => encodeRegisters({ type: 'uint32', order: 'ABCD' }, -1)).toThrow(RangeError);
    expect(() => encodeRegisters({ type: 'uint64', order: 'ABCD' }, -1n)).toThrow(RangeError);
    expect(() => encodeRegisters({ type: 'int64', order: 'ABCD' }, 2n ** 63n)).toThrow(RangeError);
    expect(() => encodeRegisters({ type: 'int64', order: 'ABCD' }, 2 ** 60)).toThrow(/bigint/);
    expect(() => encodeRegisters({ type: 'string', order: 'ABCD', length: 1 }, 'ABC')).toThrow(RangeError);
  });
});

describe('floats that are not finite are decode errors', () => {
  const bad: [string, DataType, number[]][] = [
    ['float32 NaN 0x7FC00000', 'float32', [0x7fc0, 0x0000]],
    ['float32 +Inf 0x7F800000', 'float32', [0x7f80, 0x0000]],
    ['float32 -Inf 0xFF800000', 'float32', [0xff80, 0x0000]],
    ['float32 NaN 0xFFFFFFFF (erased register)', 'float32', [0xffff, 0xffff]],
    ['float64 NaN 0x7FF8000000000000', 'float64', [0x7ff8, 0, 0, 0]],
    ['float64 +Inf 0x7FF0000000000000', 'float64', [0x7ff0, 0, 0, 0]],
  ];
  for (const [name, type, words] of bad) {
    it(name, () => {
      const result = decodeRegisters({ type, order: 'ABCD' }, words);
      expect(result.ok).toBe(false);
      expect((result as { error: string }).error).toMatch(/NaN|Infinity/);
    });
  }

  it('NaN is detected whatever the byte order (0x7FC00000 as DCBA)', () => {
    expect(decodeRegisters({ type: 'float32', order: 'DCBA' }, [0x0000, 0xc07f]).ok).toBe(false);
  });
});

describe('bool', () => {
  // 0x8005 = bits 15, 2 and 0 set
  it.each([
    [0, true],
    [1, false],
    [2, true],
    [3, false],
    [14, false],
    [15, true],
  ])('bit %i of register 0x8005 is %s', (bit, expected) => {
    expect(decodeRegisters({ type: 'bool', order: 'ABCD', bit }, [0x8005])).toEqual({ ok: true, value: expected });
  });

  it('bit numbering ignores the byte order', () => {
    expect(decodeRegisters({ type: 'bool', order: 'DCBA', bit: 15 }, [0x8000])).toEqual({ ok: true, value: true });
  });

  it('a register without `bit` is true when non-zero', () => {
    expect(decodeRegisters({ type: 'bool', order: 'ABCD' }, [0])).toEqual({ ok: true, value: false });
    expect(decodeRegisters({ type: 'bool', order: 'ABCD' }, [0x0100])).toEqual({ ok: true, value: true });
  });

  it('decodes coils and discrete inputs from bits', () => {
    const bits = [false, true, false, true];
    expect(decodeBit({ type: 'bool' }, bits, 1)).toEqual({ ok: true, value: true });
    expect(decodeBit({ type: 'bool' }, bits, 2)).toEqual({ ok: true, value: false });
    expect(decodeBit({ type: 'bool' }, bits, 4).ok).toBe(false);
    expect(decodeBit({ type: 'uint16' }, bits, 0).ok).toBe(false);
  });

  it('encodes a bit', () => {
    expect(encodeRegisters({ type: 'bool', order: 'ABCD', bit: 15 }, true)).toEqual([0x8000]);
    expect(encodeRegisters({ type: 'bool', order: 'ABCD', bit: 3 }, false)).toEqual([0]);
  });
});

describe('string', () => {
  it('reads two ASCII characters per register, high byte first', () => {
    // "AB-12": 'A'=0x41 'B'=0x42 '-'=0x2D '1'=0x31 '2'=0x32, NUL-padded
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 3 }, [0x4142, 0x2d31, 0x3200])).toEqual({ ok: true, value: 'AB-12' });
  });

  it('ignores the byte order', () => {
    expect(decodeRegisters({ type: 'string', order: 'DCBA', length: 1 }, [0x4f4b])).toEqual({ ok: true, value: 'OK' });
  });

  it('trims trailing spaces and NULs', () => {
    // "HI" + two spaces; "CH1" + NUL + NULs
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 2 }, [0x4849, 0x2020])).toEqual({ ok: true, value: 'HI' });
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 3 }, [0x4348, 0x3100, 0x0000])).toEqual({ ok: true, value: 'CH1' });
  });

  it('keeps leading and inner spaces', () => {
    // " A B" = 0x20 0x41 0x20 0x42
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 2 }, [0x2041, 0x2042])).toEqual({ ok: true, value: ' A B' });
  });

  it('all-NUL registers are the empty string', () => {
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 2 }, [0, 0])).toEqual({ ok: true, value: '' });
  });

  it('non-ASCII bytes are decode errors', () => {
    expect(decodeRegisters({ type: 'string', order: 'ABCD', length: 1 }, [0x41ff]).ok).toBe(false);
  });

  it('encodes NUL-padded', () => {
    expect(encodeRegisters({ type: 'string', order: 'ABCD', length: 3 }, 'AB-1')).toEqual([0x4142, 0x2d31, 0x0000]);
  });
});

describe('registerCount', () => {
  it.each([
    ['bool', 1],
    ['int16', 1],
    ['uint16', 1],
    ['int32', 2],
    ['uint32', 2],
    ['float32', 2],
    ['int64', 4],
    ['uint64', 4],
    ['float64', 4],
  ] as [DataType, number][])('%s takes %i', (type, count) => {
    expect(registerCount(type)).toBe(count);
  });

  it('string takes its length and requires one', () => {
    expect(registerCount('string', 10)).toBe(10);
    expect(() => registerCount('string')).toThrow(/length/);
    expect(() => registerCount('string', 126)).toThrow(/length/);
  });
});
