import { describe, expect, it } from 'vitest';
import type { DataType, ModbusAddress, ModbusArea } from '../../../../agent/core/tag.js';
import {
  MAX_BITS_PER_REQUEST,
  MAX_REGISTERS_PER_REQUEST,
  minimumRequestCount,
  planRequests,
  type ModbusReadRequest,
  type PlannerOptions,
  type PlannerTag,
} from '../../../../drivers/modbus/planner.js';

const OPTIONS: PlannerOptions = { unitId: 1, maxGapRegisters: 0, maxGapBits: 0 };

function tag(index: number, area: ModbusArea, address: number, type: DataType = area === 'coil' || area === 'discrete' ? 'bool' : 'uint16', extra: Partial<ModbusAddress> = {}, unitId?: number): PlannerTag {
  return { index, source: { area, address, type, order: 'ABCD', ...extra }, unitId };
}

function width(t: PlannerTag): number {
  const { area, type, length } = t.source;
  if (area === 'coil' || area === 'discrete') return 1;
  return ({ bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4, string: length ?? 0 } as const)[type];
}

/** Independent check of the planning rules on a finished plan. */
function assertValidPlan(tags: readonly PlannerTag[], requests: readonly ModbusReadRequest[], options: PlannerOptions): void {
  const seen = new Map<number, number>();
  const byIndex = new Map(tags.map((t) => [t.index, t]));
  for (const r of requests) {
    const bitArea = r.functionCode <= 2;
    expect(r.functionCode).toBe({ coil: 1, discrete: 2, holding: 3, input: 4 }[r.area]);
    expect(r.count).toBeLessThanOrEqual(bitArea ? MAX_BITS_PER_REQUEST : MAX_REGISTERS_PER_REQUEST);
    expect(r.count).toBeGreaterThan(0);
    const used = new Array<boolean>(r.count).fill(false);
    for (const item of r.items) {
      const t = byIndex.get(item.tagIndex)!;
      seen.set(t.index, (seen.get(t.index) ?? 0) + 1);
      expect(t.source.area).toBe(r.area); // functions never mixed
      expect(t.unitId ?? options.unitId).toBe(r.unitId); // unit ids never mixed
      expect(item.offset).toBe(t.source.address - r.address);
      expect(item.offset).toBeGreaterThanOrEqual(0);
      expect(item.offset + width(t)).toBeLessThanOrEqual(r.count); // never split
      for (let i = 0; i < width(t); i++) used[item.offset + i] = true;
    }
    expect(used[0]).toBe(true);
    expect(used[r.count - 1]).toBe(true);
    let run = 0;
    for (const u of used) {
      run = u ? 0 : run + 1;
      expect(run).toBeLessThanOrEqual(bitArea ? options.maxGapBits : options.maxGapRegisters);
    }
  }
  for (const t of tags) expect(seen.get(t.index)).toBe(1);
}

/** Minimum over every partition of the tags into requests (exponential; small inputs only). */
function bruteForceMinimum(tags: readonly PlannerTag[], options: PlannerOptions): number {
  // `withGaps: false` checks only what adding tags can never repair (area, unit, span): a gap may
  // still be bridged by a tag assigned later, so gaps are checked on complete partitions only.
  const feasible = (block: PlannerTag[], withGaps = true): boolean => {
    const first = block[0];
    const unit = first.unitId ?? options.unitId;
    if (block.some((t) => t.source.area !== first.source.area || (t.unitId ?? options.unitId) !== unit)) return false;
    const bitArea = first.source.area === 'coil' || first.source.area === 'discrete';
    const start = Math.min(...block.map((t) => t.source.address));
    const end = Math.max(...block.map((t) => t.source.address + width(t)));
    if (end - start > (bitArea ? MAX_BITS_PER_REQUEST : MAX_REGISTERS_PER_REQUEST)) return false;
    if (!withGaps) return true;
    const used = new Array<boolean>(end - start).fill(false);
    for (const t of block) for (let i = 0; i < width(t); i++) used[t.source.address - start + i] = true;
    let run = 0;
    for (const u of used) {
      run = u ? 0 : run + 1;
      if (run > (bitArea ? options.maxGapBits : options.maxGapRegisters)) return false;
    }
    return true;
  };
  let best = Infinity;
  const blocks: PlannerTag[][] = [];
  const assign = (i: number) => {
    if (blocks.length >= best) return;
    if (i === tags.length) {
      if (blocks.every((b) => feasible(b))) best = blocks.length;
      return;
    }
    for (const block of blocks) {
      block.push(tags[i]);
      if (feasible(block, false)) assign(i + 1);
      block.pop();
    }
    blocks.push([tags[i]]);
    assign(i + 1);
    blocks.pop();
  };
  assign(0);
  return best;
}

