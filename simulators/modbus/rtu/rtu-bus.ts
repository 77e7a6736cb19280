/**
 * One simulated RS-485 bus: several units (unit id → register image) answering raw RTU frames on
 * any number of links — a TCP listener (what a serial-to-Ethernet converter offers: "RTU over
 * TCP") or any Node Duplex stream (a serial pty, an in-memory pair in tests).
 *
 * As on a real bus: a frame with a bad CRC, for an unknown unit id, for broadcast (unit 0) or for
 * a device that is offline gets no answer at all. Requests on one link are answered one at a time
 * and in order, even while a unit's reply is delayed (the bus is busy until the reply is out).
 *
 * Fault hooks for tests: `setResponseDelayMs(unitId, ms)` (a slow device) and `garbleNext(unitId)`
 * (the next reply from that unit has one byte flipped, so the master sees a CRC error).
 *
 * Line pacing (option `baudRate`): a reply is written no earlier than the request, the 3.5-character
 * turnaround and the reply itself would have taken on a real wire, counted from the request's
 * arrival (or from the previous reply on the same link, if the master did not wait for it) — see
 * `transactionTimeMs`. Without `baudRate` replies leave at once.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkLineTiming, transactionTimeMs, type LineTiming } from './line-timing.js';
import { RtuRequestFramer } from './request-framer.js';
import { answerRequest, type RegisterSource } from './responder.js';

export interface RtuBusOptions {
  /** Unit id (1..247) → the register image it answers from. */
  units: ReadonlyMap<number, RegisterSource> | Readonly<Record<number, RegisterSource>>;
  /**
   * A partial frame left this long without more bytes is dropped: the stream's stand-in for the
   * RTU silent interval. Default 100 ms.
   */
  idleResetMs?: number;
  /**
   * Pace replies as on a serial line of this speed (bits/s, e.g. 9600 or 115200). Absent = no
   * pacing: replies leave as soon as they are computed.
   */
  baudRate?: number;
  /** Bits per character on that line; default 11 (start, 8 data, parity or 2nd stop, stop). */
  bitsPerChar?: number;
}

export interface RtuBusStats {
  /** Frames with a valid CRC, whoever they were for. */
  requests: number;
  /** Replies written (exceptions and garbled ones included). */
  replies: number;
  /** Exception replies among them. */
  exceptions: number;
  /** Requests dropped for a bad CRC (each may have taken following bytes with it). */
  crcErrors: number;
  /** Valid frames nobody answered: unknown unit id, broadcast, the device offline, or its image failing to read. */
  unanswered: number;
}

/** Per link: when the line is free again (performance.now() ms), for pacing. */
interface LinkLine {
  freeAtMs: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

export class RtuBus {
  private readonly units = new Map<number, RegisterSource>();
  private readonly delays = new Map<number, number>();
  private readonly garble = new Set<number>();
  private readonly links = new Set<() => void>();
  private readonly pending = new Set<PendingDelay>();
  private readonly counters = { requests: 0, replies: 0, exceptions: 0, unanswered: 0 };
  private readonly framers = new Set<RtuRequestFramer>();
  private crcErrorsOfClosedLinks = 0;
  private readonly idleResetMs: number;
  private readonly line: LineTiming | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(options: RtuBusOptions) {
    const entries = options.units instanceof Map ? [...options.units] : Object.entries(options.units).map(([k, v]) => [Number(k), v] as const);
    for (const [unitId, source] of entries) {
      if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247) throw new RangeError(`RTU bus: unit id must be 1..247, got ${unitId}`);
      this.units.set(unitId, source);
    }
    this.idleResetMs = options.idleResetMs ?? 100;
    if (options.baudRate !== undefined) {
      this.line = { baudRate: options.baudRate, bitsPerChar: options.bitsPerChar };
      checkLineTiming(this.line, 'RTU bus');
    } else if (options.bitsPerChar !== undefined) {
      throw new RangeError('RTU bus: bitsPerChar needs a baudRate');
    }
  }

  /** The line speed replies are paced to, or undefined when they are not paced. */
  get baudRate(): number | undefined {
    return this.line?.baudRate;
  }

  get unitIds(): number[] {
    return [...this.units.keys()];
  }

  get stats(): RtuBusStats {
    let crcErrors = this.crcErrorsOfClosedLinks;
    for (const f of this.framers) crcErrors += f.stats.crcErrors;
    return { ...this.counters, crcErrors };
  }

