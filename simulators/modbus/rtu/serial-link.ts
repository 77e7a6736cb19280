/**
 * An RtuBus served on a serial device — a USB RS-485 adapter, or one end of a socat pty pair in
 * tests — opened with the `serialport` package (loaded on first use, so the rest of the simulator
 * never loads its native binding).
 *
 * Lifecycle guarantees:
 * - `openSerialLink` resolves once the port is open and attached to the bus; it rejects, naming
 *   the path, when the port cannot be opened.
 * - When the device vanishes (adapter unplugged, socat killed) the link detaches from the bus,
 *   closes the port and reports `{ type: 'lost' }` through `onEvent`; it never throws and never
 *   lets an `error` event go unhandled, so the process keeps running. It notices either way the
 *   loss shows: the port closing with a disconnect error, or — checked every `checkIntervalMs` —
 *   its path no longer naming the device it opened (gone, or a new link or device node). The
 *   second is needed: on a hung-up pty serialport often gets end-of-file reads forever (its read
 *   loop spins and no 'close' ever comes) instead of an error.
 * - Without `reopen` the link is then released for good (`state` 'lost'): the caller opens a new
 *   link once the device is back. With `reopen: true` the same link waits (`state` 'waiting'),
 *   checks every `checkIntervalMs` whether the path exists again, opens and re-attaches it then
 *   (`{ type: 'attached' }`, `state` 'attached'). A path that comes back as a different device
 *   node (a new /dev/pts number behind the same symlink) is fine: it is opened by path.
 * - `close()` stops all of it and closes the port; it is safe to call in any state, twice. Close
 *   the link before its bus: `bus.close()` detaches the port but leaves it open to its owner.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import type { SerialPort } from 'serialport';
import type { RtuBus } from './rtu-bus.js';

export interface SerialLinkOptions {
  /** The device path, e.g. /dev/ttyUSB0 or a socat pty link. */
  path: string;
  baudRate: number;
  /** Default 8 (Modbus RTU always uses 8). */
  dataBits?: 7 | 8;
  /** Default 'even', the Modbus RTU default (with parity 'none' the standard asks for 2 stop bits). */
  parity?: 'none' | 'even' | 'odd';
  /** Default 1. */
  stopBits?: 1 | 2;
  /** Re-open and re-attach the port when its path comes back after the device vanished. Default false. */
  reopen?: boolean;
  /** How often the link checks its path: that the device is still there, or (reopening) that it is back. Default 100 ms. */
  checkIntervalMs?: number;
  /** Told when the port is lost and when it is attached again; a throwing listener is ignored. */
  onEvent?: (event: SerialLinkEvent) => void;
}

export type SerialLinkEvent = { type: 'lost'; path: string; error?: Error } | { type: 'attached'; path: string };

/** 'attached': serving; 'waiting': lost, reopening; 'lost': lost, released; 'closed': by close(). */
export type SerialLinkState = 'attached' | 'waiting' | 'lost' | 'closed';

export interface SerialLink {
  readonly path: string;
  readonly state: SerialLinkState;
  /** How many times the port was opened and attached (1 once `openSerialLink` resolved). */
  readonly attachCount: number;
  close(): Promise<void>;
}

/** What the path named when the port was opened: the link (if it is one) and the device node behind it. */
interface DeviceIdentity {
  linkIno: number;
  linkCtimeMs: number;
  rdev: number;
  ino: number;
}

function identify(path: string): DeviceIdentity | undefined {
  try {
    const link = lstatSync(path);
    const node = statSync(path);
    return { linkIno: link.ino, linkCtimeMs: link.ctimeMs, rdev: node.rdev, ino: node.ino };
  } catch {
    return undefined; // gone, or a dangling symlink
  }
}

const sameDevice = (a: DeviceIdentity, b: DeviceIdentity | undefined): boolean =>
  b !== undefined && a.linkIno === b.linkIno && a.linkCtimeMs === b.linkCtimeMs && a.rdev === b.rdev && a.ino === b.ino;

