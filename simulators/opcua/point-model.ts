/**
 * How a point of the plant appears as an OPC UA variable: the vendor's OPC UA model of the same
 * devices whose Modbus maps live in `modbus/maps/`. Pure data, no node-opcua here.
 *
 * OPC UA carries engineering values, not registers: every point with a unit (and every float) is a
 * Double AnalogItem holding exactly `plant.values()`, not the Modbus quantisation; unitless
 * integers (alarm words) are Int32/UInt32, bools Boolean, strings String.
 */
import type { DeviceKind } from '../plant/plant.js';
import type { SimulatorPoint } from '../modbus/points.js';

export type OpcUaScalarType = 'Double' | 'Boolean' | 'Int32' | 'UInt32' | 'String';

export interface EuRange {
  low: number;
  high: number;
}

export interface VariableSpec {
  point: string;
  description: string;
  dataType: OpcUaScalarType;
  /** Present for AnalogItems: the point's unit as written in the vendor map ('' = dimensionless) and its EURange. */
  analog?: { unit: string; range: EuRange };
}

/** Browse name of the folder under Objects/Plant that holds a kind of device. */
export const FOLDER_OF_KIND: Readonly<Record<DeviceKind, string>> = {
  chiller: 'Chillers',
  'cooling-tower': 'CoolingTowers',
  transformer: 'Transformers',
  ups: 'UPS',
};

/**
 * EURange ("the value range likely to be obtained in normal operation", OPC 10000-8) of each
 * analog point: the transmitter spans and nameplate ratings of the plant described in
 * simulators/README.md. Values outside it are still served as they are.
 */
const RANGES: Readonly<Record<DeviceKind, Readonly<Record<string, EuRange>>>> = {
  chiller: {
    chw_supply_temp: { low: 0, high: 20 },
    chw_return_temp: { low: 0, high: 25 },
    cw_entering_temp: { low: 10, high: 45 },
    cw_leaving_temp: { low: 10, high: 50 },
    evap_sat_temp: { low: -10, high: 20 },
    cond_sat_temp: { low: 10, high: 60 },
    evap_pressure: { low: 0, high: 1000 },
    cond_pressure: { low: 0, high: 2000 },
    cond_approach: { low: 0, high: 15 },
    power_kw: { low: 0, high: 600 },
    kw_per_ton: { low: 0, high: 1.5 },
    cooling_load_kw: { low: 0, high: 1760 },
    compressor_current: { low: 0, high: 1000 },
    capacity_pct: { low: 0, high: 100 },
    run_hours: { low: 0, high: 100_000 },
    chw_setpoint: { low: 4, high: 15 },
  },
  'cooling-tower': {
    leaving_water_temp: { low: 0, high: 50 },
    entering_water_temp: { low: 0, high: 50 },
    basin_temp: { low: 0, high: 50 },
    ambient_wet_bulb: { low: -20, high: 40 },
    ambient_dry_bulb: { low: -20, high: 50 },
    approach_temp: { low: 0, high: 15 },
    range_temp: { low: 0, high: 15 },
    fan_speed_pct: { low: 0, high: 100 },
    fan_power_kw: { low: 0, high: 37 },
    fan_vibration: { low: 0, high: 25 },
    makeup_water_total: { low: 0, high: 1e9 },
    fan_run_hours: { low: 0, high: 100_000 },
  },
  transformer: {
    oil_temp: { low: 0, high: 120 },
    winding_temp: { low: 0, high: 150 },
    ambient_temp: { low: -20, high: 50 },
    voltage_l1_l2: { low: 0, high: 480 },
    voltage_l2_l3: { low: 0, high: 480 },
    voltage_l3_l1: { low: 0, high: 480 },
    current_l1: { low: 0, high: 4500 },
    current_l2: { low: 0, high: 4500 },
    current_l3: { low: 0, high: 4500 },
    active_power_kw: { low: 0, high: 2500 },
    apparent_power_kva: { low: 0, high: 3000 },
    power_factor: { low: 0, high: 1 },
    frequency: { low: 45, high: 55 },
    load_pct: { low: 0, high: 120 },
    thd_voltage_pct: { low: 0, high: 20 },
    thd_current_pct: { low: 0, high: 50 },
    energy_import_wh: { low: 0, high: 1e12 },
    rated_power_kva: { low: 0, high: 2500 },
  },
  ups: {
    input_voltage: { low: 0, high: 480 },
    input_frequency: { low: 45, high: 55 },
    output_voltage: { low: 0, high: 480 },
    output_frequency: { low: 45, high: 55 },
    load_pct: { low: 0, high: 125 },
    battery_soc_pct: { low: 0, high: 100 },
    battery_voltage: { low: 0, high: 650 },
    battery_current: { low: -3500, high: 100 },
    battery_temp: { low: 0, high: 60 },
    battery_runtime_min: { low: 0, high: 120 },
    output_power_kw: { low: 0, high: 1600 },
    input_power_kw: { low: 0, high: 1800 },
    efficiency_pct: { low: 0, high: 100 },
    battery_health_pct: { low: 0, high: 100 },
    output_energy_kwh: { low: 0, high: 1e9 },
    rated_power_kw: { low: 0, high: 1600 },
  },
};

/** A unit's fallback span, for an analog point the table above does not list yet. */
function fallbackRange(unit: string): EuRange {
  switch (unit) {
    case '%':
      return { low: 0, high: 100 };
    case '°C':
      return { low: -40, high: 150 };
    default:
      return { low: 0, high: 1e6 };
  }
}

const INTEGER_TYPES = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

export function variableSpecOf(kind: DeviceKind, point: SimulatorPoint): VariableSpec {
  const base = { point: point.name, description: point.description };
  if (point.type === 'bool') return { ...base, dataType: 'Boolean' };
  if (point.type === 'string') return { ...base, dataType: 'String' };
  if (INTEGER_TYPES.has(point.type) && point.unit === '' && point.scale === 1) {
    return { ...base, dataType: point.type.startsWith('u') ? 'UInt32' : 'Int32' };
  }
  return { ...base, dataType: 'Double', analog: { unit: point.unit, range: RANGES[kind][point.name] ?? fallbackRange(point.unit) } };
}
