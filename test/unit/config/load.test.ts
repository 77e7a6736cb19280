import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../../helpers/config-problems.js';
import { loadConfigText } from '../../../config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'allbit-config-'));
const file = join(dir, 'gateway.yaml');

const base = `
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
devices:
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    port: 15020
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}, path = file): string[] {
  return configProblems(text, path, env);
}

describe('config loading', () => {
  it('resolves a device from its profile with defaults applied', () => {
    const config = loadConfigText(base, file, { env: {} });
    const device = config.devices[0];
    expect(device.connection).toEqual({ protocol: 'modbus-tcp', host: '127.0.0.1', port: 15020, unitId: 1 });
    expect(device.pollIntervalMs).toBe(1000);
    expect(device.tags.length).toBeGreaterThan(5);
    for (const tag of device.tags) expect(tag.description, tag.name).not.toBe('');
    expect(config.mqtt.clientId).toBe('allbit-edge-01');
    expect(Object.isFrozen(config.devices[0].tags[0])).toBe(true);
  });

  it('applies per-tag overrides, additions and exclusions', () => {
    const config = loadConfigText(
      base +
        `    exclude: [alarm_word]
    tags:
      - name: chw_supply_temp
        deadband: 0.25
      - name: site_code
        area: holding
        address: 900
        type: uint16
        unit: ""
`,
      file,
      { env: {} },
    );
    const tags = config.devices[0].tags;
    expect(tags.find((t) => t.name === 'chw_supply_temp')?.deadband).toBe(0.25);
    expect(tags.find((t) => t.name === 'site_code')?.source).toMatchObject({ area: 'holding', address: 900, type: 'uint16', order: 'ABCD' });
    expect(tags.find((t) => t.name === 'alarm_word')).toBeUndefined();
  });

  it('reports a wrong type with its path, line and the allowed values', () => {
    const out = problems(
      base +
        `    tags:
      - { name: extra, area: holding, address: 1, type: float }
`,
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^devices\[0\]\.tags\[0\]\.type \(line 10\): expected one of bool, int16, uint16, .*float64, string, got "float"$/);
  });

  it('lists every problem, not just the first', () => {
    const out = problems(`
gateway: { id: "Edge 01" }
mqtt: { url: "http://broker", qos: 2 }
defaults: { pollIntervalMs: -5 }
devices:
  - id: c1
    profile: chiller
    host: 127.0.0.1
    port: 70000
    tags:
      - { name: x, area: holding, address: 1, type: int16, order: ABDC }
`);
    expect(out.some((l) => l.startsWith('gateway.id (line 2):'))).toBe(true);
    expect(out.some((l) => l.startsWith('mqtt.url (line 3): expected a URL'))).toBe(true);
    expect(out.some((l) => l.startsWith('mqtt.qos (line 3): unknown setting'))).toBe(true);
    expect(out.some((l) => l.startsWith('defaults.pollIntervalMs (line 4):'))).toBe(true);
    expect(out.some((l) => l.startsWith('devices[0].port (line 9):'))).toBe(true);
    expect(out.some((l) => l.startsWith('devices[0].tags[0].order (line 11): expected one of ABCD, CDAB, BADC, DCBA, got "ABDC"'))).toBe(true);
  });

  it('checks tag semantics after the schema: bits, strings, areas, ranges, duplicates', () => {
    const out = problems(`
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1" }
devices:
  - id: d1
    host: 127.0.0.1
    tags:
      - { name: a, area: coil, address: 0, type: uint16 }
      - { name: b, area: holding, address: 0, type: bool }
      - { name: c, area: holding, address: 0, type: string }
      - { name: d, area: input, address: 65535, type: float32 }
      - { name: e, area: input, address: 0, type: int16, min: 5, max: 1 }
      - { name: a, area: coil, address: 1, type: bool }
      - { name: f, area: holding, address: 3 }
      - { name: g, area: coil, address: 0, type: uint16 }
  - id: d1
    host: 127.0.0.1
    profile: boiler
