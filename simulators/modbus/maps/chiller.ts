/** Chiller controller map (vendor "CVX" series): temperatures int16 ×0.1, analogue values float32 big-endian. */
import type { DeviceMap } from '../points.js';

export const chillerMap: DeviceMap = {
  blocks: [
    { area: 'input', start: 0, count: 40 },
    { area: 'holding', start: 100, count: 2 },
    { area: 'holding', start: 200, count: 16 },
    { area: 'coil', start: 0, count: 8 },
    { area: 'discrete', start: 0, count: 8 },
  ],
  points: [
    { name: 'chw_supply_temp', area: 'input', address: 0, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'chilled water supply (leaving evaporator) temperature' },
    { name: 'chw_return_temp', area: 'input', address: 1, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'chilled water return (entering evaporator) temperature' },
    { name: 'cw_entering_temp', area: 'input', address: 2, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'condenser water entering temperature (from cooling tower)' },
    { name: 'cw_leaving_temp', area: 'input', address: 3, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'condenser water leaving temperature (to cooling tower)' },
    { name: 'evap_sat_temp', area: 'input', address: 4, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'evaporator refrigerant saturation temperature' },
    { name: 'cond_sat_temp', area: 'input', address: 5, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'condenser refrigerant saturation temperature' },
    { name: 'evap_pressure', area: 'input', address: 10, type: 'float32', order: 'ABCD', scale: 1, unit: 'kPa', description: 'evaporator refrigerant pressure (R-134a, absolute)' },
    { name: 'cond_pressure', area: 'input', address: 12, type: 'float32', order: 'ABCD', scale: 1, unit: 'kPa', description: 'condenser refrigerant pressure (R-134a, absolute)' },
    { name: 'cond_approach', area: 'input', address: 14, type: 'float32', order: 'ABCD', scale: 1, unit: 'K', description: 'condenser approach: saturation minus leaving condenser water (fouling indicator)' },
    { name: 'power_kw', area: 'input', address: 16, type: 'float32', order: 'ABCD', scale: 1, unit: 'kW', description: 'compressor input power' },
    { name: 'kw_per_ton', area: 'input', address: 18, type: 'float32', order: 'ABCD', scale: 1, unit: 'kW/TR', description: 'efficiency: input power per ton of refrigeration' },
    { name: 'cooling_load_kw', area: 'input', address: 20, type: 'float32', order: 'ABCD', scale: 1, unit: 'kW', description: 'cooling delivered (evaporator duty)' },
    { name: 'compressor_current', area: 'input', address: 22, type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'A', description: 'compressor motor current (400 V supply)' },
    { name: 'capacity_pct', area: 'input', address: 23, type: 'uint16', order: 'ABCD', scale: 0.1, unit: '%', description: 'cooling delivered as a share of nominal capacity (1760 kW / 500 TR)' },
    { name: 'run_hours', area: 'input', address: 24, type: 'uint32', order: 'ABCD', scale: 1, unit: 'h', description: 'compressor running hours' },
    { name: 'alarm_word', area: 'input', address: 30, type: 'uint16', order: 'ABCD', scale: 1, unit: '', description: 'alarm bits: 0 general, 1 high condenser pressure, 2 low evaporator pressure, 3 capacity limited, 4 high condenser approach, 5 poor efficiency' },
    { name: 'running', area: 'input', address: 31, type: 'bool', order: 'ABCD', bit: 0, scale: 1, unit: '', description: 'compressor running (status word bit 0)' },
    { name: 'capacity_limited', area: 'input', address: 31, type: 'bool', order: 'ABCD', bit: 2, scale: 1, unit: '', description: 'cannot hold the chilled water setpoint (status word bit 2)' },
    { name: 'chw_setpoint', area: 'holding', address: 100, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C', description: 'chilled water supply setpoint' },
    { name: 'model', area: 'holding', address: 200, type: 'string', order: 'ABCD', length: 8, scale: 1, unit: '', description: 'model name' },
    { name: 'serial_number', area: 'holding', address: 208, type: 'string', order: 'ABCD', length: 6, scale: 1, unit: '', description: 'serial number' },
    { name: 'enable', area: 'coil', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'remote run enable' },
    { name: 'chw_flow_ok', area: 'discrete', address: 0, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'evaporator flow switch: flow proven' },
    { name: 'cw_flow_ok', area: 'discrete', address: 1, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'condenser flow switch: flow proven' },
    { name: 'general_alarm', area: 'discrete', address: 2, type: 'bool', order: 'ABCD', scale: 1, unit: '', description: 'any alarm active' },
  ],
};
