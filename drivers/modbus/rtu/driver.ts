/**
 * Modbus RTU driver: one device (unit id) on a shared line (line.ts).
 *
 * `connected` means: the line is open and this unit answers. A unit that stops answering
 * (`maxConsecutiveFailures` failed requests in a row, default 2: timeouts, or replies too damaged
 * or too late to use — a unit slower than the timeout alternates between both) is taken off the line — the rest of that
 * read comes back comm-lost without using the line, and the scheduler backs the device off on its
 * own while its neighbours keep their rate. `open()` brings it back only when it answers a probe
 * (the first request of its plan), so a dead unit costs one timeout per backoff step, not a whole
 * poll cycle of timeouts. Any answer, exceptions included, counts as answering.
 *
 * Requests: at most one in flight per device (reads are serialised here) and per line (line.ts).
 * Merged reads refused with exception 2 or 3 are split (request-reader.ts), as for Modbus TCP.
 */
import { zeroErrorCounts, type Driver, type DriverContext, type DriverErrorKind, type DriverStats, type ReadPlan } from '../../../agent/core/driver.js';
import type { DeviceSpec, ModbusRtuConnection } from '../../../agent/core/device.js';
import type { Logger } from '../../../agent/core/logger.js';
import type { Clock } from '../../../agent/core/clock.js';
import type { QualityReason } from '../../../agent/core/quality.js';
import type { RawSample } from '../../../agent/core/reading.js';
import { modbusAddressOf, type Tag } from '../../../agent/core/tag.js';
import { planRequests, type ModbusReadRequest } from '../planner.js';
import { decodeAnswer, describeRequest, exceptionFailure, fillBad, ModbusReadPlan, readPlan, type RequestFailure } from '../request-reader.js';
import type { RtuLine, RtuOutcome } from './line.js';

export interface ModbusRtuDriverOptions {
  /** Failed requests in a row (timeouts, frame errors) after which the unit is taken off the line (default 2, minimum 1). */
  maxConsecutiveFailures?: number;
}

export class ModbusRtuDriver implements Driver {
  private readonly connection: ModbusRtuConnection;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxConsecutiveFailures: number;
  private online = false;
  private everOnline = false;
  private consecutiveFailures = 0;
  private lastPlan: ModbusReadPlan | null = null;
  private readChain: Promise<unknown> = Promise.resolve();

