/**
 * Calculated devices: equipment health and facility KPIs computed at the edge from other devices'
 * readings, published like any other device (same topics, quality model, report-by-exception,
 * alarms). This file is the contract between the configuration and the calculation: which models
 * exist, what each reads, which ratings it needs and what it produces, with units.
 */

export const CALCULATION_MODELS = ['chiller', 'cooling-tower', 'transformer', 'ups', 'facility'] as const;
export type CalculationModel = (typeof CALCULATION_MODELS)[number];

/** One input of a model: a single tag of the source device, or (facility meters) a list of device.tag names. */
export interface CalculationInputDef {
  /** Name of the input in the config's `inputs:` map. */
  name: string;
  description: string;
  /** The tag read on the source device when the config does not name one (the device library's name). */
  defaultTag?: string;
  /** Facility meters: a list of "device.tag" names summed together. */
  list?: true;
  /** Without it, the outputs that need it are never computed (and the config must not leave a required input unnamed). */
  required: boolean;
  /** The unit the formula expects; a tag with another (non-empty) unit is refused at load. Absent for bools. */
  unit?: string;
}

export interface CalculationParamDef {
  name: string;
  description: string;
  unit: string;
  required: boolean;
  /** Smallest allowed value (exclusive when `positive`). */
  positive?: true;
  min?: number;
  max?: number;
}

export interface CalculationOutputDef {
  /** The calculated device's tag name. */
  name: string;
  description: string;
  unit: string;
  /** Default report-by-exception deadband, in the output's unit. */
  deadband: number;
  /** Present only when this input (or param) is configured. */
  needs?: string;
}

export interface CalculationModelDef {
  description: string;
  inputs: readonly CalculationInputDef[];
  params: readonly CalculationParamDef[];
  outputs: readonly CalculationOutputDef[];
}

const energy = (from: string): CalculationOutputDef => ({
  name: 'energy_kwh',
  description: `Energy counter (kWh) integrated from ${from} by the gateway; survives restarts, never decreases`,
  unit: 'kWh',
  deadband: 0.1,
});

