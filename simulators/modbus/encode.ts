/**
 * The vendor's encoder: physical value → register words. Written independently of the agent's
 * codec so that the two meet only on the wire.
 */
import type { SimulatorPoint, WordOrder } from './points.js';

const RANGES: Record<string, [number, number]> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/** Reorders big-endian bytes (A first) into the point's wire order, then splits them into words. */
function bytesToWords(bigEndian: Buffer, order: WordOrder): number[] {
  const n = bigEndian.length;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    switch (order) {
      case 'ABCD':
        out[i] = bigEndian[i];
        break;
      case 'DCBA':
        out[i] = bigEndian[n - 1 - i];
        break;
      case 'CDAB': {
        // words in reverse order, bytes within a word unchanged
        const word = Math.floor(i / 2);
        out[i] = bigEndian[(n / 2 - 1 - word) * 2 + (i % 2)];
        break;
      }
      case 'BADC':
        // bytes swapped within each word
        out[i] = bigEndian[i ^ 1];
        break;
    }
  }
  const words: number[] = [];
  for (let i = 0; i < n; i += 2) words.push(out.readUInt16BE(i));
  return words;
}

/** Register words for a numeric or string point (not for bools). */
export function encodeWords(point: SimulatorPoint, value: number | string): number[] {
  if (point.type === 'string') {
    const length = point.length ?? 1;
    const buf = Buffer.alloc(length * 2);
    buf.write(String(value).slice(0, length * 2), 'ascii');
    const words: number[] = [];
    for (let i = 0; i < buf.length; i += 2) words.push(buf.readUInt16BE(i));
    return words;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`point ${point.name}: expected a finite number, got ${String(value)}`);
  }
  const scaled = value / point.scale;
  switch (point.type) {
    case 'int16':
    case 'uint16': {
      const [lo, hi] = RANGES[point.type];
      const raw = Math.min(hi, Math.max(lo, Math.round(scaled)));
      return [raw & 0xffff];
    }
    case 'int32':
    case 'uint32': {
      const [lo, hi] = RANGES[point.type];
      const raw = Math.min(hi, Math.max(lo, Math.round(scaled)));
      const buf = Buffer.alloc(4);
      if (point.type === 'int32') buf.writeInt32BE(raw);
      else buf.writeUInt32BE(raw);
      return bytesToWords(buf, point.order);
    }
    case 'int64':
    case 'uint64': {
      const buf = Buffer.alloc(8);
      const raw = BigInt(Math.round(scaled));
      if (point.type === 'int64') buf.writeBigInt64BE(raw);
      else buf.writeBigUInt64BE(raw < 0n ? 0n : raw);
      return bytesToWords(buf, point.order);
    }
    case 'float32': {
      const buf = Buffer.alloc(4);
      buf.writeFloatBE(scaled);
      return bytesToWords(buf, point.order);
    }
    case 'float64': {
      const buf = Buffer.alloc(8);
      buf.writeDoubleBE(scaled);
      return bytesToWords(buf, point.order);
    }
    default:
      throw new TypeError(`point ${point.name}: type ${point.type} is not register-encoded`);
  }
}
