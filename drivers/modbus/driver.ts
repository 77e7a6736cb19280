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
import { planRequests, type ModbusReadRequest } from './planner.js';
import { decodeAnswer, describeRequest, exceptionFailure, fillBad, ModbusReadPlan, readPlan, type RequestFailure } from './request-reader.js';

export { describeRequest, ModbusReadPlan, splitRequest } from './request-reader.js';

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

  private readNow(plan: ModbusReadPlan): Promise<RawSample[]> {
    return readPlan(plan, (request, samples) => this.readStep(request, samples), (request, parts, exception) =>
      this.logger.info({ request: describeRequest(request), parts, exception }, 'merged read refused: splitting it'),
    );
  }

  private async readStep(request: ModbusReadRequest, samples: RawSample[]): Promise<RequestFailure | null> {
    if (!this.isConnected) {
      const reason: QualityReason = this.everConnected ? 'comm-lost' : 'not-connected';
      const detail = this.everConnected ? (this.lastError ?? `not connected to ${this.endpoint}`) : `not yet connected to ${this.endpoint}`;
      fillBad(samples, request, reason, detail, this.clock.now());
      return null;
    }
    return this.readOne(request, samples);
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
      fillBad(samples, request, failure.reason, failure.detail, this.clock.now());
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
    const decoded = decodeAnswer(request, answer.data, samples, timestampMs);
    if (decoded.decodeErrors > 0) {
      this.errorCounts.decode += decoded.decodeErrors;
      this.lastError = decoded.lastError;
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
    if (typeof e.modbusCode === 'number') return exceptionFailure(e.modbusCode, request);
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