/** The catalogue. Default input tag names are the device library's (config/profiles/). */
export const CALCULATION_MODEL_DEFS: Readonly<Record<CalculationModel, CalculationModelDef>> = {
  chiller: {
    description: 'Chiller efficiency and approaches (kW/ton, COP, evaporator and condenser approach, chilled-water ΔT) and an energy counter',
    inputs: [
      { name: 'powerKw', description: 'compressor input power (kW)', defaultTag: 'power_kw', unit: 'kW', required: true },
      { name: 'coolingKw', description: 'cooling delivered, evaporator duty (kW)', defaultTag: 'cooling_load_kw', unit: 'kW', required: true },
      { name: 'chwSupplyC', description: 'chilled-water supply temperature (°C)', defaultTag: 'chw_supply_temp', unit: '°C', required: true },
      { name: 'chwReturnC', description: 'chilled-water return temperature (°C)', defaultTag: 'chw_return_temp', unit: '°C', required: true },
      { name: 'cwLeavingC', description: 'condenser water leaving temperature (°C)', defaultTag: 'cw_leaving_temp', unit: '°C', required: true },
      { name: 'evapSatC', description: 'evaporator saturation temperature (°C)', defaultTag: 'evap_sat_temp', unit: '°C', required: true },
      { name: 'condSatC', description: 'condenser saturation temperature (°C)', defaultTag: 'cond_sat_temp', unit: '°C', required: true },
      { name: 'running', description: 'compressor running (bool); without it the load thresholds decide', defaultTag: 'running', required: false },
    ],
    params: [
      { name: 'nominalCoolingKw', description: 'nameplate cooling capacity', unit: 'kW', required: true, positive: true },
      { name: 'minLoadFraction', description: 'kW/ton and COP are left out below this share of nominal cooling (default 0.05)', unit: '', required: false, min: 0, max: 1 },
    ],
    outputs: [
      { name: 'kw_per_ton', description: 'Input power per ton of refrigeration (calculated)', unit: 'kW/TR', deadband: 0.005 },
      { name: 'cop', description: 'Coefficient of performance (calculated)', unit: '', deadband: 0.02 },
      { name: 'evap_approach', description: 'Evaporator approach: chilled-water supply − evaporator saturation (calculated)', unit: 'K', deadband: 0.05 },
      { name: 'cond_approach', description: 'Condenser approach: condenser saturation − condenser water leaving (calculated)', unit: 'K', deadband: 0.05 },
      { name: 'chw_delta_t', description: 'Chilled-water ΔT: return − supply (calculated)', unit: 'K', deadband: 0.05 },
      energy('powerKw'),
    ],
  },
  'cooling-tower': {
    description: 'Cooling-tower approach, range and effectiveness, and a fan energy counter',
    inputs: [
      { name: 'enteringWaterC', description: 'hot water entering the tower (°C)', defaultTag: 'entering_water_temp', unit: '°C', required: true },
      { name: 'leavingWaterC', description: 'cold water leaving the tower (°C)', defaultTag: 'leaving_water_temp', unit: '°C', required: true },
      { name: 'wetBulbC', description: 'ambient wet-bulb temperature (°C)', defaultTag: 'ambient_wet_bulb', unit: '°C', required: true },
      { name: 'fanPowerKw', description: 'fan motor power (kW)', defaultTag: 'fan_power_kw', unit: 'kW', required: false },
    ],
    params: [{ name: 'minRangeK', description: 'effectiveness is left out below this range (default 0.5 K)', unit: 'K', required: false, min: 0 }],
    outputs: [
      { name: 'approach', description: 'Approach: leaving water − wet bulb (calculated)', unit: 'K', deadband: 0.05 },
      { name: 'range', description: 'Range: entering − leaving water (calculated)', unit: 'K', deadband: 0.05 },
      { name: 'effectiveness_pct', description: 'Effectiveness: range ÷ (entering water − wet bulb) (calculated)', unit: '%', deadband: 0.5 },
      { ...energy('fanPowerKw'), needs: 'fanPowerKw' },
    ],
  },
  transformer: {
    description: 'Transformer winding hot spot and insulation ageing (IEEE C57.91), and an energy counter',
    inputs: [
      { name: 'loadPct', description: 'load as share of the rating (%)', defaultTag: 'load_pct', unit: '%', required: true },
      { name: 'ambientC', description: 'ambient air temperature (°C)', defaultTag: 'ambient_temp', unit: '°C', required: true },
      { name: 'topOilC', description: 'measured top-oil temperature (°C); without it top oil is modelled from ambient', defaultTag: 'oil_temp', unit: '°C', required: false },
      { name: 'powerKw', description: 'active power (kW)', defaultTag: 'active_power_kw', unit: 'kW', required: false },
    ],
    params: [
      { name: 'topOilRiseRatedK', description: 'top-oil rise over ambient at rated load (default 45 K)', unit: 'K', required: false, positive: true },
      { name: 'hotSpotRiseRatedK', description: 'hot-spot rise over top oil at rated load (default 30 K)', unit: 'K', required: false, positive: true },
      { name: 'lossRatio', description: 'load losses ÷ no-load losses at rated load (default 5)', unit: '', required: false, min: 0 },
      { name: 'oilExponent', description: 'n (default 0.8, ONAN)', unit: '', required: false, positive: true },
      { name: 'windingExponent', description: 'm (default 0.8, ONAN)', unit: '', required: false, positive: true },
      { name: 'oilTimeConstantMin', description: 'top-oil time constant (default 180 min)', unit: 'min', required: false, positive: true },
      { name: 'windingTimeConstantMin', description: 'winding time constant (default 4 min)', unit: 'min', required: false, positive: true },
    ],
    outputs: [
      { name: 'hot_spot_temp', description: 'Winding hot-spot temperature, IEEE C57.91 (calculated)', unit: '°C', deadband: 0.2 },
      { name: 'ageing_factor', description: 'Insulation ageing acceleration factor F_AA, 1 at a 110 °C hot spot (calculated)', unit: '', deadband: 0.01 },
      { name: 'loss_of_life_h', description: 'Insulation life consumed, in hours of normal ageing, since the counter started (calculated)', unit: 'h', deadband: 0.01 },
      { ...energy('powerKw'), needs: 'powerKw' },
    ],
  },
  ups: {
    description: 'UPS efficiency, battery runtime at the present load, battery health trend, and an output energy counter',
    inputs: [
      { name: 'inputKw', description: 'input active power (kW)', defaultTag: 'input_power_kw', unit: 'kW', required: true },
      { name: 'outputKw', description: 'output active power, the IT load (kW)', defaultTag: 'output_power_kw', unit: 'kW', required: true },
      { name: 'socPct', description: 'battery state of charge (%)', defaultTag: 'battery_soc_pct', unit: '%', required: false },
      { name: 'sohPct', description: 'battery state of health (%)', defaultTag: 'battery_health_pct', unit: '%', required: false },
    ],
    params: [
      { name: 'ratedKw', description: 'rated output power', unit: 'kW', required: true, positive: true },
      { name: 'batteryEnergyKwh', description: 'energy of the new, fully charged battery at batteryReferenceKw; runtime_min needs it', unit: 'kWh', required: false, positive: true },
      { name: 'batteryReferenceKw', description: 'DC discharge power at which batteryEnergyKwh is stated (default ratedKw)', unit: 'kW', required: false, positive: true },
      { name: 'peukertExponent', description: 'k ≥ 1 (default 1.15)', unit: '', required: false, min: 1 },
      { name: 'replaceAtPct', description: 'state of health at which the battery is due for replacement (default 80)', unit: '%', required: false, min: 0, max: 100 },
    ],
    outputs: [
      { name: 'efficiency_pct', description: 'Conversion efficiency: output ÷ input (calculated)', unit: '%', deadband: 0.05 },
      { name: 'runtime_min', description: 'Runtime on battery at the present load (calculated)', unit: 'min', deadband: 0.5, needs: 'batteryEnergyKwh' },
      { name: 'battery_health_trend', description: 'Battery state-of-health trend over the kept hourly points (calculated; negative: declining)', unit: '%/30d', deadband: 0.05, needs: 'sohPct' },
      { name: 'battery_replace_days', description: 'Days until the trend reaches replaceAtPct (calculated; absent while not declining)', unit: 'd', deadband: 1, needs: 'sohPct' },
      energy('outputKw'),
    ],
  },
  facility: {
    description: 'Facility KPIs: IT load, facility and cooling power, PUE, cooling per IT kW, and energy counters',
    inputs: [
      { name: 'itMeters', description: 'meters whose sum is the IT load ("device.tag", kW)', list: true, unit: 'kW', required: true },
      { name: 'facilityMeters', description: 'meters whose sum is the facility power ("device.tag", kW)', list: true, unit: 'kW', required: true },
      { name: 'coolingMeters', description: 'meters whose sum is the cooling plant power ("device.tag", kW)', list: true, unit: 'kW', required: false },
    ],
    params: [{ name: 'minItKw', description: 'ratios over IT power are left out below this IT load (default 1 kW)', unit: 'kW', required: false, min: 0 }],
    outputs: [
      { name: 'it_load_kw', description: 'IT load: sum of the IT meters (calculated)', unit: 'kW', deadband: 1 },
      { name: 'facility_power_kw', description: 'Facility power: sum of the facility meters (calculated)', unit: 'kW', deadband: 1 },
      { name: 'cooling_power_kw', description: 'Cooling plant power: sum of the cooling meters (calculated)', unit: 'kW', deadband: 1, needs: 'coolingMeters' },
      { name: 'pue', description: 'Power usage effectiveness, live: facility ÷ IT power (calculated)', unit: '', deadband: 0.005 },
      { name: 'cooling_kw_per_it_kw', description: 'Cooling power per kW of IT load (calculated)', unit: 'kW/kW', deadband: 0.005, needs: 'coolingMeters' },
      { name: 'it_energy_kwh', description: 'IT energy counter (calculated)', unit: 'kWh', deadband: 0.1 },
      { name: 'facility_energy_kwh', description: 'Facility energy counter (calculated)', unit: 'kWh', deadband: 0.1 },
      { name: 'cooling_energy_kwh', description: 'Cooling energy counter (calculated)', unit: 'kWh', deadband: 0.1, needs: 'coolingMeters' },
    ],
  },
};

/** A tag of another device that a calculation reads. */
export interface TagRef {
  device: string;
  tag: string;
}

/** A resolved calculation: what the calculated device's driver runs. */
export interface CalculationSpec {
  model: CalculationModel;
  /** The device whose tags feed an equipment model; null for facility. */
  source: string | null;
  /** Configured inputs (single or list); unconfigured optional inputs are absent. */
  inputs: Readonly<Record<string, readonly TagRef[]>>;
  /** Ratings and settings, validated against the model's definition. */
  params: Readonly<Record<string, number>>;
  /** An input whose latest reading is older than this counts as missing (stale). */
  maxInputAgeMs: number;
}

/** The output a calculated tag carries (its `Tag.source`). Every output is a number. */
export interface CalculatedOutput {
  output: string;
  type: 'float64';
}

/** The outputs a spec produces: the model's, less those whose input or param is not configured. */
export function outputsOf(spec: Pick<CalculationSpec, 'model' | 'inputs' | 'params'>): CalculationOutputDef[] {
  return CALCULATION_MODEL_DEFS[spec.model].outputs.filter((o) => o.needs === undefined || o.needs in spec.inputs || o.needs in spec.params);
}
