/**
 * One shared RTU line — a serial port, or a serial-to-Ethernet converter passing raw RTU frames
 * over TCP — and the transaction discipline RS-485 needs.
 *
 * - One transaction at a time: request out, reply (or timeout) in, then the inter-frame gap of
 *   silence before the next request.
 * - Fair: every device on the line has its own queue and the line takes them in turn
 *   (round-robin), so a device with many requests, or a slow one, gets its share and no more.
 *   A dead device costs one timeout per attempt; its driver takes it off the line (backoff) after
 *   consecutive timeouts, so the others keep their rate.
 * - Replies are checked (frame.ts): bad CRC, short frame, wrong function, wrong byte count fail the
 *   transaction as a frame error. A complete, valid frame from another unit is dropped and counted —
 *   as a late reply when it comes from the unit whose request last timed out — and the line keeps
 *   waiting for its own answer. After a failed transaction the line waits a recovery time before
 *   the next request; bytes arriving then, or while no request is out, are late replies and dropped.
 * - The line opens when the first device needs it and closes when the last device releases it. A
 *   port that vanishes fails the transaction in flight and every queued one (comm); reopening is
 *   paced by the line's own backoff, however many devices ask.
 *
 * Timers: only those of a transaction in flight (its timeout, the gap after it) and of an open in
 * progress; nothing runs while the line is idle.
 */
import { statSync } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { backoffDelayMs } from '../../../agent/core/backoff.js';
import type { BusErrorCounts, BusHealth } from '../../../agent/core/bus.js';
import type { Clock, TimerHandle } from '../../../agent/core/clock.js';
import { describeBus, type RtuBusSpec } from '../../../agent/core/device.js';
import type { Logger } from '../../../agent/core/logger.js';
import type { ModbusFunctionCode } from '../planner.js';
import { encodeReadRequest, parseReply, replyLength, type FrameErrorKind } from './frame.js';

export interface RtuTransaction {
  /** The device the request is for (its queue on the line). */
  deviceId: string;
  unitId: number;
  functionCode: ModbusFunctionCode;
  address: number;
  count: number;
  timeoutMs: number;
}

export type RtuOutcome =
  | { ok: true; data: number[] | boolean[]; latencyMs: number }
  | { ok: false; kind: 'exception'; exceptionCode: number; latencyMs: number }
  | { ok: false; kind: 'timeout' | 'comm'; detail: string }
  | { ok: false; kind: 'frame'; frame: FrameErrorKind; detail: string };

/** An open line: its byte stream, and a check that the port is still the one that was opened. */
export interface RtuTransport {
  stream: Duplex;
  /**
   * False when the port has vanished (a USB adapter unplugged: the path is gone or names another
   * device). serialport does not always notice by itself — on a vanished pty it can keep reading
   * nothing without an event — so the line asks after every timeout.
   */
  isPresent(): boolean;
}

/** Opens a line; replaceable in tests of the line discipline. */
export type OpenTransport = (spec: RtuBusSpec, timeoutMs: number, clock: Clock) => Promise<RtuTransport>;

interface Pending {
  tx: RtuTransaction;
  resolve: (outcome: RtuOutcome) => void;
}

interface Active {
  pending: Pending;
  startedMono: number;
  timer: TimerHandle | null;
  rx: Buffer;
}

const ERROR_OF_FRAME: Readonly<Record<FrameErrorKind, keyof BusErrorCounts>> = {
  crc: 'crc',
  short: 'shortFrame',
  'wrong-unit': 'wrongUnit',
  'wrong-function': 'wrongFunction',
  'byte-count': 'byteCount',
};

/** Minimum wait after a failed transaction, so that the tail of a damaged or late reply passes first. */
const MIN_RECOVERY_MS = 20;
/** Silence required before a request after bytes came while nothing was asked (the tail of a late reply may follow). */
const MIN_SILENCE_MS = 5;
const MAX_RECOVERY_MS = 100;
const LATENCY_EWMA_WEIGHT = 0.1;