  private requestTotal = 0;
  private readonly errorCounts: Record<DriverErrorKind, number> = zeroErrorCounts();
  private lastLatencyMs: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly device: DeviceSpec,
    private readonly line: RtuLine,
    context: DriverContext,
    options: ModbusRtuDriverOptions = {},
  ) {
    if (device.connection.protocol !== 'modbus-rtu') {
      throw new Error(`device ${device.id}: ModbusRtuDriver cannot serve protocol ${device.connection.protocol}`);
    }
    this.connection = device.connection;
    this.clock = context.clock;
    this.logger = context.logger.child({ device: device.id, driver: 'modbus-rtu', bus: this.connection.bus.id });
    this.maxConsecutiveFailures = Math.max(1, options.maxConsecutiveFailures ?? 2);
  }

  get connected(): boolean {
    return this.online && this.line.isOpen;
  }

  private get where(): string {
    return `unit ${this.connection.unitId} on bus ${this.connection.bus.id}`;
  }

  async open(): Promise<void> {
    if (this.connected) return;
    this.online = false;
    try {
      await this.line.open(this.device.id);
    } catch (err) {
      this.lastError = (err as Error).message;
      throw new Error(`device ${this.device.id}: ${(err as Error).message}`, { cause: err });
    }
    const probe = this.lastPlan?.requests[0];
    if (probe) {
      const samples: RawSample[] = [];
      const failure = await this.readOne(probe, samples);
      // An exception is an answer: the unit is there, only that read is refused.
      if (failure && failure.kind !== 'exception') {
        throw new Error(`device ${this.device.id}: ${this.where} does not answer: ${failure.detail}`);
      }
    }
    this.online = true;
    this.everOnline = true;
    this.consecutiveFailures = 0;
    this.logger.info({ unit: this.connection.unitId }, 'unit answering');
  }

  plan(tags: readonly Tag[]): ModbusReadPlan {
    const requests = planRequests(
      tags.map((tag, index) => ({ index, source: modbusAddressOf(tag) })),
      {
        unitId: this.connection.unitId,
        maxGapRegisters: this.device.maxGapRegisters,
        maxGapBits: this.device.maxGapBits,
        maxRegistersPerRequest: this.device.maxRegistersPerRequest,
        maxBitsPerRequest: this.device.maxBitsPerRequest,
      },
    );
    const plan = new ModbusReadPlan(this, requests, tags.length);
    this.lastPlan = plan;
    return plan;
  }

  read(plan: ReadPlan): Promise<RawSample[]> {
    if (!(plan instanceof ModbusReadPlan) || plan.owner !== this) {
      return Promise.reject(new Error(`device ${this.device.id}: read() needs a plan built by this driver's plan()`));
    }
    const run = this.readChain.then(() =>
      readPlan(plan, (request, samples) => this.readStep(request, samples), (request, parts, exception) =>
        this.logger.info({ request: describeRequest(request), parts, exception }, 'merged read refused: splitting it'),
      ),
    );
    this.readChain = run.catch(() => {});
    return run;
  }

  private async readStep(request: ModbusReadRequest, samples: RawSample[]): Promise<RequestFailure | null> {
    if (!this.connected) {
      const reason: QualityReason = this.everOnline ? 'comm-lost' : 'not-connected';
      fillBad(samples, request, reason, this.lastError ?? `${this.where} not reached yet`, this.clock.now());
      return null;
    }
    return this.readOne(request, samples);
  }

  private async readOne(request: ModbusReadRequest, samples: RawSample[]): Promise<RequestFailure | null> {
    this.requestTotal++;
    const outcome = await this.line.transact({
      deviceId: this.device.id,
      unitId: request.unitId,
      functionCode: request.functionCode,
      address: request.address,
      count: request.count,
      timeoutMs: this.device.timeoutMs,
    });
    const timestampMs = this.clock.now();
    if (outcome.ok) {
      this.lastLatencyMs = outcome.latencyMs;
      this.consecutiveFailures = 0;
      const decoded = decodeAnswer(request, outcome.data, samples, timestampMs);
      if (decoded.decodeErrors > 0) {
        this.errorCounts.decode += decoded.decodeErrors;
        this.lastError = decoded.lastError;
      }
      return null;
    }
    const failure = this.classify(outcome, request);
    this.errorCounts[failure.kind]++;
    this.lastError = failure.detail;
    fillBad(samples, request, failure.reason, failure.detail, timestampMs);
    // Only an answer (data or an exception) proves the unit is there; a garbled or late reply does not.
    if (failure.kind === 'timeout' || failure.kind === 'frame') {
      this.consecutiveFailures++;
      if (this.online && this.consecutiveFailures >= this.maxConsecutiveFailures) {
        this.online = false;
        this.lastError = `${this.where} stopped answering usably (${this.consecutiveFailures} failed requests in a row, last: ${failure.detail})`;
        this.logger.warn({ unit: this.connection.unitId }, 'unit taken off the line after consecutive failures');
      }
    } else if (failure.kind === 'exception') {
      this.consecutiveFailures = 0;
    }
    return failure;
  }

  private classify(outcome: Exclude<RtuOutcome, { ok: true }>, request: ModbusReadRequest): RequestFailure {
    const what = describeRequest(request);
    switch (outcome.kind) {
      case 'exception':
        this.lastLatencyMs = outcome.latencyMs;
        this.consecutiveFailures = 0;
        return exceptionFailure(outcome.exceptionCode, request);
      case 'timeout':
        return { kind: 'timeout', reason: 'timeout', detail: `${outcome.detail} ${what}`, connectionLost: false };
      case 'frame':
        return { kind: 'frame', reason: 'frame-error', detail: `${outcome.detail} ${what}`, connectionLost: false };
      case 'comm':
        return { kind: 'comm', reason: 'comm-lost', detail: `${outcome.detail} ${what}`, connectionLost: true };
    }
  }

  async close(): Promise<void> {
    const wasOnline = this.online;
    this.online = false;
    await this.line.release(this.device.id);
    if (wasOnline) this.logger.info({ unit: this.connection.unitId }, 'closed');
  }

  stats(): DriverStats {
    return {
      connected: this.connected,
      requests: this.requestTotal,
      errors: { ...this.errorCounts },
      lastLatencyMs: this.lastLatencyMs,
      lastError: this.lastError,
    };
  }
}
