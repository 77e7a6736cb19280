/** UPS communication card map: measurements uint16 with scale, powers float32 (CDAB and ABCD), energy float64. */
import type { DeviceMap } from '../points.js';

export const upsMap: DeviceMap = {
  blocks: [
    { area: 'input', start: 0, count: 32 },
    { area: 'holding', start: 100, count: 30 },
    { area: 'discrete', start: 0, count: 8 },
  ],
  points: [
    { name: 'input_voltage', area: 'input', address: 0, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'V', description: 'rectifier input voltage (line-to-line, average)' },
    { name: 'input_frequency', area: 'input', address: 1, type: 'uint16', order: 'ABCD', scale: 0.01, unit: 'Hz', description: 'input frequency' },
    { name: 'output_voltage', area: 'input', address: 2, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'V', description: 'output voltage (line-to-line, average)' },
    { name: 'output_frequency', area: 'input', address: 3, type: 'uint16', order: 'ABCD', scale: 0.01, unit: 'Hz', description: 'output frequency' },
    { name: 'load_pct', area: 'input', address: 4, type: 'uint16', order: 'ABCD', scale: 0.1, unit: '%', description: 'output load as a share of rated 1600 kW' },
    { name: 'battery_soc_pct', area: 'input', address: 5, type: 'uint16', order: 'ABCD', scale: 0.1, unit: '%', description: 'battery state of charge' },
    { name: 'battery_voltage', area: 'input', address: 6, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'V', description: 'battery string voltage (240 cells)' },
    { name: 'battery_current', area: 'input', address: 7, type: 'int16', order: 'ABCD', scale: 0.1, unit: 'A', description: 'battery current, positive charging, negative discharging' },
    { name: 'battery_temp', area: 'input', address: 8, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'battery temperature' },
    { name: 'battery_runtime_min', area: 'input', address: 9, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'min', description: 'estimated runtime on battery at present load' },
    { name: 'output_power_kw', area: 'input', address: 10, type: 'float32', order: 'CDAB', scale: 1, unit: 'kW', description: 'output active power (IT load)' },
    { name: 'input_power_kw', area: 'input', address: 12, type: 'float32', order: 'CDAB', scale: 1, unit: 'kW', description: 'input active power' },
    { name: 'efficiency_pct', area: 'input', address: 14, type: 'float32', order: 'ABCD', scale: 1, unit: '%', description: 'conversion efficiency (output / (output + losses))' },
    { name: 'battery_health_pct', area: 'input', address: 16, type: 'float32', order: 'CDAB', scale: 1, unit: '%', description: 'battery state of health (capacity vs new)' },
    { name: 'output_energy_kwh', area: 'input', address: 20, type: 'float64', order: 'ABCD', scale: 1, unit: 'kWh', description: 'output energy totaliser' },
    { name: 'alarm_word', area: 'input', address: 30, type: 'uint16', order: 'ABCD', scale: 1, unit: '', description: 'alarm bits: 0 on battery, 1 battery low, 2 battery temperature high, 3 battery replace, 4 overload' },
    { name: 'battery_temp_high', area: 'input', address: 30, type: 'bool', order: 'ABCD', bit: 2, scale: 1, unit: '', description: 'battery temperature high (> 30 °C), alarm word bit 2' },
    { name: 'rated_power_kw', area: 'holding', address: 100, type: 'uint16', order: 'ABCD', scale: 1, unit: 'kW', description: 'nameplate rating' },
    { name: 'model', area: 'holding', address: 110, type: 'string', order: 'ABCD', length: 8, scale: 1, unit: '', description: 'model name' },
    { name: 'serial_number', area: 'holding', address: 120, type: 'string', order: 'ABCD', length: 6, scale: 1, unit: '', description: 'serial number' },
    { name: 'on_battery', area: 'discrete', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'load on battery (mains failed)' },
    { name: 'battery_low', area: 'discrete', address: 1, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'battery runtime below 5 minutes' },
    { name: 'battery_replace', area: 'discrete', address: 2, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'battery health below 80 %: replace' },
    { name: 'bypass_active', area: 'discrete', address: 3, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'load on static bypass' },
  ],
};
