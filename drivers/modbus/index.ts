import type { DriverDescriptor } from '../../agent/core/driver.js';
import { ModbusTcpDriver } from './driver.js';

export { ModbusTcpDriver, ModbusReadPlan, type ModbusTcpDriverOptions } from './driver.js';
export * from './codec.js';
export * from './planner.js';

/** The Modbus TCP entry for the runtime's driver registry. */
export const modbusTcpDescriptor: DriverDescriptor = {
  kind: 'modbus-tcp',
  create(device, context) {
    return new ModbusTcpDriver(device, context);
  },
};