export class RtuLine {
  private stream: Duplex | null = null;
  private transport: RtuTransport | null = null;
  private opening: Promise<void> | null = null;
  private readonly users = new Set<string>();
  private readonly queues = new Map<string, Pending[]>();
  /** Devices in the order they first queued a request; served in turn. */
  private rotation: string[] = [];
  private lastServed: string | null = null;
  private active: Active | null = null;
  private gapTimer: TimerHandle | null = null;
  /**
   * Units whose last request timed out, until when (monotonic ms). An RTU reply carries no
   * transaction id: a late reply from the same unit, for the same function and count, would pass
   * for the answer to its next request. So after a timeout the line sends nothing to that unit for
   * another timeout (other units go on), and a late reply from it is recognised and dropped.
   */
  private readonly quietUntil = new Map<number, number>();
  /** Monotonic time of the last byte received: a request is never sent into bytes still arriving. */
  private lastRxMono = Number.NEGATIVE_INFINITY;
  /** Set while idle bytes of one burst have been counted as a late reply. */
  private idleBurstCounted = false;

  private readonly counters = { requests: 0, answered: 0 };
  private readonly errors: BusErrorCounts = { timeout: 0, crc: 0, shortFrame: 0, wrongUnit: 0, wrongFunction: 0, byteCount: 0, lateReply: 0, exception: 0, comm: 0 };
  private lastLatencyMs: number | null = null;
  private meanLatencyMs: number | null = null;
  private busyMs = 0;
  private openedMono = 0;
  private openFailures = 0;
  private nextOpenMono = 0;
  private backoffMs = 0;
  private lastError: string | null = null;
  /** Why the line is closed (without the "bus id:" prefix), for the errors of devices that ask to open it. */
  private closedWhy: string | null = null;

  constructor(
    readonly spec: RtuBusSpec,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly openTransport: OpenTransport = openRtuTransport,
    private readonly random: () => number = Math.random,
  ) {}

  get isOpen(): boolean {
    return this.stream !== null;
  }

