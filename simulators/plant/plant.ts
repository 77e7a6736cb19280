/**
 * The whole plant: IT load → UPS → heat → chiller → cooling tower, and everything electrical →
 * transformer. `step(dtS)` advances simulated time; each device's values are keyed by the point
 * names of its vendor register map. Deterministic for a given seed, start time and step sequence.
 */
import { chillerOutputs, type ChillerOutputs } from './chiller.js';
import { initialTowerState, stepTower, type TowerOutputs, type TowerState } from './cooling-tower.js';
import { FAULTS_BY_KIND, FaultBook, type FaultName } from './faults.js';
import { itLoadAt, type ItLoad } from './it-load.js';
import { initialTransformerState, stepTransformer, type TransformerOutputs, type TransformerState } from './transformer.js';
import { initialUpsState, stepUps, type UpsOutputs, type UpsState } from './ups.js';
import { weatherAt, type Weather } from './weather.js';

export type DeviceKind = 'chiller' | 'cooling-tower' | 'transformer' | 'ups';
export const DEVICE_KINDS: readonly DeviceKind[] = ['chiller', 'cooling-tower', 'transformer', 'ups'];
export type PointValue = number | boolean | string;

/** Heat from CHW pumps, lighting and the electrical room that the chiller also removes (kW). */
const MISC_HEAT_KW = 45;
/** Electrical load of CHW/CW pumps, air handlers' fans and building services (kW). */
const AUX_ELECTRICAL_KW = 85;
const CHW_SETPOINT_C = 7;

export interface PlantOptions {
  seed: number;
  startTimeMs: number;
}

export interface PlantSnapshot {
  timeMs: number;
  it: ItLoad;
  weather: Weather;
  ups: UpsOutputs;
  chiller: ChillerOutputs;
  tower: TowerOutputs;
  transformer: TransformerOutputs;
}

export class Plant {
  readonly seed: number;
  private elapsedMs = 0;
  private readonly startTimeMs: number;
  private readonly faults: Record<DeviceKind, FaultBook> = {
    chiller: new FaultBook(),
    'cooling-tower': new FaultBook(),
    transformer: new FaultBook(),
    ups: new FaultBook(),
  };
  private readonly tower: TowerState = initialTowerState();
  private readonly transformer: TransformerState = initialTransformerState();
  private readonly ups: UpsState = initialUpsState();
  private chillerRunHours = 18_734;
  private last!: PlantSnapshot;

  constructor(opts: PlantOptions) {
    this.seed = opts.seed;
    this.startTimeMs = opts.startTimeMs;
    // start from a settled plant: lags jump to equilibrium (the tower/chiller loop needs a few passes)
    for (let i = 0; i < 8; i++) this.advance(0, true);
  }

  get timeMs(): number {
    return this.startTimeMs + this.elapsedMs;
  }

  snapshot(): PlantSnapshot {
    return this.last;
  }

  step(dtS: number): void {
    if (!Number.isFinite(dtS) || dtS < 0) throw new RangeError(`step: dtSeconds must be a finite number ≥ 0, got ${dtS}`);
    // long steps are split so the lags and fault ramps stay smooth (1 s resolution is plenty)
    let remaining = dtS;
    while (remaining > 0) {
      const dt = Math.min(remaining, 1);
      this.elapsedMs += dt * 1000;
      this.faults.chiller.advance(dt);
      this.faults['cooling-tower'].advance(dt);
      this.faults.transformer.advance(dt);
      this.faults.ups.advance(dt);
      this.advance(dt, false);
      remaining -= dt;
    }
  }

  injectFault(kind: DeviceKind, fault: string, severity: number, rampSeconds?: number): void {
    const known = FAULTS_BY_KIND[kind] as Partial<Record<FaultName, number>>;
    const defaultRamp = known[fault as FaultName];
    if (defaultRamp === undefined) {
      throw new Error(`${kind}: unknown fault "${fault}" (known: ${Object.keys(known).join(', ')})`);
    }
    this.faults[kind].set(fault as FaultName, severity, rampSeconds ?? defaultRamp);
  }

  clearFault(kind: DeviceKind, fault: string): void {
    const known = FAULTS_BY_KIND[kind] as Partial<Record<FaultName, number>>;
    if (known[fault as FaultName] === undefined) {
      throw new Error(`${kind}: unknown fault "${fault}" (known: ${Object.keys(known).join(', ')})`);
    }
    this.faults[kind].clear(fault as FaultName);
  }

  faultSeverity(kind: DeviceKind, fault: FaultName): number {
    return this.faults[kind].severity(fault);
  }

  private advance(dtS: number, settle: boolean): void {
    const timeMs = this.timeMs;
    const it = itLoadAt(this.seed, timeMs);
    const weather = weatherAt(this.seed, timeMs);
    const ups = stepUps(this.ups, { itKw: it.totalKw, ageing: this.faults.ups.severity('battery-ageing') }, this.seed, timeMs, dtS, settle);
    const heatLoadKw = it.totalKw + ups.lossesKw + MISC_HEAT_KW;
    const chiller = chillerOutputs({
      heatLoadKw,
      cwEnteringC: this.tower.basinC,
      setpointC: CHW_SETPOINT_C,
      fouling: this.faults.chiller.severity('condenser-fouling'),
    });
    if (!settle && chiller.running) this.chillerRunHours += dtS / 3600;
    const tower = stepTower(
      this.tower,
      {
        enteringWaterC: chiller.cwLeavingC,
        heatRejectedKw: chiller.coolingKw + chiller.powerKw,
        wetBulbC: weather.wetBulbC,
        fanFailure: this.faults['cooling-tower'].severity('fan-failure'),
      },
      dtS,
      settle,
    );
    const transformer = stepTransformer(
      this.transformer,
      {
        loadKw: ups.inputPowerKw + chiller.powerKw + tower.fanPowerKw + AUX_ELECTRICAL_KW,
        powerFactor: 0.95,
        ambientC: weather.dryBulbC,
        overload: this.faults.transformer.severity('overload'),
      },
      this.seed,
      timeMs,
      dtS,
      settle,
    );
    this.last = { timeMs, it, weather, ups, chiller, tower, transformer };
  }

