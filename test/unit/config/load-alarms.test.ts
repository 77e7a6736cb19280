import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../../helpers/config-problems.js';
import { loadConfigText } from '../../../config/load.js';

const file = join(mkdtempSync(join(tmpdir(), 'allbit-config-alarms-')), 'gateway.yaml');
const head = `
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    alarms:
`;

function problems(text: string): string[] {
  return configProblems(text, file);
}

describe('config: alarms', () => {
  it('resolves limit, rate, bit, status and comm-loss alarms into engine rules', () => {
    const config = loadConfigText(
      head +
        `      - { type: high, tag: chw_supply_temp, limit: 18, deadband: 0.3, priority: high, onDelayMs: 30000 }
      - { type: rate, tag: chw_supply_temp, maxRisePerMin: 0.5, windowMs: 300000 }
      - { type: bit, tag: alarm_word, bit: 1, priority: critical, message: "{device}: high condenser pressure" }
      - { type: status, tag: chw_flow_ok, alarmWhen: false, priority: critical }
      - { type: comm-loss, priority: critical }
`,
      file,
      { env: {} },
    );
    expect(config.alarms.map((a) => [a.id, a.tag, a.condition, a.priority])).toEqual([
      ['chiller-1.chw_supply_temp.high', 'chw_supply_temp', { kind: 'limit', level: 'H', limit: 18, deadband: 0.3 }, 'high'],
      ['chiller-1.chw_supply_temp.rate', 'chw_supply_temp', { kind: 'rate', windowMs: 300000, maxRisePerMin: 0.5 }, 'medium'],
      ['chiller-1.alarm_word.bit', 'alarm_word', { kind: 'discrete', bit: 1, alarmWhen: true }, 'critical'],
      ['chiller-1.chw_flow_ok.status', 'chw_flow_ok', { kind: 'discrete', alarmWhen: false }, 'critical'],
      ['chiller-1.device.comm-loss', config.devices[0].tags[0].name, { kind: 'quality', on: 'comm-lost' }, 'critical'],
    ]);
    expect(config.alarms[0]).toMatchObject({ unit: '°C', onDelayMs: 30000, offDelayMs: 0, suppressOnCommLoss: true, message: expect.stringContaining('{limit}') });
    expect(config.alarms[4].suppressOnCommLoss).toBe(false);
  });

  it('names every wrong alarm with its place', () => {
    const found = problems(
      head +
        `      - { type: high, tag: chw_supply_temp }
      - { type: high, tag: no_such_tag, limit: 3 }
      - { type: rate, tag: chw_supply_temp }
      - { type: bit, tag: chw_supply_temp }
      - { type: status, tag: power_kw }
      - { type: low, tag: model, limit: 1 }
      - { type: comm-loss, tag: power_kw }
      - { type: high, tag: power_kw, limit: 500, bit: 2 }
      - { type: high, tag: power_kw, limit: 600 }
      - { type: high, tag: power_kw, limit: 650 }
`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devices\[0\]\.alarms\[0\]\.limit .*a high alarm needs a limit/),
        expect.stringMatching(/^devices\[0\]\.alarms\[1\]\.tag .*device chiller-1 has no tag "no_such_tag"/),
        expect.stringMatching(/^devices\[0\]\.alarms\[2\]\.maxRisePerMin .*needs maxRisePerMin, maxFallPerMin or both/),
        expect.stringMatching(/^devices\[0\]\.alarms\[3\]\.bit .*needs bit/),
        expect.stringMatching(/^devices\[0\]\.alarms\[4\]\.type .*a status alarm needs a bool tag/),
        expect.stringMatching(/^devices\[0\]\.alarms\[5\]\.type .*tag model is string: a low alarm needs a numeric tag/),
        expect.stringMatching(/^devices\[0\]\.alarms\[6\]\.tag .*comm-loss alarm watches the device/),
        expect.stringMatching(/^devices\[0\]\.alarms\[7\]\.bit .*bit applies to bit alarms, not high/),
        expect.stringMatching(/^devices\[0\]\.alarms\[9\]\.id .*alarm id "chiller-1\.power_kw\.high" is already used at devices\[0\]\.alarms\[8\]/),
      ]),
    );
  });
});

describe('config: predictive and anomaly alarms', () => {
  it('resolves them with their defaults, and refuses their settings on other types', () => {
    const config = loadConfigText(
      head +
        `      - { type: predict, tag: cond_approach, limit: 5 }
      - { type: anomaly, tag: power_kw, zThreshold: 7 }
`,
      file,
      { env: {} },
    );
    expect(config.alarms.map((a) => a.condition)).toEqual([
      { kind: 'predict', threshold: 5, direction: 'rising', windowMs: 1_800_000, horizonMs: 1_800_000, sampleEveryMs: 30_000, minConfidence: 0.95 },
      { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 7, sampleEveryMs: 10_000, minStd: 0 },
    ]);
    const found = problems(head + `      - { type: high, tag: power_kw, limit: 500, alpha: 0.1 }\n      - { type: predict, tag: cond_approach }\n      - { type: anomaly, tag: model }\n`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devices\[0\]\.alarms\[0\]\.alpha .*apply to anomaly alarms, not high/),
        expect.stringMatching(/^devices\[0\]\.alarms\[1\]\.limit .*a predict alarm needs a limit/),
        expect.stringMatching(/^devices\[0\]\.alarms\[2\]\.type .*tag model is string: an anomaly alarm needs a numeric tag/),
      ]),
    );
  });
});