  /**
   * Opens the line for `deviceId` (a no-op if it is open). Concurrent calls share one attempt; after
   * a failure, calls before the line's backoff has passed fail at once with the same error.
   */
  async open(deviceId: string): Promise<void> {
    this.users.add(deviceId);
    if (this.stream) return;
    if (this.opening) return this.opening;
    const nowMono = this.clock.monotonicMs();
    if (nowMono < this.nextOpenMono) {
      throw new Error(`bus ${this.spec.id}: ${this.closedWhy ?? 'not open'} (next attempt in ${Math.ceil(this.nextOpenMono - nowMono)} ms)`);
    }
    this.opening = this.openNow().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async openNow(): Promise<void> {
    let transport: RtuTransport;
    try {
      transport = await this.openTransport(this.spec, Math.max(1000, this.spec.timeoutMs), this.clock);
    } catch (err) {
      this.openFailures++;
      this.backoffMs = backoffDelayMs(this.openFailures, this.spec.backoffInitialMs, this.spec.backoffMaxMs, this.random);
      this.nextOpenMono = this.clock.monotonicMs() + this.backoffMs;
      this.lastError = `cannot open ${describeBus(this.spec)}: ${(err as Error).message}`;
      this.closedWhy = this.lastError;
      if (this.openFailures === 1) this.logger.warn({ bus: this.spec.id, retryInMs: this.backoffMs, err: (err as Error).message }, 'bus cannot be opened');
      throw new Error(`bus ${this.spec.id}: ${this.lastError}`, { cause: err });
    }
    const stream = transport.stream;
    if (this.users.size === 0) {
      // Every device released the line while it was opening.
      stream.destroy();
      return;
    }
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // A write to a vanished port fails with EIO; a socket error precedes its close. Either way the line is gone.
    stream.on('error', (err) => this.onLost(stream, `${describeBus(this.spec)} failed: ${err.message}`));
    stream.on('close', () => this.onLost(stream, `${describeBus(this.spec)} closed`));
    this.stream = stream;
    this.transport = transport;
    this.closedWhy = null;
    this.quietUntil.clear();
    this.openedMono = this.clock.monotonicMs();
    this.busyMs = 0;
    if (this.openFailures > 0) this.logger.info({ bus: this.spec.id }, 'bus reopened');
    this.openFailures = 0;
    this.backoffMs = 0;
    this.logger.info({ bus: this.spec.id, line: describeBus(this.spec) }, 'bus open');
  }

  /** The device no longer uses the line; the last one out closes it. Its queued requests fail (comm). */
  async release(deviceId: string): Promise<void> {
    this.users.delete(deviceId);
    const queue = this.queues.get(deviceId);
    if (queue) {
      this.queues.delete(deviceId);
      this.rotation = this.rotation.filter((id) => id !== deviceId);
      for (const p of queue) p.resolve({ ok: false, kind: 'comm', detail: `bus ${this.spec.id}: device released the line` });
    }
    if (this.users.size > 0) return;
    await this.opening?.catch(() => {});
    // Another device may have opened the line while this one waited for the attempt in progress.
    if (this.users.size > 0) return;
    this.shutDown('closed: no device uses it');
  }

  /**
   * Queues one read transaction; resolves with its outcome (never rejects). On a closed line it
   * resolves at once with `comm`.
   */
  transact(tx: RtuTransaction): Promise<RtuOutcome> {
    if (!this.stream) return Promise.resolve({ ok: false, kind: 'comm', detail: `bus ${this.spec.id} is not open` });
    return new Promise<RtuOutcome>((resolve) => {
      let queue = this.queues.get(tx.deviceId);
      if (!queue) {
        queue = [];
        this.queues.set(tx.deviceId, queue);
      }
      queue.push({ tx, resolve });
      if (!this.rotation.includes(tx.deviceId)) this.rotation.push(tx.deviceId);
      this.pump();
    });
  }

  health(): BusHealth {
    const nowMono = this.clock.monotonicMs();
    const openForMs = this.stream ? nowMono - this.openedMono : 0;
    const busy = this.busyMs + (this.active ? nowMono - this.active.startedMono : 0);
    return {
      id: this.spec.id,
      description: describeBus(this.spec),
      transport: this.spec.transport,
      open: this.stream !== null,
      devices: [...this.users].sort(),
      requests: this.counters.requests,
      answered: this.counters.answered,
      errors: { ...this.errors },
      lastLatencyMs: this.lastLatencyMs,
      meanLatencyMs: this.meanLatencyMs === null ? null : Math.round(this.meanLatencyMs * 100) / 100,
      utilization: openForMs > 0 ? Math.min(1, busy / openForMs) : 0,
      openFailures: this.openFailures,
      backoffMs: this.stream ? 0 : Math.max(0, Math.round(this.nextOpenMono - nowMono)),
      lastError: this.lastError,
    };
  }

  private pump(): void {
    if (this.active || this.gapTimer || !this.stream) return;
    const nowMono = this.clock.monotonicMs();
    // Bytes still arriving (the tail of a late or damaged reply): wait for the line to fall silent.
    // The gap is measured from the last byte received, as on the wire; after stray bytes (nobody
    // asked), wait longer: more of that reply may still be on its way.
    const silentForMs = nowMono - this.lastRxMono;
    const neededSilenceMs = this.idleBurstCounted ? Math.max(this.spec.interFrameGapMs, MIN_SILENCE_MS) : this.spec.interFrameGapMs;
    if (silentForMs < neededSilenceMs) {
      this.waitThenPump(neededSilenceMs - silentForMs);
      return;
    }
    // Round-robin: start looking after the device served last, skipping units kept quiet after a timeout.
    const n = this.rotation.length;
    const after = this.lastServed === null ? -1 : this.rotation.indexOf(this.lastServed);
    let deviceId: string | undefined;
    let earliestQuietEnd = Number.POSITIVE_INFINITY;
    for (let k = 1; k <= n && deviceId === undefined; k++) {
      const id = this.rotation[(after + k + n) % n];
      const head = this.queues.get(id)?.[0];
      if (!head) continue;
      const until = this.quietUntil.get(head.tx.unitId);
      if (until !== undefined && nowMono < until) {
        earliestQuietEnd = Math.min(earliestQuietEnd, until);
        continue;
      }
      if (until !== undefined) this.quietUntil.delete(head.tx.unitId);
      deviceId = id;
    }
    if (deviceId === undefined) {
      if (earliestQuietEnd !== Number.POSITIVE_INFINITY) this.waitThenPump(earliestQuietEnd - nowMono);
      return;
    }
    this.lastServed = deviceId;
    const pending = this.queues.get(deviceId)!.shift()!;
    this.start(pending);
  }

  private waitThenPump(ms: number): void {
    this.gapTimer = this.clock.setTimeout(() => {
      this.gapTimer = null;
      this.pump();
    }, Math.max(0, ms));
  }

  private start(pending: Pending): void {
    const { tx } = pending;
    this.counters.requests++;
    this.idleBurstCounted = false;
    const active: Active = { pending, startedMono: this.clock.monotonicMs(), timer: null, rx: Buffer.alloc(0) };
    this.active = active;
    active.timer = this.clock.setTimeout(() => this.onTimeout(active), tx.timeoutMs);
    this.stream!.write(encodeReadRequest(tx.unitId, tx.functionCode, tx.address, tx.count));
  }

  private onData(chunk: Buffer): void {
    this.lastRxMono = this.clock.monotonicMs();
    const active = this.active;
    if (!active) {
      // Nobody asked: the tail of a late or damaged reply. One burst counts once.
      if (!this.idleBurstCounted) {
        this.errors.lateReply++;
        this.idleBurstCounted = true;
      }
      return;
    }
    active.rx = active.rx.length === 0 ? chunk : Buffer.concat([active.rx, chunk]);
    const { tx } = active.pending;
    for (;;) {
      const parsed = parseReply(active.rx, tx);
      switch (parsed.status) {
        case 'incomplete':
          return;
        case 'data':
          this.finish(active, { ok: true, data: parsed.data, latencyMs: this.clock.monotonicMs() - active.startedMono });
          return;
        case 'exception':
          this.finish(active, { ok: false, kind: 'exception', exceptionCode: parsed.code, latencyMs: this.clock.monotonicMs() - active.startedMono });
          return;
        case 'foreign': {
          const late = this.quietUntil.has(parsed.unitId);
          // Its late reply has passed: the unit may be asked again.
          if (late) this.quietUntil.delete(parsed.unitId);
          this.errors[late ? 'lateReply' : ERROR_OF_FRAME[parsed.kind]]++;
          this.logger.debug({ bus: this.spec.id, unit: parsed.unitId, fc: parsed.functionCode, late }, 'dropped a reply that was not ours');
          active.rx = active.rx.subarray(parsed.length);
          if (active.rx.length === 0) return;
          continue;
        }
        case 'error':
          this.finish(active, { ok: false, kind: 'frame', frame: parsed.kind, detail: parsed.detail });
          return;
      }
    }
  }

  private onTimeout(active: Active): void {
    if (this.active !== active) return;
    active.timer = null;
    const { tx } = active.pending;
    if (active.rx.length > 0) {
      const need = parseReply(active.rx, tx);
      const expected = need.status === 'incomplete' ? need.need : replyLength(tx.functionCode, tx.count);
      this.finish(active, { ok: false, kind: 'frame', frame: 'short', detail: `short frame: ${active.rx.length} of ${expected} bytes within ${tx.timeoutMs} ms` });
      return;
    }
    this.quietUntil.set(tx.unitId, this.clock.monotonicMs() + tx.timeoutMs);
    if (this.transport && !this.transport.isPresent()) {
      const stream = this.stream!;
      this.onLost(stream, `${describeBus(this.spec)} vanished`);
      return;
    }
    this.finish(active, { ok: false, kind: 'timeout', detail: `no answer within ${tx.timeoutMs} ms` });
  }

  private finish(active: Active, outcome: RtuOutcome): void {
    if (this.active !== active) return;
    this.active = null;
    if (active.timer) this.clock.clearTimeout(active.timer);
    this.busyMs += this.clock.monotonicMs() - active.startedMono;
    if (outcome.ok || outcome.kind === 'exception') {
      this.counters.answered++;
      if (!outcome.ok) this.errors.exception++;
      this.lastLatencyMs = outcome.latencyMs;
      this.meanLatencyMs = this.meanLatencyMs === null ? outcome.latencyMs : this.meanLatencyMs + LATENCY_EWMA_WEIGHT * (outcome.latencyMs - this.meanLatencyMs);
    } else if (outcome.kind === 'timeout') {
      this.errors.timeout++;
    } else if (outcome.kind === 'frame') {
      this.errors[ERROR_OF_FRAME[outcome.frame]]++;
    } else {
      this.errors.comm++;
    }
    if (!outcome.ok && outcome.kind !== 'exception' && outcome.kind !== 'comm') this.lastError = `unit ${active.pending.tx.unitId}: ${outcome.detail}`;
    // After a failure, give the rest of a damaged or late reply time to pass before talking again.
    const failed = !outcome.ok && outcome.kind !== 'exception';
    // After an answer the gap counts from its last byte (pump checks it), so no timer is needed here.
    const waitMs = failed ? Math.max(this.spec.interFrameGapMs, Math.min(MAX_RECOVERY_MS, Math.max(MIN_RECOVERY_MS, active.pending.tx.timeoutMs / 2))) : 0;
    if (this.stream) this.waitThenPump(waitMs);
    active.pending.resolve(outcome);
  }

  private onLost(stream: Duplex, why: string): void {
    if (stream !== this.stream) return;
    this.errors.comm++;
    this.shutDown(why);
    this.logger.warn({ bus: this.spec.id, why }, 'bus lost');
    // The next open is paced like a failed one: a vanished port rarely returns at once.
    this.openFailures = 0;
    this.backoffMs = backoffDelayMs(1, this.spec.backoffInitialMs, this.spec.backoffMaxMs, this.random);
    this.nextOpenMono = this.clock.monotonicMs() + this.backoffMs;
  }

  /** Closes the stream and fails the transaction in flight and every queued one with `comm`. */
  private shutDown(why: string): void {
    const stream = this.stream;
    this.stream = null;
    this.transport = null;
    if (this.gapTimer) this.clock.clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.lastError = why;
    this.closedWhy = why;
    const failed: Pending[] = [];
    if (this.active) {
      if (this.active.timer) this.clock.clearTimeout(this.active.timer);
      failed.push(this.active.pending);
      this.active = null;
    }
    for (const queue of this.queues.values()) failed.push(...queue.splice(0));
    for (const p of failed) p.resolve({ ok: false, kind: 'comm', detail: `bus ${this.spec.id}: ${why}` });
    if (stream && !stream.destroyed) stream.destroy();
  }
}

/** Opens a serial port (serialport, loaded only when a config has a serial bus) or a TCP connection to a converter. */
export const openRtuTransport: OpenTransport = async (spec, timeoutMs, clock) => {
  if (spec.transport === 'tcp') {
    const socket = await connectTcp(spec.host, spec.port, timeoutMs, clock);
    return { stream: socket, isPresent: () => !socket.destroyed };
  }
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: spec.path, baudRate: spec.baudRate, dataBits: spec.dataBits, parity: spec.parity, stopBits: spec.stopBits, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const opened = deviceIdentity(spec.path);
  return { stream: port, isPresent: () => opened !== null && deviceIdentity(spec.path) === opened };
};

/** The device a path names now (following links), or null when it is gone. */
function deviceIdentity(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}:${s.rdev}`;
  } catch {
    return null;
  }
}

function connectTcp(host: string, port: number, timeoutMs: number, clock: Clock): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = new net.Socket();
    let timer: TimerHandle | null = null;
    const settle = (error: Error | null) => {
      if (timer) clock.clearTimeout(timer);
      timer = null;
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
        resolve(socket);
      }
    };
    const onConnect = () => settle(null);
    const onError = (cause: Error) => settle(new Error(`connect to ${host}:${port} failed: ${cause.message}`, { cause }));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    timer = clock.setTimeout(() => settle(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.connect({ host, port });
  });
}
