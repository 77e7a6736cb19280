/**
 * The device's register image: what a read returns. Rebuilt from the plant's values after every
 * step, so a read and `values()` agree as long as nobody steps in between.
 */
import { encodeWords } from './encode.js';
import type { DeviceMap, PointArea } from './points.js';

export class IllegalAddressError extends Error {
  readonly modbusErrorCode = 2;
  constructor(readonly msg: string) {
    super(msg);
  }
}

export class RegisterImage {
  private readonly words: Record<'holding' | 'input', Map<number, number>> = { holding: new Map(), input: new Map() };
  private readonly bits: Record<'coil' | 'discrete', Map<number, boolean>> = { coil: new Map(), discrete: new Map() };

  constructor(private readonly map: DeviceMap) {}

  update(values: Record<string, number | boolean | string>): void {
    for (const block of this.map.blocks) {
      for (let a = block.start; a < block.start + block.count; a++) {
        if (block.area === 'holding' || block.area === 'input') this.words[block.area].set(a, 0);
        else this.bits[block.area].set(a, false);
      }
    }
    const bitPoints = [];
    for (const point of this.map.points) {
      const value = values[point.name];
      if (value === undefined) throw new Error(`point ${point.name}: the plant has no value for it`);
      if (point.type === 'bool') {
        bitPoints.push(point);
        continue;
      }
      if (typeof value === 'boolean') throw new TypeError(`point ${point.name}: expected a number or string, got a boolean`);
      const words = encodeWords(point, value);
      const table = this.words[point.area as 'holding' | 'input'];
      words.forEach((w, i) => table.set(point.address + i, w));
    }
    // bools last: a bit inside a status or alarm word is set or cleared in the word already written
    for (const point of bitPoints) {
      const on = Boolean(values[point.name]);
      if (point.area === 'coil' || point.area === 'discrete') {
        this.bits[point.area].set(point.address, on);
      } else {
        const table = this.words[point.area];
        const mask = 1 << (point.bit ?? 0);
        const word = table.get(point.address) ?? 0;
        table.set(point.address, on ? word | mask : word & ~mask & 0xffff);
      }
    }
  }

  readRegisters(area: 'holding' | 'input', address: number, count: number): number[] {
    const table = this.words[area];
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const w = table.get(a);
      if (w === undefined) throw new IllegalAddressError(`${area} register ${a} is not mapped`);
      out.push(w);
    }
    return out;
  }

  readBit(area: 'coil' | 'discrete', address: number): boolean {
    const bit = this.bits[area].get(address);
    if (bit === undefined) throw new IllegalAddressError(`${area} ${address} is not mapped`);
    return bit;
  }

  isMapped(area: PointArea, address: number): boolean {
    return area === 'holding' || area === 'input' ? this.words[area].has(address) : this.bits[area].has(address);
  }
}
