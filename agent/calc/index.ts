/**
 * The calculated devices' entry in the driver registry. One descriptor per agent: it owns the
 * latest-values table its drivers read and keeps its drivers so their state can be saved.
 */
import type { DeviceSpec } from '../core/device.js';
import type { DriverContext, DriverDescriptor } from '../core/driver.js';
import { CalculatedDeviceDriver } from './driver.js';
import type { LatestValues } from './latest-values.js';
import type { ModelState } from './models.js';

export interface CalculatedDescriptor extends DriverDescriptor {
  /** Every calculated device's state, to save (energy counters, thermal and ageing state, health points). */
  states(): [string, ModelState][];
}

export function createCalculatedDescriptor(latest: LatestValues, saved: ReadonlyMap<string, ModelState> = new Map()): CalculatedDescriptor {
  const drivers = new Map<string, CalculatedDeviceDriver>();
  return {
    kind: 'calc',
    create(device: DeviceSpec, context: DriverContext) {
      const driver = new CalculatedDeviceDriver(device, latest, context.clock, saved.get(device.id));
      drivers.set(device.id, driver);
      return driver;
    },
    states: () => [...drivers].map(([id, d]) => [id, d.savedState()]),
  };
}

export { LatestValues } from './latest-values.js';
export { CalculatedDeviceDriver } from './driver.js';
