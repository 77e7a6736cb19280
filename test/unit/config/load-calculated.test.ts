import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../config/load.js';
import { configProblems } from '../../helpers/config-problems.js';

const file = join(mkdtempSync(join(tmpdir(), 'allbit-config-calc-')), 'gateway.yaml');
const head = `
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
defaults: { pollIntervalMs: 2000 }
devices:
  - { id: chiller-1, profile: chiller, host: 127.0.0.1 }
  - { id: ups-1, profile: ups, host: 127.0.0.1, pollIntervalMs: 5000 }
  - id: meter-1
    host: 127.0.0.1
    tags: [ { name: kw, area: input, address: 0, type: float32 }, { name: status, area: input, address: 2, type: bool, bit: 0 } ]
calculated:
`;

describe('config: calculated devices', () => {
  it('resolves equipment and facility calculations into devices with the model\'s outputs as tags, defaults from the device library', () => {
    const config = loadConfigText(
      head +
        `  - { id: chiller-1-health, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 }, intervalMs: 10000 }
  - { id: ups-1-health, model: ups, source: ups-1, parameters: { ratedKw: 1600 } }
  - id: site
    model: facility
    inputs: { itMeters: [ups-1.output_power_kw], facilityMeters: [meter-1.kw] }
    alarms: [ { type: high, tag: pue, limit: 1.5 } ]
`,
      file,
    );
    const byId = new Map(config.devices.map((d) => [d.id, d]));
    const chiller = byId.get('chiller-1-health')!;
    expect(chiller.connection).toMatchObject({
      protocol: 'calc',
      calculation: { model: 'chiller', source: 'chiller-1', params: { nominalCoolingKw: 1760 }, maxInputAgeMs: 20_000 },
    });
    if (chiller.connection.protocol !== 'calc') throw new Error('unreachable');
    expect(chiller.connection.calculation.inputs.powerKw).toEqual([{ device: 'chiller-1', tag: 'power_kw' }]);
    expect(chiller.connection.calculation.inputs.running).toEqual([{ device: 'chiller-1', tag: 'running' }]);
    expect(chiller.pollIntervalMs).toBe(10_000);
    expect(chiller.tags.map((t) => `${t.name} ${t.unit}`)).toEqual(['kw_per_ton kW/TR', 'cop ', 'evap_approach K', 'cond_approach K', 'chw_delta_t K', 'energy_kwh kWh']);

    // No battery energy: no runtime; the UPS profile has a health tag, so the trend is there. Age limit from the 5 s source poll.
    const ups = byId.get('ups-1-health')!;
    expect(ups.tags.map((t) => t.name)).toEqual(['efficiency_pct', 'battery_health_trend', 'battery_replace_days', 'energy_kwh']);
    expect(ups.connection.protocol === 'calc' && ups.connection.calculation.maxInputAgeMs).toBe(15_000);

    const site = byId.get('site')!;
    expect(site.tags.map((t) => t.name)).toEqual(['it_load_kw', 'facility_power_kw', 'pue', 'it_energy_kwh', 'facility_energy_kwh']);
    expect(config.alarms.map((a) => a.id)).toEqual(['site.pue.high']);
  });

  it('names every mistake with its place', () => {
    const problems = configProblems(
      head +
        `  - { id: chiller-1, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }
  - { id: a, model: chiller, source: nothing, parameters: { nominalCoolingKw: 1760 } }
  - { id: b, model: chiller, source: ups-1, inputs: { powerKw: output_power_kw, foo: x }, parameters: { nominalCoolingKw: 0, speed: 2 } }
  - { id: c, model: ups, source: ups-1 }
  - { id: d, model: facility, source: ups-1, inputs: { itMeters: [ups-1.output_power_kw, ups-1.output_power_kw], facilityMeters: [meter-1.status, nope-1.kw, later.it_load_kw] } }
  - { id: e, model: facility, inputs: { itMeters: [ups-1.output_power_kw] } }
  - { id: later, model: facility, inputs: { itMeters: [meter-1.kw], facilityMeters: [meter-1.kw] }, alarms: [ { type: high, tag: kw, limit: 1 } ] }
`,
      file,
    );
    expect(problems).toEqual([
      'calculated[0].id (line 12): device id "chiller-1" is already used by another device',
      'calculated[1].source (line 13): no device "nothing" (available: chiller-1, ups-1, meter-1)',
      'calculated[2].inputs.foo (line 14): a chiller calculation has no input "foo" (inputs: powerKw, coolingKw, chwSupplyC, chwReturnC, cwLeavingC, evapSatC, condSatC, running)',
      'calculated[2].inputs.coolingKw (line 14): device ups-1 has no tag "cooling_load_kw" (the default for coolingKw, cooling delivered, evaporator duty (kW)): name the tag that holds it',
      'calculated[2].inputs.chwSupplyC (line 14): device ups-1 has no tag "chw_supply_temp" (the default for chwSupplyC, chilled-water supply temperature (°C)): name the tag that holds it',
      'calculated[2].inputs.chwReturnC (line 14): device ups-1 has no tag "chw_return_temp" (the default for chwReturnC, chilled-water return temperature (°C)): name the tag that holds it',
      'calculated[2].inputs.cwLeavingC (line 14): device ups-1 has no tag "cw_leaving_temp" (the default for cwLeavingC, condenser water leaving temperature (°C)): name the tag that holds it',
      'calculated[2].inputs.evapSatC (line 14): device ups-1 has no tag "evap_sat_temp" (the default for evapSatC, evaporator saturation temperature (°C)): name the tag that holds it',
      'calculated[2].inputs.condSatC (line 14): device ups-1 has no tag "cond_sat_temp" (the default for condSatC, condenser saturation temperature (°C)): name the tag that holds it',
      'calculated[2].parameters.nominalCoolingKw (line 14): nominalCoolingKw (nameplate cooling capacity) must be greater than 0 kW',
      'calculated[2].parameters.speed (line 14): a chiller calculation has no parameter "speed" (parameters: nominalCoolingKw, minLoadFraction)',
      'calculated[3].parameters.ratedKw (line 15): a ups calculation needs ratedKw (rated output power, kW)',
      'calculated[4].source (line 16): a facility calculation reads the meters named in inputs, not one source device: leave source out',
      'calculated[4].inputs.itMeters (line 16): a meter is listed twice: it would be counted twice',
      'calculated[4].inputs.facilityMeters[0] (line 16): tag meter-1.status is bool: this input needs a number',
      'calculated[4].inputs.facilityMeters[1] (line 16): no device "nope-1" (a calculation reads field devices and calculated devices listed before it)',
      'calculated[4].inputs.facilityMeters[2] (line 16): no device "later" (a calculation reads field devices and calculated devices listed before it)',
      'calculated[5].inputs.facilityMeters (line 17): a facility calculation needs facilityMeters: a list of "device.tag" meters (kW)',
      'calculated[6].alarms[0].tag (line 18): device later has no tag "kw"',
    ]);
    expect(configProblems(head + '  - { id: e, model: facility, inputs: { itMeters: ups-1.output_power_kw } }\n', file)).toEqual([
      'calculated[0].inputs.itMeters (line 12): expected a tag name of the source device, or for facility meters a list such as [ups-1.output_power_kw], got "ups-1.output_power_kw"',
    ]);
  });
});

