/**
 * What the Modbus TCP and RTU drivers share above the wire: the plan, adaptive splitting of
 * refused merged reads, decoding an answer into samples, and naming requests and exceptions.
 * The wire (a TCP connection, a shared RS-485 line) stays with each driver.
 */
import type { DriverErrorKind, ReadPlan } from '../../agent/core/driver.js';
import type { QualityReason } from '../../agent/core/quality.js';
import type { RawSample } from '../../agent/core/reading.js';
import { decodeBit, decodeRegisters, registerCount, type DecodeResult } from './codec.js';
import { planRequests, type ModbusReadRequest, type PlannedItem } from './planner.js';

/**
 * A Modbus plan; `read` accepts only plans its driver built. Its requests can be refined by a read
 * (see `readAdaptive`), so `requestCount` reflects the current split.
 */
export class ModbusReadPlan implements ReadPlan {
  readonly tagCount: number;
  private current: readonly ModbusReadRequest[];
  constructor(
    readonly owner: object,
    requests: readonly ModbusReadRequest[],
    tagCount: number,
  ) {
    this.current = requests;
    this.tagCount = tagCount;
  }
  get requests(): readonly ModbusReadRequest[] {
    return this.current;
  }
  get requestCount(): number {
    return this.current.length;
  }
  /** @internal Only the owning driver refines its plans. */
  refine(requests: readonly ModbusReadRequest[]): void {
    this.current = requests;
  }
}

/** A failed request, classified. */
export interface RequestFailure {
  kind: DriverErrorKind;
  reason: QualityReason;
  detail: string;
  /** The connection is gone: later requests of this read are not attempted. */
  connectionLost: boolean;
  exceptionCode?: number;
}

export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function exceptionFailure(code: number, request: ModbusReadRequest): RequestFailure {
  const name = EXCEPTION_NAMES[code] ?? 'unknown exception';
  return { kind: 'exception', reason: 'exception', detail: `exception ${code} (${name}) ${describeRequest(request)}`, connectionLost: false, exceptionCode: code };
}

const ILLEGAL_DATA_ADDRESS = 2;
const ILLEGAL_DATA_VALUE = 3;

/** Sends one request and fills its tags' samples; resolves with the failure, if any. */
export type ReadOne = (request: ModbusReadRequest, samples: RawSample[]) => Promise<RequestFailure | null>;

/**
 * Reads every request of `plan` into a fresh sample array, in plan order.
 *
 * Holes: merging across a gap reads registers no tag needs, and many devices answer exception 2
 * (illegal data address) when such a register does not exist; many answer a request longer than
 * they accept with exception 3. When a request of several tags gets either, it is re-read at once
 * split into gapless runs (and, if a run still fails, into one request per tag), so only the tags
 * at unmapped addresses come back bad. The split is kept in the plan for later reads.
 */
export async function readPlan(plan: ModbusReadPlan, readOne: ReadOne, onSplit: (request: ModbusReadRequest, parts: number, exception: number) => void): Promise<RawSample[]> {
  const samples = new Array<RawSample>(plan.tagCount);
  const refined: ModbusReadRequest[] = [];
  const adaptive = async (request: ModbusReadRequest): Promise<ModbusReadRequest[]> => {
    const failure = await readOne(request, samples);
    if (failure?.exceptionCode !== ILLEGAL_DATA_ADDRESS && failure?.exceptionCode !== ILLEGAL_DATA_VALUE) return [request];
    const parts = splitRequest(request);
    if (parts.length < 2) return [request];
    onSplit(request, parts.length, failure.exceptionCode);
    const replacement: ModbusReadRequest[] = [];
    for (const part of parts) replacement.push(...(await adaptive(part)));
    return replacement;
  };
  for (const request of plan.requests) refined.push(...(await adaptive(request)));
  if (refined.length !== plan.requestCount) plan.refine(refined);
  return samples;
}

/**
 * Decodes an answer (bits for FC1/2, registers for FC3/4) into the samples of the request's tags.
 * Returns the number of tags that could not be decoded and the last such error.
 */
export function decodeAnswer(request: ModbusReadRequest, data: unknown, samples: RawSample[], timestampMs: number): { decodeErrors: number; lastError: string | null } {
  let decodeErrors = 0;
  let lastError: string | null = null;
  for (const item of request.items) {
    let result: DecodeResult;
    if (!Array.isArray(data)) {
      result = { ok: false, error: 'answer carries no data array' };
    } else if (request.functionCode <= 2) {
      result = data.length >= request.count ? decodeBit(item.source, data as boolean[], item.offset) : short(data.length, request.count);
    } else {
      result = data.length === request.count ? decodeRegisters(item.source, data as number[], item.offset) : short(data.length, request.count);
    }
    if (result.ok) {
      samples[item.tagIndex] = { tagIndex: item.tagIndex, value: result.value, quality: 'good', timestampMs };
    } else {
      decodeErrors++;
      const detail = `${result.error} (${describeRequest(request)}, offset ${item.offset})`;
      lastError = detail;
      samples[item.tagIndex] = { tagIndex: item.tagIndex, quality: 'bad', reason: 'decode-error', detail, timestampMs };
    }
  }
  return { decodeErrors, lastError };
}

export function fillBad(samples: RawSample[], request: ModbusReadRequest, reason: QualityReason, detail: string, timestampMs: number): void {
  for (const item of request.items) {
    samples[item.tagIndex] = { tagIndex: item.tagIndex, quality: 'bad', reason, detail, timestampMs };
  }
}

/**
 * Splits a request that hit an unmapped address: into gapless runs if it reads unused registers,
 * else into one request per distinct tag span (overlapping tags with the same span stay together).
 */
export function splitRequest(request: ModbusReadRequest): ModbusReadRequest[] {
  const tags = request.items.map((item) => ({ index: item.tagIndex, source: item.source }));
  const runs = planRequests(tags, { unitId: request.unitId, maxGapRegisters: 0, maxGapBits: 0 });
  if (runs.length > 1) return runs;
  const bySpan = new Map<string, PlannedItem[]>();
  for (const item of request.items) {
    const end = request.functionCode <= 2 ? 1 : registerCount(item.source.type, item.source.length);
    const key = `${item.offset}+${end}`;
    bySpan.set(key, [...(bySpan.get(key) ?? []), item]);
  }
  return [...bySpan.values()].map((items) => {
    const start = request.address + items[0].offset;
    const count = request.functionCode <= 2 ? 1 : registerCount(items[0].source.type, items[0].source.length);
    return { ...request, address: start, count, items: items.map((item) => ({ ...item, offset: 0 })) };
  });
}

function short(got: number, expected: number): DecodeResult {
  return { ok: false, error: `answer has ${got} values, expected ${expected}` };
}

/** "reading holding 100..109 (unit 1)" */
export function describeRequest(request: ModbusReadRequest): string {
  return `reading ${request.area} ${request.address}..${request.address + request.count - 1} (unit ${request.unitId})`;
}
