/**
 * Modbus value codec: pure functions between a tag's data type / byte order and the 16-bit
 * register words (or bits) a device serves.
 *
 * Conventions (the product's own decisions, tested against hand-computed vectors):
 * - Register words are numbers 0..65535; on the wire each word is high byte first.
 * - Byte orders name where bytes A (most significant) … D appear on the wire (see agent/core/tag.ts).
 *   They decompose into two independent swaps applied to the big-endian image:
 *   word swap (reverse the order of the words: CDAB, DCBA) and byte swap within each word
 *   (BADC, DCBA). For 64-bit values the same swaps give GHEFCDAB, BADCFEHG, HGFEDCBA.
 * - 16-bit types honour the byte swap only (ABCD/CDAB → AB, BADC/DCBA → BA), as Telegraf does.
 * - int64/uint64 decode to a `number` when the value lies within ±Number.MAX_SAFE_INTEGER and to
 *   an exact `bigint` beyond it (matching RawValue's contract; normalize turns bigints into numbers).
 * - float32/float64 that decode to NaN or ±Infinity are decode errors: a device signalling
 *   "no value" that way must not become a number downstream.
 * - bool: from a coil/discrete bit; from a register, bit `bit` (0 = least significant) of the
 *   word, or — without `bit` — true when the word is non-zero. Byte order does not apply.
 * - string: ASCII, two characters per register, high byte first regardless of `order`; the text
 *   ends at the first NUL, trailing spaces are trimmed; bytes above 0x7F are a decode error.
 */
import type { ByteOrder, DataType, ModbusAddress, RawValue } from '../../agent/core/tag.js';

export type ValueLayout = Pick<ModbusAddress, 'type' | 'order' | 'bit' | 'length'>;

export type DecodeResult = { ok: true; value: RawValue } | { ok: false; error: string };

/** Registers a value of `type` occupies. `length` is required for strings (registers, 1–125). */
export function registerCount(type: DataType, length?: number): number {
  switch (type) {
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
      if (length === undefined || !Number.isInteger(length) || length < 1 || length > 125) {
        throw new RangeError(`string needs a length of 1–125 registers, got ${String(length)}`);
      }
      return length;
  }
}

function swapsOf(order: ByteOrder): { wordSwap: boolean; byteSwap: boolean } {
  return { wordSwap: order === 'CDAB' || order === 'DCBA', byteSwap: order === 'BADC' || order === 'DCBA' };
}

/** Wire words (as served) → big-endian bytes of the value (A first). */
export function wordsToValueBytes(words: ArrayLike<number>, offset: number, count: number, order: ByteOrder): Uint8Array {
  const { wordSwap, byteSwap } = swapsOf(order);
  const bytes = new Uint8Array(count * 2);
  for (let i = 0; i < count; i++) {
    const word = words[offset + (wordSwap ? count - 1 - i : i)];
    const hi = (word >> 8) & 0xff;
    const lo = word & 0xff;
    bytes[i * 2] = byteSwap ? lo : hi;
    bytes[i * 2 + 1] = byteSwap ? hi : lo;
  }
  return bytes;
}

/** Big-endian value bytes (A first) → wire words in `order`. The inverse of `wordsToValueBytes`. */
export function valueBytesToWords(bytes: Uint8Array, order: ByteOrder): number[] {
  const { wordSwap, byteSwap } = swapsOf(order);
  const count = bytes.length / 2;
  const words = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const hi = bytes[i * 2];
    const lo = bytes[i * 2 + 1];
    words[wordSwap ? count - 1 - i : i] = byteSwap ? (lo << 8) | hi : (hi << 8) | lo;
  }
  return words;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function narrowBigInt(value: bigint): number | bigint {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

/** Decodes the value of `layout` starting at `words[offset]`. */
export function decodeRegisters(layout: ValueLayout, words: ArrayLike<number>, offset = 0): DecodeResult {
  const count = registerCount(layout.type, layout.length);
  if (offset < 0 || offset + count > words.length) {
    return { ok: false, error: `needs ${count} register(s) at offset ${offset}, response has ${words.length}` };
  }
  for (let i = 0; i < count; i++) {
    const w = words[offset + i];
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) return { ok: false, error: `register word ${String(w)} is not a uint16` };
  }
  if (layout.type === 'bool') {
    const word = words[offset];
    if (layout.bit === undefined) return { ok: true, value: word !== 0 };
    if (!Number.isInteger(layout.bit) || layout.bit < 0 || layout.bit > 15) return { ok: false, error: `bit ${layout.bit} is not 0–15` };
    return { ok: true, value: ((word >> layout.bit) & 1) === 1 };
  }
  if (layout.type === 'string') return decodeString(words, offset, count);

  const view = new DataView(wordsToValueBytes(words, offset, count, layout.order).buffer);
  switch (layout.type) {
    case 'int16':
      return { ok: true, value: view.getInt16(0) };
    case 'uint16':
      return { ok: true, value: view.getUint16(0) };
    case 'int32':
      return { ok: true, value: view.getInt32(0) };
    case 'uint32':
      return { ok: true, value: view.getUint32(0) };
    case 'int64':
      return { ok: true, value: narrowBigInt(view.getBigInt64(0)) };
    case 'uint64':
      return { ok: true, value: narrowBigInt(view.getBigUint64(0)) };
    case 'float32':
      return finite(view.getFloat32(0));
    case 'float64':
      return finite(view.getFloat64(0));
  }
}

