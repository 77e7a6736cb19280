/**
 * Read planning: groups tags into as few Modbus read requests as possible.
 *
 * Rules
 * - One request reads one area (coil FC1, discrete FC2, holding FC3, input FC4) of one unit id.
 * - A request spans at most 125 registers (FC3/4) or 2000 bits (FC1/2); a tag is never split.
 * - Within a request no run of registers (bits) needed by none of its tags is longer than the
 *   allowed gap (`maxGapRegisters` / `maxGapBits`); overlapping tags simply share words.
 *
 * Why a greedy sweep is optimal. Within one (unit, area) group sort the tags by start address and
 * sweep: a tag joins the open request when the unused run before it is ≤ maxGap and the request
 * with it still fits the span limit; otherwise it opens a new request. Let f1, f2, … be the tags
 * that opened requests and E_k the end (exclusive) of request k.
 *  (1) E_k strictly increases with k: f_{k+1} opened a request because of a gap (then its start
 *      already lies beyond E_k) or because its end lies beyond start_k + limit ≥ E_k.
 *  (2) Hence every tag swept before f_{k+1} ends at or before E_k, and every tag after it starts at
 *      or after start(f_{k+1}).
 *  (3) No request of ANY plan can contain both f_j and f_k (j < k): if f_k failed on the span, the
 *      range from start(f_j) ≤ start(f_{k-1}) to end(f_k) exceeds the limit; if it failed on the
 *      gap, by (2) the registers from E_{k-1} to start(f_k) belong to no tag at all, so a request
 *      containing f_j (which starts before E_{k-1}) and f_k reads an unused run longer than maxGap.
 *  So the K opening tags are pairwise incompatible and every plan needs at least K requests: the
 *  sweep is minimal. `minimumRequestCount` computes the same minimum independently (dynamic
 *  programming over contiguous runs) and the tests check both against brute force.
 */
import type { ModbusAddress, ModbusArea } from '../../agent/core/tag.js';
import { registerCount } from './codec.js';

export type ModbusFunctionCode = 1 | 2 | 3 | 4;

export const MAX_REGISTERS_PER_REQUEST = 125;
export const MAX_BITS_PER_REQUEST = 2000;

export const FUNCTION_CODE_OF_AREA: Readonly<Record<ModbusArea, ModbusFunctionCode>> = {
  coil: 1,
  discrete: 2,
  holding: 3,
  input: 4,
};

/** A tag as the planner sees it: where it lives and its index in the caller's tag array. */
export interface PlannerTag {
  index: number;
  source: ModbusAddress;
  /** Overrides `PlannerOptions.unitId` for this tag. */
  unitId?: number;
}

export interface PlannerOptions {
  unitId: number;
  maxGapRegisters: number;
  maxGapBits: number;
  /** Largest request the device accepts (many devices take fewer than the protocol's 125 registers / 2000 bits). */
  maxRegistersPerRequest?: number;
  maxBitsPerRequest?: number;
}

/** Where one tag's value lies inside a request's answer. */
export interface PlannedItem {
  tagIndex: number;
  source: ModbusAddress;
  /** Register (or bit) offset of the tag's first word in the answer. */
  offset: number;
}

export interface ModbusReadRequest {
  unitId: number;
  functionCode: ModbusFunctionCode;
  area: ModbusArea;
  /** First register or bit read (0-based protocol address). */
  address: number;
  /** Registers (FC3/4) or bits (FC1/2) read. */
  count: number;
  items: PlannedItem[];
}

interface Span {
  tag: PlannerTag;
  unitId: number;
  start: number;
  end: number; // exclusive
}

const AREA_ORDER: readonly ModbusArea[] = ['coil', 'discrete', 'holding', 'input'];

function isBitArea(area: ModbusArea): boolean {
  return area === 'coil' || area === 'discrete';
}

function widthOf(source: ModbusAddress): number {
  return isBitArea(source.area) ? 1 : registerCount(source.type, source.length);
}

