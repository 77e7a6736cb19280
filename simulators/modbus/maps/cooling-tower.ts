/** Cooling tower fan controller map: everything in holding registers, floats word-swapped (CDAB). */
import type { DeviceMap } from '../points.js';

export const coolingTowerMap: DeviceMap = {
  blocks: [
    { area: 'holding', start: 0, count: 24 },
    { area: 'holding', start: 100, count: 8 },
    { area: 'coil', start: 0, count: 4 },
    { area: 'discrete', start: 0, count: 4 },
  ],
  points: [
    { name: 'leaving_water_temp', area: 'holding', address: 0, type: 'float32', order: 'CDAB', scale: 1, unit: '°C', description: 'cold water leaving the fill (to condenser)' },
    { name: 'entering_water_temp', area: 'holding', address: 2, type: 'float32', order: 'CDAB', scale: 1, unit: '°C', description: 'hot water entering the tower (from condenser)' },
    { name: 'basin_temp', area: 'holding', address: 4, type: 'float32', order: 'CDAB', scale: 1, unit: '°C', description: 'cold water basin temperature' },
    { name: 'ambient_wet_bulb', area: 'holding', address: 6, type: 'float32', order: 'CDAB', scale: 1, unit: '°C', description: 'ambient wet-bulb temperature' },
    { name: 'ambient_dry_bulb', area: 'holding', address: 8, type: 'float32', order: 'CDAB', scale: 1, unit: '°C', description: 'ambient dry-bulb temperature' },
    { name: 'approach_temp', area: 'holding', address: 10, type: 'float32', order: 'CDAB', scale: 1, unit: 'K', description: 'approach: leaving water minus wet bulb' },
    { name: 'range_temp', area: 'holding', address: 12, type: 'float32', order: 'CDAB', scale: 1, unit: 'K', description: 'range: entering minus leaving water' },
    { name: 'fan_speed_pct', area: 'holding', address: 14, type: 'uint16', order: 'ABCD', scale: 0.1, unit: '%', description: 'fan speed (VFD output)' },
    { name: 'fan_power_kw', area: 'holding', address: 15, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'kW', description: 'fan motor power (37 kW motor)' },
    { name: 'fan_vibration', area: 'holding', address: 16, type: 'uint16', order: 'ABCD', scale: 0.01, unit: 'mm/s', description: 'fan gearbox vibration velocity (RMS)' },
    { name: 'makeup_water_total', area: 'holding', address: 18, type: 'uint32', order: 'CDAB', scale: 1, unit: 'L', description: 'make-up water totaliser' },
    { name: 'fan_run_hours', area: 'holding', address: 20, type: 'uint32', order: 'ABCD', scale: 1, unit: 'h', description: 'fan running hours' },
    { name: 'fan_running', area: 'holding', address: 22, type: 'bool', order: 'ABCD', bit: 0, scale: 1, unit: '', description: 'fan running (status word bit 0)' },
    { name: 'fan_fault', area: 'holding', address: 22, type: 'bool', order: 'ABCD', bit: 1, scale: 1, unit: '', description: 'fan drive tripped (status word bit 1)' },
    { name: 'model', area: 'holding', address: 100, type: 'string', order: 'ABCD', length: 8, scale: 1, unit: '', description: 'model name' },
    { name: 'fan_enable', area: 'coil', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'fan remote enable' },
    { name: 'basin_level_low', area: 'discrete', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'basin low-level switch' },
  ],
};
