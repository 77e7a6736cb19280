/** Transformer monitor / secondary power meter map: float32 word-swapped (CDAB), energy uint64 big-endian. */
import type { DeviceMap } from '../points.js';

export const transformerMap: DeviceMap = {
  blocks: [
    { area: 'input', start: 0, count: 48 },
    { area: 'holding', start: 100, count: 20 },
    { area: 'discrete', start: 0, count: 8 },
  ],
  points: [
    { name: 'oil_temp', area: 'input', address: 0, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'top-oil temperature' },
    { name: 'winding_temp', area: 'input', address: 1, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'winding hot-spot temperature (thermal image)' },
    { name: 'ambient_temp', area: 'input', address: 2, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'ambient air temperature at the transformer' },
    { name: 'voltage_l1_l2', area: 'input', address: 10, type: 'float32', order: 'CDAB', scale: 1, unit: 'V', description: 'secondary voltage L1–L2' },
    { name: 'voltage_l2_l3', area: 'input', address: 12, type: 'float32', order: 'CDAB', scale: 1, unit: 'V', description: 'secondary voltage L2–L3' },
    { name: 'voltage_l3_l1', area: 'input', address: 14, type: 'float32', order: 'CDAB', scale: 1, unit: 'V', description: 'secondary voltage L3–L1' },
    { name: 'current_l1', area: 'input', address: 16, type: 'float32', order: 'CDAB', scale: 1, unit: 'A', description: 'secondary current L1' },
    { name: 'current_l2', area: 'input', address: 18, type: 'float32', order: 'CDAB', scale: 1, unit: 'A', description: 'secondary current L2' },
    { name: 'current_l3', area: 'input', address: 20, type: 'float32', order: 'CDAB', scale: 1, unit: 'A', description: 'secondary current L3' },
    { name: 'active_power_kw', area: 'input', address: 22, type: 'float32', order: 'CDAB', scale: 1, unit: 'kW', description: 'total active power' },
    { name: 'apparent_power_kva', area: 'input', address: 24, type: 'float32', order: 'CDAB', scale: 1, unit: 'kVA', description: 'total apparent power' },
    { name: 'power_factor', area: 'input', address: 26, type: 'float32', order: 'CDAB', scale: 1, unit: '', description: 'total power factor' },
    { name: 'frequency', area: 'input', address: 28, type: 'float32', order: 'CDAB', scale: 1, unit: 'Hz', description: 'supply frequency' },
    { name: 'load_pct', area: 'input', address: 30, type: 'uint16', order: 'ABCD', scale: 0.1, unit: '%', description: 'load as a share of rated 2500 kVA' },
    { name: 'thd_voltage_pct', area: 'input', address: 31, type: 'uint16', order: 'ABCD', scale: 0.01, unit: '%', description: 'voltage total harmonic distortion' },
    { name: 'thd_current_pct', area: 'input', address: 32, type: 'uint16', order: 'ABCD', scale: 0.01, unit: '%', description: 'current total harmonic distortion' },
    { name: 'energy_import_wh', area: 'input', address: 40, type: 'uint64', order: 'ABCD', scale: 1, unit: 'Wh', description: 'active energy delivered (import) totaliser' },
    { name: 'rated_power_kva', area: 'holding', address: 100, type: 'uint16', order: 'ABCD', scale: 1, unit: 'kVA', description: 'nameplate rating' },
    { name: 'serial_number', area: 'holding', address: 110, type: 'string', order: 'ABCD', length: 6, scale: 1, unit: '', description: 'serial number' },
    { name: 'oil_temp_alarm', area: 'discrete', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'top-oil temperature alarm (> 90 °C)' },
    { name: 'winding_temp_alarm', area: 'discrete', address: 1, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'winding hot-spot alarm (> 110 °C)' },
    { name: 'cooling_fans_on', area: 'discrete', address: 2, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'radiator fans running (top oil > 65 °C)' },
  ],
};
