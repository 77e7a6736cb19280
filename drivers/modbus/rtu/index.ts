import type { BusHealth } from '../../../agent/core/bus.js';
import type { DriverDescriptor } from '../../../agent/core/driver.js';
import { ModbusRtuDriver } from './driver.js';
import { RtuLine } from './line.js';

export { ModbusRtuDriver, type ModbusRtuDriverOptions } from './driver.js';
export { RtuLine, openRtuTransport, type RtuOutcome, type RtuTransaction, type OpenTransport } from './line.js';
export * from './frame.js';

/** The Modbus RTU entry of a runtime's driver registry: it owns the shared lines, one per configured bus. */
export interface ModbusRtuDescriptor extends DriverDescriptor {
  buses(): BusHealth[];
}

/**
 * A fresh descriptor per runtime: devices created through it that name the same bus share one
 * RtuLine (one serial port, one converter connection).
 */
export function createModbusRtuDescriptor(): ModbusRtuDescriptor {
  const lines = new Map<string, RtuLine>();
  return {
    kind: 'modbus-rtu',
    create(device, context) {
      if (device.connection.protocol !== 'modbus-rtu') throw new Error(`device ${device.id}: not a modbus-rtu device`);
      const bus = device.connection.bus;
      let line = lines.get(bus.id);
      if (!line) {
        line = new RtuLine(bus, context.clock, context.logger.child({ bus: bus.id }));
        lines.set(bus.id, line);
      }
      return new ModbusRtuDriver(device, line, context);
    },
    buses() {
      return [...lines.values()].map((line) => line.health());
    },
  };
}
