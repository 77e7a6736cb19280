/** Cutting a byte stream into RTU request frames: split, concatenated, garbled and stale input. */
import { describe, expect, it } from 'vitest';
import { RtuRequestFramer, withCrc } from '../../../simulators/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const readHolding = withCrc(hex('01 03 00 00 00 0A'));
const readInput = withCrc(hex('02 04 00 10 00 02'));
const writeMultiple = withCrc(hex('01 10 00 64 00 02 04 00 0A 01 02')); // FC 16, byte count 4
const reportId = withCrc(hex('01 11')); // FC 17: no data

describe('RtuRequestFramer', () => {
  it('returns a frame delivered whole', () => {
    const framer = new RtuRequestFramer();
    expect(framer.push(readHolding)).toEqual([readHolding]);
    expect(framer.pendingBytes).toBe(0);
  });

  it('reassembles a frame delivered one byte at a time', () => {
    const framer = new RtuRequestFramer();
    const out: Buffer[] = [];
    for (const byte of readHolding) out.push(...framer.push(Uint8Array.of(byte)));
    expect(out).toEqual([readHolding]);
  });

  it('splits concatenated frames of different lengths, including one cut across chunks', () => {
    const framer = new RtuRequestFramer();
    const stream = Buffer.concat([readHolding, writeMultiple, reportId, readInput]);
    const first = framer.push(stream.subarray(0, 13));
    expect(first).toEqual([readHolding]);
    expect(framer.pendingBytes).toBe(5);
    expect(framer.push(stream.subarray(13))).toEqual([writeMultiple, reportId, readInput]);
    expect(framer.stats).toMatchObject({ frames: 4, crcErrors: 0, discardedBytes: 0 });
  });

  it('drops a frame with a bad CRC (and what is buffered behind it), then accepts the next chunk', () => {
    const framer = new RtuRequestFramer();
    const bad = Buffer.from(readHolding);
    bad[7] ^= 0xff;
    expect(framer.push(Buffer.concat([bad, readInput]))).toEqual([]);
    expect(framer.stats.crcErrors).toBe(1);
    expect(framer.pendingBytes).toBe(0);
    expect(framer.push(readInput)).toEqual([readInput]);
  });

  it('delimits an unknown function code by the first prefix with a valid CRC', () => {
    const framer = new RtuRequestFramer();
    const custom = withCrc(hex('01 41 DE AD BE EF'));
    expect(framer.push(Buffer.concat([custom, readHolding]))).toEqual([custom, readHolding]);
  });

  it('forgets a partial frame on reset() (the silent interval)', () => {
    const framer = new RtuRequestFramer();
    expect(framer.push(readHolding.subarray(0, 5))).toEqual([]);
    framer.reset();
    expect(framer.stats.discardedBytes).toBe(5);
    expect(framer.push(readInput)).toEqual([readInput]);
  });

  it('throws away garbage that never forms a frame once it exceeds the longest RTU frame', () => {
    const framer = new RtuRequestFramer();
    const garbage = Buffer.alloc(300, 0x41); // function code 0x41, no valid CRC anywhere
    expect(framer.push(garbage)).toEqual([]);
    expect(framer.pendingBytes).toBe(0);
    expect(framer.stats.crcErrors).toBe(1);
  });
});
