import { describe, expect, it } from 'vitest';
import type { ModbusAddress } from '../../../../agent/core/tag.js';
import { splitRequest } from '../../../../drivers/modbus/driver.js';
import { planRequests } from '../../../../drivers/modbus/planner.js';

const src = (address: number, type: ModbusAddress['type'], extra: Partial<ModbusAddress> = {}): ModbusAddress => ({
  area: 'holding',
  address,
  type,
  order: 'ABCD',
  ...extra,
});

describe('splitRequest (after exception 2 on a merged read)', () => {
  it('first splits a request with gaps into gapless runs', () => {
    const tags = [
      { index: 0, source: src(10, 'float32') },
      { index: 1, source: src(12, 'uint16') },
      { index: 2, source: src(20, 'uint16') },
    ];
    const [merged] = planRequests(tags, { unitId: 3, maxGapRegisters: 20, maxGapBits: 0 });
    const parts = splitRequest(merged);
    expect(parts.map((p) => [p.unitId, p.functionCode, p.address, p.count, p.items.map((i) => [i.tagIndex, i.offset])])).toEqual([
      [3, 3, 10, 3, [[0, 0], [1, 2]]],
      [3, 3, 20, 1, [[2, 0]]],
    ]);
  });

  it('then splits a gapless run per tag span, keeping tags that share a span together', () => {
    const tags = [
      { index: 0, source: src(10, 'bool', { bit: 0 }) },
      { index: 1, source: src(10, 'bool', { bit: 1 }) },
      { index: 2, source: src(11, 'float32') },
      { index: 3, source: src(12, 'uint16') },
    ];
    const [run] = planRequests(tags, { unitId: 1, maxGapRegisters: 0, maxGapBits: 0 });
    expect(run.count).toBe(3);
    const parts = splitRequest(run);
    expect(parts.map((p) => [p.address, p.count, p.items.map((i) => [i.tagIndex, i.offset])])).toEqual([
      [10, 1, [[0, 0], [1, 0]]],
      [11, 2, [[2, 0]]],
      [12, 1, [[3, 0]]],
    ]);
    // a single span cannot be split further
    expect(splitRequest(parts[0])).toHaveLength(1);
  });
});