describe('config: calculated devices check units', () => {
  it('refuses a meter in W where the formula sums kW, and a temperature in °F', () => {
    const text = `
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: pdu-1
    host: 127.0.0.1
    tags: [ { name: power, unit: W, area: input, address: 0, type: float32 }, { name: power_kw, unit: kW, area: input, address: 2, type: float32 }, { name: plain, area: input, address: 4, type: float32 } ]
  - { id: chiller-1, profile: chiller, host: 127.0.0.1, tags: [ { name: chw_supply_temp, unit: "°F" } ] }
calculated:
  - { id: site, model: facility, inputs: { itMeters: [pdu-1.power, pdu-1.plain], facilityMeters: [pdu-1.power_kw] } }
  - { id: ch, model: chiller, source: chiller-1, parameters: { nominalCoolingKw: 1760 } }
`;
    expect(configProblems(text, file)).toEqual([
      'calculated[0].inputs.itMeters[0] (line 10): tag pdu-1.power is in "W", this input needs kW (convert it on the tag: scale and unit)',
      'calculated[1].inputs.chwSupplyC (line 11): tag chiller-1.chw_supply_temp is in "°F", this input needs °C (convert it on the tag: scale and unit)',
    ]);
  });
});

describe('docs/configuration.md and the model catalogue', () => {
  it('documents every model\'s inputs, parameters and outputs (the catalogue is the source; the docs must not drift)', async () => {
    const { readFileSync } = await import('node:fs');
    const { CALCULATION_MODEL_DEFS } = await import('../../../agent/core/calculation.js');
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const [model, def] of Object.entries(CALCULATION_MODEL_DEFS)) {
      const section = docs.split(`\n### ${model}\n`)[1]?.split('\n### ')[0] ?? '';
      expect(section, `a section for ${model}`).not.toBe('');
      for (const name of [...def.inputs, ...def.params, ...def.outputs].map((x) => x.name)) expect(section, `${model}: ${name}`).toContain(`\`${name}\``);
    }
  });
});