/** Groups tags by (unit id, area), each group sorted by start then end; throws for tags that cannot be read at all. */
function groupSpans(tags: readonly PlannerTag[], options: PlannerOptions): { area: ModbusArea; unitId: number; spans: Span[] }[] {
  const groups = new Map<string, { area: ModbusArea; unitId: number; spans: Span[] }>();
  for (const tag of tags) {
    const { area, address } = tag.source;
    const unitId = tag.unitId ?? options.unitId;
    const { limit } = limitsOf(area, options);
    const width = widthOf(tag.source);
    if (!(area in FUNCTION_CODE_OF_AREA)) throw new Error(`tag #${tag.index}: unknown Modbus area "${String(area)}"`);
    if (!Number.isInteger(address) || address < 0 || address + width > 65536) {
      throw new Error(`tag #${tag.index}: ${area} address ${address} (+${width}) outside 0–65535`);
    }
    if (width > limit) throw new Error(`tag #${tag.index}: ${width} registers exceed one request (${limit})`);
    if (isBitArea(area) && tag.source.type !== 'bool') {
      throw new Error(`tag #${tag.index}: ${area} holds bits; type ${tag.source.type} cannot be read from it`);
    }
    const key = `${unitId}/${area}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { area, unitId, spans: [] }));
    group.spans.push({ tag, unitId, start: address, end: address + width });
  }
  const sorted = [...groups.values()].sort(
    (a, b) => a.unitId - b.unitId || AREA_ORDER.indexOf(a.area) - AREA_ORDER.indexOf(b.area),
  );
  for (const group of sorted) group.spans.sort((a, b) => a.start - b.start || a.end - b.end || a.tag.index - b.tag.index);
  return sorted;
}

function limitsOf(area: ModbusArea, options: PlannerOptions): { maxGap: number; limit: number } {
  return isBitArea(area)
    ? { maxGap: options.maxGapBits, limit: Math.min(MAX_BITS_PER_REQUEST, options.maxBitsPerRequest ?? MAX_BITS_PER_REQUEST) }
    : { maxGap: options.maxGapRegisters, limit: Math.min(MAX_REGISTERS_PER_REQUEST, options.maxRegistersPerRequest ?? MAX_REGISTERS_PER_REQUEST) };
}

/** Plans the minimal set of read requests for `tags` (see the optimality argument above). Pure. */
export function planRequests(tags: readonly PlannerTag[], options: PlannerOptions): ModbusReadRequest[] {
  const requests: ModbusReadRequest[] = [];
  for (const group of groupSpans(tags, options)) {
    const { maxGap, limit } = limitsOf(group.area, options);
    let open: { start: number; end: number; spans: Span[] } | null = null;
    const flush = () => {
      if (!open) return;
      requests.push({
        unitId: group.unitId,
        functionCode: FUNCTION_CODE_OF_AREA[group.area],
        area: group.area,
        address: open.start,
        count: open.end - open.start,
        items: open.spans.map((s) => ({ tagIndex: s.tag.index, source: s.tag.source, offset: s.start - open!.start })),
      });
    };
    for (const span of group.spans) {
      if (open && span.start - open.end <= maxGap && Math.max(open.end, span.end) - open.start <= limit) {
        open.end = Math.max(open.end, span.end);
        open.spans.push(span);
      } else {
        flush();
        open = { start: span.start, end: span.end, spans: [span] };
      }
    }
    flush();
  }
  return requests;
}

/**
 * The least number of requests any plan obeying the rules needs for `tags`, computed
 * independently of `planRequests` (O(n²) dynamic programming over runs of address-sorted tags),
 * for the benchmark's "requests per cycle vs minimum" and as a cross-check.
 */
export function minimumRequestCount(tags: readonly PlannerTag[], options: PlannerOptions): number {
  let total = 0;
  for (const group of groupSpans(tags, options)) {
    const { maxGap, limit } = limitsOf(group.area, options);
    const spans = group.spans;
    const best = new Array<number>(spans.length + 1).fill(Infinity);
    best[0] = 0;
    for (let first = 0; first < spans.length; first++) {
      if (best[first] === Infinity) continue;
      // Extend a run spans[first..last] as far as it stays a valid request.
      let end = -Infinity;
      for (let last = first; last < spans.length; last++) {
        const s = spans[last];
        if (last > first && s.start - end > maxGap) break;
        end = Math.max(end, s.end);
        if (end - spans[first].start > limit) break;
        best[last + 1] = Math.min(best[last + 1], best[first] + 1);
      }
    }
    total += best[spans.length];
  }
  return total;
}
