/**
 * The bulk device of the benchmark: a synthetic meter/controller with up to 1 000 tags, served by
 * the load process and described to the agent as a profile. One definition feeds both sides, so
 * the tags the agent polls are exactly the registers the device answers.
 *
 * Why 1 000 tags per device: the outbox is sized for one record per device per cycle of about a
 * thousand readings (see agent/buffer/sqlite-outbox.ts), and a thousand-tag controller is at the
 * large end of real plant devices. 50 000 tags are then 50 devices, 50 poll loops, 50 records/s.
 *
 * Layout of a full device (unit 1), chosen so the planner has real decisions to make:
 *   holding 0…1451    700 float32 ABCD in 14 groups of 50 (100 registers), each group followed by
 *                     4 reserved registers that are mapped (read 0) — merging across them is legal
 *                     and saves requests; float32 never splits, so requests stop at 124 registers
 *   holding 5000…5199 100 float32 CDAB (word-swapped); 1452…4999 is unmapped (a read there is
 *                     exception 2), far beyond maxGapRegisters, so no request may bridge it
 *   input   0…149     150 int16, scale 0.1 (temperatures)
 *   input   150…199   unmapped hole (50 > maxGapRegisters 16)
 *   input   200…233   34 uint16 counters
 *   input   234       one status word carrying 16 bool tags (bits 0…15): tags sharing a register
 * A device with fewer tags takes a prefix of this list (and maps only what it uses, plus the
 * reserved words between its float groups).
 *
 * Every value changes every second, so report-by-exception cannot hide work (and the bench also
 * sets maxSilenceMs 0, which reports every poll).
 */
import type { TagFieldsConfig } from '../config/schema.js';

export const BULK_TAGS_PER_DEVICE = 1000;

export type RegisterArea = 'holding' | 'input';

export interface BulkTag {
  name: string;
  area: RegisterArea;
  address: number;
  type: 'float32' | 'int16' | 'uint16' | 'bool';
  order: 'ABCD' | 'CDAB';
  scale: number;
  unit: string;
  bit?: number;
}