export async function openSerialLink(bus: RtuBus, options: SerialLinkOptions): Promise<SerialLink> {
  const { path, baudRate } = options;
  if (!(baudRate > 0) || !Number.isInteger(baudRate)) throw new RangeError(`serial link ${path}: baudRate must be a positive integer, got ${baudRate}`);
  const checkIntervalMs = options.checkIntervalMs ?? 100;
  if (!(checkIntervalMs > 0)) throw new RangeError(`serial link ${path}: checkIntervalMs must be > 0, got ${checkIntervalMs}`);
  const { SerialPort: SerialPortClass } = await import('serialport');

  let state: SerialLinkState = 'waiting';
  let port: SerialPort | undefined;
  let detach: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** Work close() must wait for: an open in progress, a lost port being closed. */
  const inFlight = new Set<Promise<void>>();
  let attachCount = 0;

  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const report = (event: SerialLinkEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // a listener's bug must not take the bus down
    }
  };

  const openPort = (): Promise<SerialPort> =>
    new Promise((resolve, reject) => {
      const candidate = new SerialPortClass({
        path,
        baudRate,
        dataBits: options.dataBits ?? 8,
        parity: options.parity ?? 'even',
        stopBits: options.stopBits ?? 1,
        autoOpen: false,
      });
      // After a disconnect a pending reply's write fails with EIO and the stream emits 'error'; the
      // loss itself is handled through 'close' and the path check.
      candidate.on('error', () => {});
      candidate.open((err) => (err ? reject(new Error(`serial link ${path}: cannot open`, { cause: err })) : resolve(candidate)));
    });

  const closePort = (p: SerialPort): Promise<void> =>
    new Promise((resolve) => {
      if (!p.isOpen) return resolve();
      p.close(() => resolve());
    });

  const schedule = (check: () => void): void => {
    timer = setTimeout(() => {
      timer = undefined;
      check();
    }, checkIntervalMs);
    timer.unref();
  };

  /** Attaches an open port to the bus (throws if the bus is closed; the caller closes the port then). */
  const attach = (p: SerialPort): void => {
    const identity = identify(path);
    detach = bus.attach(p);
    port = p;
    state = 'attached';
    attachCount++;
    p.once('close', (err: Error | null) => lose(p, err ?? new Error(`serial link ${path}: port closed`)));
    const watch = (): void => {
      if (port !== p) return;
      if (identity && sameDevice(identity, identify(path))) return schedule(watch);
      lose(p, new Error(`serial link ${path}: the device vanished (its path no longer names the device that was opened)`));
    };
    schedule(watch);
  };

  const lose = (p: SerialPort, error: Error): void => {
    if (port !== p) return;
    port = undefined;
    detach?.();
    detach = undefined;
    if (timer) clearTimeout(timer);
    timer = undefined;
    track(closePort(p)); // also stops serialport's read loop on a hung-up pty
    if (state === 'closed') return;
    state = options.reopen ? 'waiting' : 'lost';
    report({ type: 'lost', path, error });
    if (options.reopen) schedule(() => track(tryReopen()));
  };

  const tryReopen = async (): Promise<void> => {
    if (state !== 'waiting') return;
    if (!existsSync(path)) return schedule(() => track(tryReopen())); // a dangling symlink counts as absent
    let p: SerialPort;
    try {
      p = await openPort();
    } catch {
      if (state === 'waiting') schedule(() => track(tryReopen()));
      return;
    }
    if (state !== 'waiting') return closePort(p);
    try {
      attach(p);
    } catch (err) {
      state = 'lost'; // the bus was closed meanwhile: nothing left to serve
      await closePort(p);
      report({ type: 'lost', path, error: err instanceof Error ? err : undefined });
      return;
    }
    report({ type: 'attached', path });
  };

  const first = await openPort();
  try {
    attach(first);
  } catch (err) {
    await closePort(first);
    throw new Error(`serial link ${path}: cannot attach to the bus`, { cause: err });
  }

  return {
    path,
    get state() {
      return state;
    },
    get attachCount() {
      return attachCount;
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      const p = port;
      port = undefined;
      detach?.();
      detach = undefined;
      if (p) await closePort(p);
    },
  };
}