/** Deterministic PRNG (mulberry32) so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planRequests', () => {
  it('merges contiguous registers into one FC3 request', () => {
    const tags = [tag(0, 'holding', 100, 'float32'), tag(1, 'holding', 102, 'uint16'), tag(2, 'holding', 103, 'int64')];
    const requests = planRequests(tags, OPTIONS);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ unitId: 1, functionCode: 3, area: 'holding', address: 100, count: 7 });
    expect(requests[0].items.map((i) => [i.tagIndex, i.offset])).toEqual([[0, 0], [1, 2], [2, 3]]);
  });

  it('bridges a gap of exactly maxGap and splits at maxGap + 1', () => {
    // uint16 at 0, next at 5: 4 unused registers (1..4) between them
    const tags = [tag(0, 'holding', 0), tag(1, 'holding', 5)];
    expect(planRequests(tags, { ...OPTIONS, maxGapRegisters: 4 })).toHaveLength(1);
    expect(planRequests(tags, { ...OPTIONS, maxGapRegisters: 3 })).toHaveLength(2);
  });

  it('sorts by address regardless of tag order and keeps tag indexes', () => {
    const tags = [tag(0, 'input', 10), tag(1, 'input', 2), tag(2, 'input', 6)];
    const [request] = planRequests(tags, { ...OPTIONS, maxGapRegisters: 10 });
    expect(request).toMatchObject({ functionCode: 4, address: 2, count: 9 });
    expect(request.items.map((i) => [i.tagIndex, i.offset])).toEqual([[1, 0], [2, 4], [0, 8]]);
  });

  it('uses FC1/FC2 for bits with maxGapBits, never mixing functions', () => {
    const tags = [tag(0, 'coil', 0), tag(1, 'discrete', 0), tag(2, 'coil', 10), tag(3, 'holding', 0), tag(4, 'input', 0), tag(5, 'discrete', 30)];
    const requests = planRequests(tags, { ...OPTIONS, maxGapBits: 29, maxGapRegisters: 100 });
    expect(requests.map((r) => [r.functionCode, r.address, r.count])).toEqual([
      [1, 0, 11],
      [2, 0, 31],
      [3, 0, 1],
      [4, 0, 1],
    ]);
    assertValidPlan(tags, requests, { ...OPTIONS, maxGapBits: 29, maxGapRegisters: 100 });
  });

  it('never mixes unit ids', () => {
    const tags = [tag(0, 'holding', 0, 'uint16', {}, 1), tag(1, 'holding', 1, 'uint16', {}, 2), tag(2, 'holding', 2, 'uint16', {}, 1)];
    const requests = planRequests(tags, { ...OPTIONS, maxGapRegisters: 10 });
    expect(requests.map((r) => [r.unitId, r.address, r.count])).toEqual([
      [1, 0, 3],
      [2, 1, 1],
    ]);
  });

  it('respects the 125-register limit and never splits a tag', () => {
    // 0..123 covered by uint16s, then a float32 at 124..125 would make 126 registers
    const tags = Array.from({ length: 124 }, (_, i) => tag(i, 'holding', i));
    tags.push(tag(124, 'holding', 124, 'float32'));
    const requests = planRequests(tags, { ...OPTIONS, maxGapRegisters: 124 });
    expect(requests.map((r) => [r.address, r.count])).toEqual([
      [0, 124],
      [124, 2],
    ]);
    assertValidPlan(tags, requests, { ...OPTIONS, maxGapRegisters: 124 });
  });

  it('allows exactly 125 registers in one request', () => {
    const tags = [tag(0, 'holding', 0), tag(1, 'holding', 124)];
    expect(planRequests(tags, { ...OPTIONS, maxGapRegisters: 124 })).toHaveLength(1);
    expect(planRequests([tag(0, 'holding', 0), tag(1, 'holding', 125)], { ...OPTIONS, maxGapRegisters: 124 })).toHaveLength(2);
  });

  it('respects a device\'s smaller request limits', () => {
    const tags = Array.from({ length: 10 }, (_, i) => tag(i, 'holding', i));
    expect(planRequests(tags, { ...OPTIONS, maxRegistersPerRequest: 4 }).map((r) => r.count)).toEqual([4, 4, 2]);
    expect(minimumRequestCount(tags, { ...OPTIONS, maxRegistersPerRequest: 4 })).toBe(3);
    const bits = Array.from({ length: 10 }, (_, i) => tag(i, 'coil', i));
    expect(planRequests(bits, { ...OPTIONS, maxBitsPerRequest: 8 }).map((r) => r.count)).toEqual([8, 2]);
    expect(() => planRequests([tag(0, 'holding', 0, 'float64')], { ...OPTIONS, maxRegistersPerRequest: 2 })).toThrow(/exceed one request/);
  });

  it('respects the 2000-bit limit', () => {
    const tags = [tag(0, 'coil', 0), tag(1, 'coil', 1999), tag(2, 'coil', 2000)];
    const requests = planRequests(tags, { ...OPTIONS, maxGapBits: 1999 });
    expect(requests.map((r) => [r.address, r.count])).toEqual([
      [0, 2000],
      [2000, 1],
    ]);
  });

  it('serves overlapping tags from shared words', () => {
    const tags = [
      tag(0, 'holding', 10, 'bool', { bit: 0 }),
      tag(1, 'holding', 10, 'bool', { bit: 7 }),
      tag(2, 'holding', 20, 'float32'),
      tag(3, 'holding', 21, 'uint16'),
      tag(4, 'holding', 20, 'uint16'),
    ];
    const requests = planRequests(tags, OPTIONS);
    expect(requests.map((r) => [r.address, r.count, r.items.map((i) => i.tagIndex)])).toEqual([
      [10, 1, [0, 1]],
      [20, 2, [4, 2, 3]],
    ]);
    assertValidPlan(tags, requests, OPTIONS);
  });

  it('lets a long tag carry shorter tags inside it', () => {
    const tags = [tag(0, 'holding', 0, 'string', { length: 10 }), tag(1, 'holding', 3, 'uint16'), tag(2, 'holding', 10, 'uint16')];
    const requests = planRequests(tags, OPTIONS);
    expect(requests.map((r) => [r.address, r.count])).toEqual([[0, 11]]);
  });

  it('refuses tags that cannot be read', () => {
    expect(() => planRequests([tag(0, 'coil', 0, 'float32')], OPTIONS)).toThrow(/tag #0/);
    expect(() => planRequests([tag(0, 'holding', 65535, 'float32')], OPTIONS)).toThrow(/outside/);
  });

  it('plans nothing for no tags', () => {
    expect(planRequests([], OPTIONS)).toEqual([]);
    expect(minimumRequestCount([], OPTIONS)).toBe(0);
  });
});

describe('optimality', () => {
  const TYPES: DataType[] = ['uint16', 'float32', 'float64', 'bool', 'string'];

  function randomCase(seed: number): { tags: PlannerTag[]; options: PlannerOptions } {
    const random = rng(seed);
    const n = 1 + Math.floor(random() * 7);
    const areas: ModbusArea[] = random() < 0.7 ? ['holding'] : ['holding', 'input', 'coil'];
    // addresses spread over ~300 registers so the 125 limit matters as well as the gap
    const spread = random() < 0.5 ? 40 : 300;
    const tags: PlannerTag[] = [];
    for (let i = 0; i < n; i++) {
      const area = areas[Math.floor(random() * areas.length)];
      const type = area === 'coil' ? 'bool' : TYPES[Math.floor(random() * TYPES.length)];
      const extra: Partial<ModbusAddress> = type === 'string' ? { length: 1 + Math.floor(random() * 60) } : type === 'bool' ? { bit: 3 } : {};
      tags.push(tag(i, area, Math.floor(random() * spread), type, extra, random() < 0.1 ? 2 : undefined));
    }
    const maxGap = Math.floor(random() * (random() < 0.5 ? 10 : 130));
    return { tags, options: { unitId: 1, maxGapRegisters: Math.min(maxGap, 124), maxGapBits: maxGap } };
  }

  it('planRequests and minimumRequestCount equal the brute-force minimum on 400 random small cases', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const { tags, options } = randomCase(seed);
      const requests = planRequests(tags, options);
      assertValidPlan(tags, requests, options);
      const minimum = bruteForceMinimum(tags, options);
      expect({ seed, planned: requests.length }).toEqual({ seed, planned: minimum });
      expect({ seed, dp: minimumRequestCount(tags, options) }).toEqual({ seed, dp: minimum });
    }
  });

  it('input order does not matter: interleaved distant tags still make the minimum of 2 requests', () => {
    // An "append while it fits" planner working in input order would make 4 requests here.
    const tags = [tag(0, 'holding', 0), tag(1, 'holding', 200), tag(2, 'holding', 2), tag(3, 'holding', 202)];
    const options = { ...OPTIONS, maxGapRegisters: 5 };
    expect(planRequests(tags, options)).toHaveLength(2);
    expect(bruteForceMinimum(tags, options)).toBe(2);
  });

  it('planned and minimum counts agree on a large realistic map', () => {
    const random = rng(99);
    const tags: PlannerTag[] = [];
    let address = 0;
    for (let i = 0; i < 2000; i++) {
      address += Math.floor(random() * 12);
      tags.push(tag(i, 'holding', address, TYPES[Math.floor(random() * 3)]));
    }
    for (const maxGap of [0, 4, 16, 64, 124]) {
      const options = { ...OPTIONS, maxGapRegisters: maxGap };
      const requests = planRequests(tags, options);
      assertValidPlan(tags, requests, options);
      expect(requests.length).toBe(minimumRequestCount(tags, options));
    }
  });
});