`);
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devices\[0\]\.tags\[5\]\.name .*duplicate tag name "a"/),
        expect.stringMatching(/^devices\[0\]\.tags\[7\]\.type .*a coil holds one bit: type must be bool, got uint16/),
        expect.stringMatching(/^devices\[0\]\.tags\[1\]\.bit .*needs bit/),
        expect.stringMatching(/^devices\[0\]\.tags\[2\]\.length .*needs length/),
        expect.stringMatching(/^devices\[0\]\.tags\[3\]\.address .*runs past the last register/),
        expect.stringMatching(/^devices\[0\]\.tags\[4\]\.min .*must be below max/),
        expect.stringMatching(/^devices\[0\]\.tags\[6\]\.type .*required for a tag not in the profile/),
        expect.stringMatching(/^devices\[1\]\.id .*duplicate device id "d1"/),
        expect.stringMatching(/^devices\[1\]\.profile .*unknown profile "boiler" \(available: chiller, cooling-tower, transformer, ups\)/),
      ]),
    );
  });

  it('reports YAML syntax errors with the line', () => {
    const out = problems('gateway: { id: edge-01\nmqtt: [\n');
    expect(out[0]).toMatch(/\(line \d+\): not valid YAML/);
  });

  it('accepts JSON and reports JSON syntax errors', () => {
    const json = JSON.stringify({ gateway: { id: 'g' }, mqtt: { url: 'mqtt://h' }, devices: [{ id: 'c', profile: 'ups', host: 'h' }] });
    expect(loadConfigText(json, join(dir, 'g.json'), { env: {} }).devices[0].tags.length).toBeGreaterThan(3);
    expect(problems('{"gateway": ', {}, join(dir, 'g.json'))[0]).toMatch(/^\(root\): not valid JSON/);
  });

  it('resolves secrets from env and files, and never prints them', () => {
    const secretFile = join(dir, 'mqtt-password');
    writeFileSync(secretFile, 'from-file-secret\n');
    const withEnv = loadConfigText(base.replace('mqtt: { url: "mqtt://127.0.0.1:1883" }', 'mqtt: { url: "mqtt://127.0.0.1:1883", username: u, password: { env: MQTT_PW } }'), file, {
      env: { MQTT_PW: 'from-env-secret' },
    });
    expect(withEnv.mqtt.password?.reveal()).toBe('from-env-secret');
    expect(JSON.stringify(withEnv)).not.toContain('from-env-secret');
    expect(inspect(withEnv, { depth: 10 })).not.toContain('from-env-secret');
    const withFile = loadConfigText(base.replace('mqtt: { url: "mqtt://127.0.0.1:1883" }', 'mqtt: { url: "mqtt://127.0.0.1:1883", password: { file: mqtt-password } }'), file, { env: {} });
    expect(withFile.mqtt.password?.reveal()).toBe('from-file-secret');
    const out = problems(base.replace('mqtt: { url: "mqtt://127.0.0.1:1883" }', 'mqtt: { url: "mqtt://127.0.0.1:1883", password: { env: NOPE }, tls: { ca: missing-ca.pem, key: { fil: x } } }'));
    expect(out).toEqual(expect.arrayContaining([expect.stringMatching(/^mqtt\.tls\.key \(line \d+\): expected a string, \{ env: VARIABLE \} or \{ file: PATH \}/)]));
    const out2 = problems(base.replace('mqtt: { url: "mqtt://127.0.0.1:1883" }', 'mqtt: { url: "mqtt://127.0.0.1:1883", password: { env: NOPE }, tls: { ca: missing-ca.pem } }'));
    expect(out2).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mqtt\.password \(line \d+\): environment variable NOPE is not set/),
        expect.stringMatching(/^mqtt\.tls\.ca \(line \d+\): file not found: .*missing-ca\.pem/),
      ]),
    );
  });

  it('finds profiles in the config\'s own profile folders before the built-in library', () => {
    mkdirSync(join(dir, 'profiles'), { recursive: true });
    writeFileSync(
      join(dir, 'profiles', 'crac.yaml'),
      'name: crac\ndescription: Computer-room air conditioner\nprotocol: modbus\ntags:\n  - { name: supply_air_temp, unit: "°C", description: Supply air, area: input, address: 0, type: int16, scale: 0.1 }\n',
    );
    const config = loadConfigText(base.replace('profile: chiller', 'profile: crac') + 'profileDirs: [profiles]\n', file, { env: {} });
    expect(config.devices[0].tags.map((t) => t.name)).toEqual(['supply_air_temp']);
  });
});
