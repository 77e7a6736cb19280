/**
 * Modbus TCP driver on modbus-serial.
 *
 * Connection: `open()` makes the TCP connection itself (net.Socket, with a connect timeout on the
 * injected clock that destroys the socket when it fires) and hands the socket to modbus-serial
 * (`linkTCP`). Owning the socket lets the driver notice a peer's close or reset immediately —
 * modbus-serial's TcpPort swallows 'close' after an 'error' and never fails the in-flight request.
 *
 * Requests: sequential, exactly one in flight; each has modbus-serial's request timeout
 * (`setTimeout(timeoutMs)`, which the library does not set by default). The only timers are those
 * of an in-flight call (connect timeout, request timeout); nothing runs between calls.
 *
 * Timeout policy: modbus-serial matches an answer to its request by MBAP transaction id and drops
 * answers to requests that already timed out, so after one timeout the connection stays usable.
 * But transaction ids wrap at 256, some gateways echo ids badly, and a device that stopped answering
 * is usually behind a half-open connection. So after `maxConsecutiveTimeouts` (default 2) timeouts
 * in a row the driver closes the connection: `connected` becomes false, the rest of that read
 * comes back 'comm-lost', and the scheduler reconnects with its backoff. Any answer (including an
 * exception) resets the count. This also bounds a read against a dead device to about
 * maxConsecutiveTimeouts × timeoutMs instead of requestCount × timeoutMs.
 *
 * Holes: merging across a gap reads registers no tag needs, and many devices answer exception 2
 * (illegal data address) when such a register does not exist. When a request of several tags gets
 * exception 2, the driver re-reads it at once split into gapless runs (and, if a run still fails,
 * into one request per tag), so only the tags at unmapped addresses come back bad. The split is kept
 * in the plan for later reads (a new `plan()` starts merged again); `requestCount` follows it.
 *
 * Error counting (`stats().errors`): timeout / exception / comm per failed request; decode per tag
 * whose value could not be decoded, and per malformed answer.
 */
import net from 'node:net';
import ModbusSerial from 'modbus-serial';
import type { Clock, TimerHandle } from '../../agent/core/clock.js';
import type { DeviceSpec, ModbusTcpConnection } from '../../agent/core/device.js';
import { zeroErrorCounts, type Driver, type DriverContext, type DriverErrorKind, type DriverStats, type ReadPlan } from '../../agent/core/driver.js';
import type { Logger } from '../../agent/core/logger.js';
import type { QualityReason } from '../../agent/core/quality.js';
import type { RawSample } from '../../agent/core/reading.js';
import { modbusAddressOf, type Tag } from '../../agent/core/tag.js';
import { decodeBit, decodeRegisters, registerCount, type DecodeResult } from './codec.js';
import { planRequests, type ModbusReadRequest, type PlannedItem } from './planner.js';

// modbus-serial is CommonJS with `module.exports.default = module.exports`; its d.ts declares
// `export default ModbusRTU`, which NodeNext types as the module object. `.default` is right for both.
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

export interface ModbusTcpDriverOptions {
  /** Consecutive request timeouts after which the connection is closed (default 2, minimum 1). */
  maxConsecutiveTimeouts?: number;
  /** TCP connect timeout (default: the device's timeoutMs). */
  connectTimeoutMs?: number;
}

/**
 * The plan this driver builds; `read` accepts only plans it built itself. Its requests can be
 * refined by `read` (see "Holes" in the file comment), so `requestCount` reflects the current split.
 */
export class ModbusReadPlan implements ReadPlan {
  readonly tagCount: number;
  private current: readonly ModbusReadRequest[];
  constructor(
    readonly owner: ModbusTcpDriver,
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

const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
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

/** A failed request, classified. */
interface RequestFailure {
  kind: DriverErrorKind;
  reason: QualityReason;
  detail: string;
  /** The connection is gone: later requests of this read are not attempted. */
  connectionLost: boolean;
  exceptionCode?: number;
}

const ILLEGAL_DATA_ADDRESS = 2;
const ILLEGAL_DATA_VALUE = 3;

class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
}

const COMM_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTCONN', 'ERR_STREAM_DESTROYED']);

export class ModbusTcpDriver implements Driver {
  private readonly connection: ModbusTcpConnection;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxConsecutiveTimeouts: number;
  private readonly connectTimeoutMs: number;

  private socket: net.Socket | null = null;
  private client: ModbusClient | null = null;
  private isConnected = false;
  private everConnected = false;
  private consecutiveTimeouts = 0;
  /** Rejects the in-flight request when the connection drops under it. */
  private abortInFlight: ((error: Error) => void) | null = null;
  /** Serialises reads so that at most one request is ever in flight. */
  private readChain: Promise<unknown> = Promise.resolve();