describe('config: residual anomaly alarms (expected from an equipment model)', () => {
  it('resolves the model with its input\'s unit, the default freshness bound and the residual message', () => {
    const config = loadConfigText(
      head +
        `      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [30, 0.15, 0.00003] } }
      - { type: anomaly, tag: compressor_current, sampleEveryMs: 30000, expected: { from: power_kw, coefficients: [5, 1.6], maxInputAgeMs: 45000 }, message: "{tag} {value}, expected {expected}" }
`,
      file,
      { env: {} },
    );
    expect(config.alarms.map((a) => [a.id, a.condition])).toEqual([
      [
        'chiller-1.power_kw.anomaly',
        { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 6, sampleEveryMs: 10_000, minStd: 0, expected: { from: 'cooling_load_kw', fromUnit: 'kW', coefficients: [30, 0.15, 0.00003], maxInputAgeMs: 20_000 } },
      ],
      [
        'chiller-1.compressor_current.anomaly',
        { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 6, sampleEveryMs: 30_000, minStd: 0, expected: { from: 'power_kw', fromUnit: 'kW', coefficients: [5, 1.6], maxInputAgeMs: 45_000 } },
      ],
    ]);
    expect(config.alarms[0].message).toBe('{device} {tag} is {value} {unit}, expected {expected} {unit} from {from} {fromValue} {fromUnit} (more than {z} standard deviations off)');
    expect(config.alarms[1].message).toBe('{tag} {value}, expected {expected}');
  });

  it('defaults the freshness bound to two poll intervals when the device polls more slowly than it samples', () => {
    const config = loadConfigText(
      head.replace('    host: 127.0.0.1\n', '    host: 127.0.0.1\n    pollIntervalMs: 15000\n') + `      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [0, 0.2] } }\n`,
      file,
      { env: {} },
    );
    expect(config.alarms[0].condition).toMatchObject({ kind: 'anomaly', expected: { maxInputAgeMs: 30_000 } });
  });

  it('names every wrong model with its place', () => {
    const found = problems(
      head +
        `      - { type: anomaly, tag: power_kw, expected: { from: x, coefficients: [1] } }
      - { type: anomaly, tag: power_kw, expected: { from: power_kw, coefficients: [1] } }
      - { type: anomaly, tag: power_kw, expected: { from: model, coefficients: [1] } }
      - { type: anomaly, tag: power_kw, expected: { from: running, coefficients: [1] } }
      - { type: high, tag: power_kw, limit: 500, expected: { from: cooling_load_kw, coefficients: [1] } }
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [1], maxInputAgeMs: 500 } }
`,
    );
    expect(found).toEqual([
      expect.stringMatching(/^devices\[0\]\.alarms\[0\]\.expected\.from .*: device chiller-1 has no tag "x"$/),
      expect.stringMatching(/^devices\[0\]\.alarms\[1\]\.expected\.from .*: the model input must be another tag than the one watched \(power_kw\)$/),
      expect.stringMatching(/^devices\[0\]\.alarms\[2\]\.expected\.from .*: tag model is string: a model input must be a numeric tag$/),
      expect.stringMatching(/^devices\[0\]\.alarms\[3\]\.expected\.from .*: tag running is bool: a model input must be a numeric tag$/),
      expect.stringMatching(/^devices\[0\]\.alarms\[4\]\.expected .*: expected \(an equipment model\) applies to anomaly alarms, not high$/),
      expect.stringMatching(/^devices\[0\]\.alarms\[5\]\.expected\.maxInputAgeMs .*: 500 ms is shorter than the device's poll interval \(1000 ms\)/),
    ]);
  });

  it('refuses a model without 1–4 finite coefficients or with an unknown setting', () => {
    const found = problems(
      head +
        `      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [] } }
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [1, 2, 3, 4, 5] } }
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [1, .inf] } }
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficients: [1, "0.2"] } }
      - { type: anomaly, tag: power_kw, expected: { from: cooling_load_kw, coefficient: [1] } }
      - { type: anomaly, tag: power_kw, expected: { coefficients: [1] } }
`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devices\[0\]\.alarms\[0\]\.expected\.coefficients .*: give 1 to 4 coefficients/),
        expect.stringMatching(/^devices\[0\]\.alarms\[1\]\.expected\.coefficients .*: give 1 to 4 coefficients/),
        expect.stringMatching(/^devices\[0\]\.alarms\[2\]\.expected\.coefficients\[1\] .*: expected number/),
        expect.stringMatching(/^devices\[0\]\.alarms\[3\]\.expected\.coefficients\[1\] .*: expected number, got "0\.2"/),
        expect.stringMatching(/^devices\[0\]\.alarms\[4\]\.expected\.coefficient .*: unknown setting/),
        expect.stringMatching(/^devices\[0\]\.alarms\[5\]\.expected\.from .*: required/),
      ]),
    );
  });
});