function finite(value: number): DecodeResult {
  return Number.isFinite(value) ? { ok: true, value } : { ok: false, error: `float is ${value}` };
}

function decodeString(words: ArrayLike<number>, offset: number, count: number): DecodeResult {
  let text = '';
  for (let i = 0; i < count * 2; i++) {
    const word = words[offset + (i >> 1)];
    const byte = i % 2 === 0 ? word >> 8 : word & 0xff;
    if (byte === 0) break;
    if (byte > 0x7f) return { ok: false, error: `byte 0x${byte.toString(16)} at character ${i} is not ASCII` };
    text += String.fromCharCode(byte);
  }
  return { ok: true, value: text.replace(/ +$/, '') };
}

/** Decodes a coil or discrete input at `bits[offset]`. Only `bool` can live in a bit. */
export function decodeBit(layout: Pick<ModbusAddress, 'type'>, bits: ArrayLike<boolean>, offset = 0): DecodeResult {
  if (layout.type !== 'bool') return { ok: false, error: `type ${layout.type} cannot be read from a single bit` };
  if (offset < 0 || offset >= bits.length) return { ok: false, error: `bit offset ${offset} outside response of ${bits.length}` };
  return { ok: true, value: bits[offset] === true };
}

/**
 * Encodes `value` as the register words a device would serve for `layout` (for writes and for
 * simulators). Throws RangeError for values the type cannot hold. Strings are NUL-padded.
 * A bool with `bit` sets only that bit (other bits zero); without `bit` it is 1 or 0.
 */
export function encodeRegisters(layout: ValueLayout, value: RawValue): number[] {
  const count = registerCount(layout.type, layout.length);
  if (layout.type === 'bool') {
    if (typeof value !== 'boolean') throw new RangeError(`bool needs a boolean, got ${typeof value}`);
    return [value ? (layout.bit === undefined ? 1 : 1 << layout.bit) : 0];
  }
  if (layout.type === 'string') {
    if (typeof value !== 'string') throw new RangeError(`string needs a string, got ${typeof value}`);
    if (value.length > count * 2) throw new RangeError(`"${value}" does not fit in ${count} registers`);
    const words: number[] = [];
    for (let i = 0; i < count; i++) {
      const hi = i * 2 < value.length ? value.charCodeAt(i * 2) : 0;
      const lo = i * 2 + 1 < value.length ? value.charCodeAt(i * 2 + 1) : 0;
      if (hi > 0x7f || lo > 0x7f) throw new RangeError(`"${value}" is not ASCII`);
      words.push((hi << 8) | lo);
    }
    return words;
  }
  const bytes = new Uint8Array(count * 2);
  const view = new DataView(bytes.buffer);
  const type = layout.type;
  if (type === 'int64' || type === 'uint64') {
    if (typeof value !== 'number' && typeof value !== 'bigint') throw new RangeError(`${type} needs a number or bigint`);
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer; pass a bigint`);
    const big = BigInt(value);
    const [min, max] = type === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    if (big < min || big > max) throw new RangeError(`${big} out of range for ${type}`);
    if (type === 'int64') view.setBigInt64(0, big);
    else view.setBigUint64(0, big);
    return valueBytesToWords(bytes, layout.order);
  }
  if (typeof value !== 'number') throw new RangeError(`${type} needs a number, got ${typeof value}`);
  const ranges: Partial<Record<DataType, [number, number]>> = {
    int16: [-0x8000, 0x7fff],
    uint16: [0, 0xffff],
    int32: [-0x80000000, 0x7fffffff],
    uint32: [0, 0xffffffff],
  };
  const range = ranges[type];
  if (range && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw new RangeError(`${value} out of range for ${type}`);
  }
  switch (type) {
    case 'int16':
      view.setInt16(0, value);
      break;
    case 'uint16':
      view.setUint16(0, value);
      break;
    case 'int32':
      view.setInt32(0, value);
      break;
    case 'uint32':
      view.setUint32(0, value);
      break;
    case 'float32':
      view.setFloat32(0, value);
      break;
    case 'float64':
      view.setFloat64(0, value);
      break;
  }
  return valueBytesToWords(bytes, layout.order);
}