  private requestTotal = 0;
  private readonly errorCounts: Record<DriverErrorKind, number> = zeroErrorCounts();
  private lastLatencyMs: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly device: DeviceSpec,
    context: DriverContext,
    options: ModbusTcpDriverOptions = {},
  ) {
    if (device.connection.protocol !== 'modbus-tcp') {
      throw new Error(`device ${device.id}: ModbusTcpDriver cannot serve protocol ${device.connection.protocol}`);
    }
    this.connection = device.connection;
    this.clock = context.clock;
    this.logger = context.logger.child({ device: device.id, driver: 'modbus-tcp' });
    this.maxConsecutiveTimeouts = Math.max(1, options.maxConsecutiveTimeouts ?? 2);
    this.connectTimeoutMs = options.connectTimeoutMs ?? device.timeoutMs;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  private get endpoint(): string {
    return `${this.connection.host}:${this.connection.port}`;
  }

  async open(): Promise<void> {
    if (this.isConnected) return;
    this.teardown();
    const socket = await this.connectSocket();
    const client = new ModbusRTU();
    // modbus-serial re-emits socket errors as 'error'; without a listener they would throw.
    client.on('error', (err: unknown) => this.logger.debug({ err }, 'modbus-serial error'));
    socket.on('error', (err) => this.logger.debug({ err }, 'socket error'));
    socket.on('close', () => this.onSocketClosed(socket));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    await client.linkTCP(socket, { port: this.connection.port });
    if (socket.destroyed) {
      client.destroy(() => {});
      throw new Error(`device ${this.device.id}: connection to ${this.endpoint} closed while opening`);
    }
    // After linkTCP: set before, modbus-serial would also arm an idle timeout on the socket.
    client.setTimeout(this.device.timeoutMs);
    client.setID(this.connection.unitId);
    this.socket = socket;
    this.client = client;
    this.isConnected = true;
    this.everConnected = true;
    this.consecutiveTimeouts = 0;
    this.logger.info({ endpoint: this.endpoint }, 'connected');
  }

  private connectSocket(): Promise<net.Socket> {
    const { host, port } = this.connection;
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = new net.Socket();
      let timer: TimerHandle | null = null;
      const settle = (error: Error | null) => {
        if (timer) this.clock.clearTimeout(timer);
        timer = null;
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        if (error) {
          socket.destroy();
          this.lastError = error.message;
          reject(error);
        } else {
          resolve(socket);
        }
      };
      const onConnect = () => settle(null);
      const onError = (cause: Error) =>
        settle(new Error(`device ${this.device.id}: connect to ${host}:${port} failed: ${cause.message}`, { cause }));
      socket.once('connect', onConnect);
      socket.once('error', onError);
      timer = this.clock.setTimeout(
        () => settle(new Error(`device ${this.device.id}: connect to ${host}:${port} timed out after ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      socket.connect({ host, port });
    });
  }

  private onSocketClosed(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.markDisconnected(`connection to ${this.endpoint} closed`);
  }

  private markDisconnected(why: string): void {
    const wasConnected = this.isConnected;
    this.isConnected = false;
    const abort = this.abortInFlight;
    this.abortInFlight = null;
    abort?.(new ConnectionLostError(why));
    this.teardown();
    if (wasConnected) {
      this.lastError = why;
      this.logger.warn({ endpoint: this.endpoint }, why);
    }
  }

  /** Releases socket and client (cancelling modbus-serial's pending timers); safe to repeat. */
  private teardown(): void {
    const client = this.client;
    const socket = this.socket;
    this.client = null;
    this.socket = null;
    if (client) client.destroy(() => {});
    if (socket && !socket.destroyed) socket.destroy();
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
    return new ModbusReadPlan(this, requests, tags.length);
  }

  read(plan: ReadPlan): Promise<RawSample[]> {
    if (!(plan instanceof ModbusReadPlan) || plan.owner !== this) {
      return Promise.reject(new Error(`device ${this.device.id}: read() needs a plan built by this driver's plan()`));
    }
    const run = this.readChain.then(() => this.readNow(plan));
    this.readChain = run.catch(() => {});
    return run;
  }

  private async readNow(plan: ModbusReadPlan): Promise<RawSample[]> {
    const samples = new Array<RawSample>(plan.tagCount);
    const refined: ModbusReadRequest[] = [];
    for (const request of plan.requests) refined.push(...(await this.readAdaptive(request, samples)));
    if (refined.length !== plan.requestCount) plan.refine(refined);
    return samples;
  }

  /** Reads `request` into `samples`; returns the request(s) that should replace it in the plan. */
  private async readAdaptive(request: ModbusReadRequest, samples: RawSample[]): Promise<ModbusReadRequest[]> {
    if (!this.isConnected) {
      const reason: QualityReason = this.everConnected ? 'comm-lost' : 'not-connected';
      const detail = this.everConnected ? (this.lastError ?? `not connected to ${this.endpoint}`) : `not yet connected to ${this.endpoint}`;
      this.fillBad(samples, request, reason, detail, this.clock.now());
      return [request];
    }
    const failure = await this.readOne(request, samples);
    // Exception 2 in a merged read: a hole the device does not map. Exception 3: many devices
    // answer a request longer than they accept with "illegal data value". Either way, read the
    // request in smaller pieces so only the tags that truly fail stay bad.
    if (failure?.exceptionCode !== ILLEGAL_DATA_ADDRESS && failure?.exceptionCode !== ILLEGAL_DATA_VALUE) return [request];
    const parts = splitRequest(request);
    if (parts.length < 2) return [request];
    this.logger.info({ request: describeRequest(request), parts: parts.length, exception: failure.exceptionCode }, 'merged read refused: splitting it');
    const replacement: ModbusReadRequest[] = [];
    for (const part of parts) replacement.push(...(await this.readAdaptive(part, samples)));
    return replacement;
  }

  /** Sends one request and fills its tags' samples; returns the failure, if any. */
  private async readOne(request: ModbusReadRequest, samples: RawSample[]): Promise<RequestFailure | null> {
    this.requestTotal++;
    const startedMs = this.clock.monotonicMs();
    let answer: { data: unknown };
    try {
      answer = await this.execute(request);
    } catch (err) {
      const failure = this.classify(err, request);
      this.errorCounts[failure.kind]++;
      this.lastError = failure.detail;
      this.fillBad(samples, request, failure.reason, failure.detail, this.clock.now());
      if (failure.kind === 'timeout') {
        this.consecutiveTimeouts++;
        if (this.consecutiveTimeouts >= this.maxConsecutiveTimeouts) {
          this.markDisconnected(`closed connection to ${this.endpoint} after ${this.consecutiveTimeouts} consecutive timeouts`);
        }
      } else {
        if (failure.kind !== 'comm') this.consecutiveTimeouts = 0;
        if (failure.connectionLost) this.markDisconnected(failure.detail);
      }
      return failure;
    }
    const timestampMs = this.clock.now();
    this.lastLatencyMs = this.clock.monotonicMs() - startedMs;
    this.consecutiveTimeouts = 0;
    const data = answer.data;
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
        this.errorCounts.decode++;
        const detail = `${result.error} (${describeRequest(request)}, offset ${item.offset})`;
        this.lastError = detail;
        samples[item.tagIndex] = { tagIndex: item.tagIndex, quality: 'bad', reason: 'decode-error', detail, timestampMs };
      }
    }
    return null;
  }

  private execute(request: ModbusReadRequest): Promise<{ data: unknown }> {
    const client = this.client;
    if (!client) return Promise.reject(new ConnectionLostError(`not connected to ${this.endpoint}`));
    client.setID(request.unitId);
    return new Promise<{ data: unknown }>((resolve, reject) => {
      this.abortInFlight = reject;
      const call =
        request.functionCode === 1
          ? client.readCoils(request.address, request.count)
          : request.functionCode === 2
            ? client.readDiscreteInputs(request.address, request.count)
            : request.functionCode === 3
              ? client.readHoldingRegisters(request.address, request.count)
              : client.readInputRegisters(request.address, request.count);
      call.then(resolve, reject).finally(() => {
        if (this.abortInFlight === reject) this.abortInFlight = null;
      });
    });
  }

  private classify(err: unknown, request: ModbusReadRequest): RequestFailure {
    const e = (err ?? {}) as { name?: string; message?: string; modbusCode?: unknown; code?: unknown; errno?: unknown };
    const what = describeRequest(request);
    if (typeof e.modbusCode === 'number') {
      const name = EXCEPTION_NAMES[e.modbusCode] ?? 'unknown exception';
      return {
        kind: 'exception',
        reason: 'exception',
        detail: `exception ${e.modbusCode} (${name}) ${what}`,
        connectionLost: false,
        exceptionCode: e.modbusCode,
      };
    }
    if (e.name === 'TransactionTimedOutError' || e.message === 'Timed out') {
      return { kind: 'timeout', reason: 'timeout', detail: `no answer within ${this.device.timeoutMs} ms ${what}`, connectionLost: false };
    }
    if (
      err instanceof ConnectionLostError ||
      e.name === 'PortNotOpenError' ||
      COMM_ERROR_CODES.has(String(e.code)) ||
      COMM_ERROR_CODES.has(String(e.errno))
    ) {
      return { kind: 'comm', reason: 'comm-lost', detail: `${e.message ?? 'connection lost'} ${what}`, connectionLost: true };
    }
    // CRC, length or unit/function mismatch: the answer could not be understood.
    return { kind: 'decode', reason: 'decode-error', detail: `malformed answer ${what}: ${e.message ?? String(err)}`, connectionLost: false };
  }

  private fillBad(samples: RawSample[], request: ModbusReadRequest, reason: QualityReason, detail: string, timestampMs: number): void {
    for (const item of request.items) {
      samples[item.tagIndex] = { tagIndex: item.tagIndex, quality: 'bad', reason, detail, timestampMs };
    }
  }

  async close(): Promise<void> {
    const wasConnected = this.isConnected;
    this.isConnected = false;
    const abort = this.abortInFlight;
    this.abortInFlight = null;
    abort?.(new ConnectionLostError(`connection to ${this.endpoint} closed by the driver`));
    this.teardown();
    if (wasConnected) this.logger.info({ endpoint: this.endpoint }, 'closed');
  }

  stats(): DriverStats {
    return {
      connected: this.isConnected,
      requests: this.requestTotal,
      errors: { ...this.errorCounts },
      lastLatencyMs: this.lastLatencyMs,
      lastError: this.lastError,
    };
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
