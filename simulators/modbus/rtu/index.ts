/**
 * The plant's devices as Modbus RTU units: raw RTU framing (CRC-16/MODBUS) written here, served
 * over TCP ("RTU over TCP", a serial-to-Ethernet converter), a serial device (`openSerialLink`) or
 * any Duplex stream.
 */
import { RtuBus } from './rtu-bus.js';
import type { RegisterSource } from './responder.js';

export { crc16Modbus, hasValidCrc, withCrc } from './crc16.js';
export { MAX_RTU_FRAME_BYTES, RtuRequestFramer, requestFrameLength, type FramerStats } from './request-framer.js';
export {
  answerRequest,
  exceptionFrame,
  EXCEPTION_ILLEGAL_DATA_ADDRESS,
  EXCEPTION_ILLEGAL_DATA_VALUE,
  EXCEPTION_ILLEGAL_FUNCTION,
  type RegisterSource,
} from './responder.js';
export { RtuBus, type RtuBusOptions, type RtuBusStats } from './rtu-bus.js';
export { charTimeMs, RTU_BITS_PER_CHAR, RTU_TURNAROUND_CHARS, transactionTimeMs, type LineTiming } from './line-timing.js';
export { openSerialLink, type SerialLink, type SerialLinkEvent, type SerialLinkOptions, type SerialLinkState } from './serial-link.js';

export interface RtuBusOfDevicesOptions {
  /** Unit id → simulated device id, e.g. `{ 1: 'chiller-1', 2: 'cooling-tower-1' }`. */
  units: Readonly<Record<number, string>>;
  idleResetMs?: number;
  /** Pace replies as on a serial line of this speed (see `RtuBusOptions.baudRate`); absent = no pacing. */
  baudRate?: number;
  /** Default 11. */
  bitsPerChar?: number;
}

/**
 * A bus whose units are the simulator's devices, reading the same register images as their
 * Modbus TCP servers (and silent while a device is stopped). Call `listen()` or `attach()` on it.
 */
export function createRtuBus(sim: { registers(deviceId: string): RegisterSource }, options: RtuBusOfDevicesOptions): RtuBus {
  const units = new Map<number, RegisterSource>();
  for (const [unitId, deviceId] of Object.entries(options.units)) units.set(Number(unitId), sim.registers(deviceId));
  return new RtuBus({ units, idleResetMs: options.idleResetMs, baudRate: options.baudRate, bitsPerChar: options.bitsPerChar });
}