  /** The port of the TCP listener (after `listen`). */
  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('RTU bus: not listening on TCP');
    return (address as AddressInfo).port;
  }

  /** Delays every reply of `unitId` by `ms` (0 = answer at once). */
  setResponseDelayMs(unitId: number, ms: number): void {
    this.requireUnit(unitId);
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`RTU bus: response delay must be >= 0 ms, got ${ms}`);
    if (ms === 0) this.delays.delete(unitId);
    else this.delays.set(unitId, ms);
  }

  /** The next reply of `unitId` goes out with its last data byte flipped: its CRC no longer matches. */
  garbleNext(unitId: number): void {
    this.requireUnit(unitId);
    this.garble.add(unitId);
  }

  /**
   * Serves the bus on a Duplex stream until the stream closes or the returned function is called.
   * The caller keeps owning the stream (it is not destroyed on detach).
   */
  attach(stream: Duplex): () => void {
    if (this.closed) throw new Error('RTU bus: closed');
    const framer = new RtuRequestFramer();
    this.framers.add(framer);
    let chain = Promise.resolve();
    let idle: NodeJS.Timeout | undefined;
    let attached = true;
    const line: LinkLine = { freeAtMs: 0 };

    const onData = (chunk: Buffer): void => {
      const arrivedMs = performance.now();
      if (idle) clearTimeout(idle);
      idle = undefined;
      for (const frame of framer.push(chunk)) {
        this.counters.requests++;
        chain = chain.then(() => this.serve(frame, stream, () => attached, arrivedMs, line));
      }
      if (framer.pendingBytes > 0) {
        idle = setTimeout(() => framer.reset(), this.idleResetMs);
        idle.unref();
      }
    };
    const detach = (): void => {
      if (!attached) return;
      attached = false;
      if (idle) clearTimeout(idle);
      stream.off('data', onData);
      stream.off('close', detach);
      this.crcErrorsOfClosedLinks += framer.stats.crcErrors;
      this.framers.delete(framer);
      this.links.delete(detach);
    };
    stream.on('data', onData);
    stream.on('close', detach);
    this.links.add(detach);
    return detach;
  }

  /** Listens for RTU-over-TCP connections; port 0 (default) = an ephemeral port. Resolves with the bound port. */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    if (this.closed) throw new Error('RTU bus: closed');
    if (this.server) throw new Error(`RTU bus: already listening on port ${this.port}`);
    const server = createServer((socket) => {
      this.sockets.add(socket);
      // a master dropping its connection must not take the simulator down
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
      this.attach(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`RTU bus: cannot listen on ${host}:${port}`, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    server.on('error', () => {});
    this.server = server;
    return this.port;
  }

  /** Stops the TCP listener, drops its connections, detaches every stream and cancels delayed replies. */
  async close(): Promise<void> {
    this.closed = true;
    for (const detach of [...this.links]) detach();
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.resolve();
    }
    this.pending.clear();
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private requireUnit(unitId: number): void {
    if (!this.units.has(unitId)) throw new Error(`RTU bus: no unit ${unitId} (units: ${this.unitIds.join(', ')})`);
  }

  private async serve(frame: Buffer, stream: Duplex, isAttached: () => boolean, arrivedMs: number, line: LinkLine): Promise<void> {
    const unitId = frame[0];
    const unit = this.units.get(unitId);
    if (!unit || (unit.isOnline && !unit.isOnline())) {
      this.counters.unanswered++;
      return;
    }
    let reply: Buffer;
    try {
      reply = answerRequest(frame, unit);
    } catch {
      // a broken image must not wedge the link: the device just does not answer, as a crashed one would
      this.counters.unanswered++;
      return;
    }
    if (this.garble.delete(unitId)) reply[reply.length - 3] ^= 0xff;
    const delayMs = this.delays.get(unitId) ?? 0;
    if (this.line) {
      // the wire time counts from the arrival, or from the end of the previous reply if the line was still busy
      const dueMs = Math.max(arrivedMs, line.freeAtMs) + transactionTimeMs(frame.length, reply.length, this.line) + delayMs;
      line.freeAtMs = dueMs;
      await this.waitUntil(dueMs);
    } else if (delayMs > 0) {
      await this.wait(delayMs);
    }
    if (this.closed || !isAttached() || stream.destroyed || !stream.writable) return;
    this.counters.replies++;
    if (reply[1] & 0x80) this.counters.exceptions++;
    stream.write(reply);
  }

  /** Resolves at performance.now() >= dueMs (timers may fire early by a rounding; checked again) or on close. */
  private async waitUntil(dueMs: number): Promise<void> {
    for (;;) {
      const remainingMs = dueMs - performance.now();
      if (remainingMs <= 0 || this.closed) return;
      await this.wait(Math.ceil(remainingMs));
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry: PendingDelay = {
        timer: setTimeout(() => {
          this.pending.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.pending.add(entry);
    });
  }
}