/** A range of registers the device answers. */
export interface RegisterBlock {
  area: RegisterArea;
  start: number;
  count: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function fullLayout(): BulkTag[] {
  const tags: BulkTag[] = [];
  for (let i = 0; i < 700; i++) {
    const group = Math.floor(i / 50);
    tags.push({ name: `meter_${pad(i, 3)}_kw`, area: 'holding', address: group * 104 + (i % 50) * 2, type: 'float32', order: 'ABCD', scale: 1, unit: 'kW' });
  }
  for (let i = 0; i < 100; i++) {
    tags.push({ name: `flow_${pad(i, 3)}_m3h`, area: 'holding', address: 5000 + i * 2, type: 'float32', order: 'CDAB', scale: 1, unit: 'm3/h' });
  }
  for (let i = 0; i < 150; i++) {
    tags.push({ name: `temp_${pad(i, 3)}_c`, area: 'input', address: i, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C' });
  }
  for (let i = 0; i < 34; i++) {
    tags.push({ name: `count_${pad(i, 3)}`, area: 'input', address: 200 + i, type: 'uint16', order: 'ABCD', scale: 1, unit: '' });
  }
  for (let bit = 0; bit < 16; bit++) {
    tags.push({ name: `alarm_${pad(bit, 2)}`, area: 'input', address: 234, type: 'bool', order: 'ABCD', scale: 1, unit: '', bit });
  }
  if (tags.length !== BULK_TAGS_PER_DEVICE) throw new Error(`bulk layout has ${tags.length} tags, expected ${BULK_TAGS_PER_DEVICE}`);
  return tags;
}

const FULL = fullLayout();

/** The first `count` tags of the layout. */
export function bulkTags(count: number): BulkTag[] {
  if (!Number.isInteger(count) || count < 1 || count > BULK_TAGS_PER_DEVICE) {
    throw new Error(`a bulk device has 1–${BULK_TAGS_PER_DEVICE} tags, got ${count}`);
  }
  return FULL.slice(0, count);
}

function width(tag: BulkTag): number {
  return tag.type === 'float32' ? 2 : 1;
}

/**
 * The registers the device answers: every tagged register, plus the reserved words between two
 * float groups of the same block (≤ 4 registers). Larger distances stay unmapped holes.
 */
export function bulkBlocks(tags: readonly BulkTag[]): RegisterBlock[] {
  const blocks: RegisterBlock[] = [];
  for (const area of ['holding', 'input'] as const) {
    const spans = tags
      .filter((t) => t.area === area)
      .map((t) => ({ start: t.address, end: t.address + width(t) }))
      .sort((a, b) => a.start - b.start);
    let open: { start: number; end: number } | null = null;
    for (const s of spans) {
      if (open && s.start - open.end <= 4) open.end = Math.max(open.end, s.end);
      else {
        if (open) blocks.push({ area, start: open.start, count: open.end - open.start });
        open = { ...s };
      }
    }
    if (open) blocks.push({ area, start: open.start, count: open.end - open.start });
  }
  return blocks;
}

/** The profile the agent uses for a bulk device of `count` tags (deadband 0: every change counts). */
export function bulkProfile(count: number): { name: string; description: string; protocol: 'modbus'; tags: TagFieldsConfig[] } {
  return {
    name: `bench-bulk-${count}`,
    description: `benchmark bulk device with ${count} tags (bench/bulk-device.ts)`,
    protocol: 'modbus',
    tags: bulkTags(count).map((t) => ({
      name: t.name,
      area: t.area,
      address: t.address,
      type: t.type,
      ...(t.order !== 'ABCD' ? { order: t.order } : {}),
      ...(t.scale !== 1 ? { scale: t.scale } : {}),
      ...(t.bit !== undefined ? { bit: t.bit } : {}),
      unit: t.unit,
    })),
  };
}

/**
 * The device's register image, rewritten by `update(second)`: every value moves every second.
 * Holes are kept as a per-register "mapped" flag; reading an unmapped register is exception 2.
 */
export class BulkImage {
  readonly words: Record<RegisterArea, Uint16Array> = { holding: new Uint16Array(65536), input: new Uint16Array(65536) };
  readonly mapped: Record<RegisterArea, Uint8Array> = { holding: new Uint8Array(65536), input: new Uint8Array(65536) };
  private readonly scratch = new DataView(new ArrayBuffer(4));

  constructor(
    readonly tags: readonly BulkTag[],
    private readonly seed: number,
  ) {
    for (const b of bulkBlocks(tags)) this.mapped[b.area].fill(1, b.start, b.start + b.count);
    this.update(0);
  }

  update(second: number): void {
    const t = second + this.seed * 0.37;
    for (let i = 0; i < this.tags.length; i++) {
      const tag = this.tags[i];
      const table = this.words[tag.area];
      switch (tag.type) {
        case 'float32': {
          this.scratch.setFloat32(0, 100 + 50 * Math.sin(t / 7 + i) + (second % 10) * 0.001);
          const hi = this.scratch.getUint16(0);
          const lo = this.scratch.getUint16(2);
          if (tag.order === 'ABCD') {
            table[tag.address] = hi;
            table[tag.address + 1] = lo;
          } else {
            table[tag.address] = lo;
            table[tag.address + 1] = hi;
          }
          break;
        }
        case 'int16':
          table[tag.address] = Math.round((20 + 15 * Math.sin(t / 5 + i)) / tag.scale) & 0xffff;
          break;
        case 'uint16':
          table[tag.address] = (second * 7 + i) & 0xffff;
          break;
        case 'bool': {
          const mask = 1 << tag.bit!;
          const on = ((second + tag.bit!) & 1) === 1;
          table[tag.address] = on ? table[tag.address] | mask : table[tag.address] & ~mask & 0xffff;
          break;
        }
      }
    }
  }
}