  /** The device's physical values by point name, as of the last step. */
  values(kind: DeviceKind): Record<string, PointValue> {
    const s = this.last;
    switch (kind) {
      case 'chiller': {
        const c = s.chiller;
        return {
          chw_supply_temp: c.chwSupplyC,
          chw_return_temp: c.chwReturnC,
          cw_entering_temp: c.cwEnteringC,
          cw_leaving_temp: c.cwLeavingC,
          evap_pressure: c.evapPressureKpa,
          cond_pressure: c.condPressureKpa,
          evap_sat_temp: c.evapSatC,
          cond_sat_temp: c.condSatC,
          cond_approach: c.condApproachK,
          compressor_current: c.compressorCurrentA,
          power_kw: c.powerKw,
          kw_per_ton: c.kwPerTon,
          capacity_pct: c.capacityPct,
          cooling_load_kw: c.coolingKw,
          run_hours: this.chillerRunHours,
          alarm_word: c.alarmWord,
          running: c.running,
          capacity_limited: c.capacityLimited,
          chw_setpoint: CHW_SETPOINT_C,
          enable: true,
          chw_flow_ok: true,
          cw_flow_ok: true,
          general_alarm: c.alarmWord !== 0,
          model: 'ALB-CVX500-VSD',
          serial_number: 'CH23-04571',
        };
      }
      case 'cooling-tower': {
        const t = s.tower;
        return {
          leaving_water_temp: t.leavingWaterC,
          entering_water_temp: s.chiller.cwLeavingC,
          basin_temp: this.tower.basinC,
          ambient_wet_bulb: s.weather.wetBulbC,
          ambient_dry_bulb: s.weather.dryBulbC,
          approach_temp: t.approachK,
          range_temp: t.rangeK,
          fan_speed_pct: this.tower.fanSpeedFrac * 100,
          fan_power_kw: t.fanPowerKw,
          fan_vibration: t.fanVibrationMmS,
          makeup_water_total: this.tower.makeupLitres,
          fan_run_hours: this.tower.fanRunHours,
          fan_running: t.fanRunning,
          fan_fault: t.fanFault,
          fan_enable: true,
          basin_level_low: false,
          model: 'ALB-CT2100-IDX',
        };
      }
      case 'transformer': {
        const x = s.transformer;
        return {
          oil_temp: x.oilC,
          winding_temp: x.windingC,
          ambient_temp: x.ambientC,
          voltage_l1_l2: x.voltageL1L2,
          voltage_l2_l3: x.voltageL2L3,
          voltage_l3_l1: x.voltageL3L1,
          current_l1: x.currentL1,
          current_l2: x.currentL2,
          current_l3: x.currentL3,
          active_power_kw: x.activePowerKw,
          apparent_power_kva: x.apparentPowerKva,
          power_factor: x.powerFactor,
          frequency: x.frequencyHz,
          load_pct: x.loadPct,
          thd_voltage_pct: x.thdVoltagePct,
          thd_current_pct: x.thdCurrentPct,
          energy_import_wh: this.transformer.energyWh,
          oil_temp_alarm: x.oilC > 90,
          winding_temp_alarm: x.windingC > 110,
          cooling_fans_on: x.oilC > 65,
          rated_power_kva: 2500,
          serial_number: 'TR19-88213',
        };
      }
      case 'ups': {
        const u = s.ups;
        const x = s.transformer;
        return {
          input_voltage: (x.voltageL1L2 + x.voltageL2L3 + x.voltageL3L1) / 3 - 1.2,
          input_frequency: x.frequencyHz,
          output_voltage: 400 + 0.4 * Math.sin(s.timeMs / 97_000),
          output_frequency: x.frequencyHz,
          load_pct: u.loadPct,
          battery_soc_pct: u.socPct,
          battery_voltage: u.batteryVoltage,
          battery_current: u.batteryCurrentA,
          battery_temp: u.batteryTempC,
          battery_runtime_min: u.runtimeMin,
          output_power_kw: u.outputPowerKw,
          input_power_kw: u.inputPowerKw,
          efficiency_pct: u.efficiencyPct,
          battery_health_pct: u.batteryHealthPct,
          output_energy_kwh: this.ups.outputEnergyKwh,
          alarm_word: u.alarmWord,
          battery_temp_high: u.batteryTempHigh,
          on_battery: u.onBattery,
          battery_low: u.batteryLow,
          battery_replace: u.batteryReplace,
          bypass_active: false,
          rated_power_kw: 1600,
          model: 'ALB-UPS1600-DC',
          serial_number: 'UP22-31907',
        };
      }
    }
  }
}
