import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../../helpers/config-problems.js';
import { loadConfigText, rtuInterFrameGapMs } from '../../../config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'allbit-config-transports-'));
const file = join(dir, 'gateway.yaml');

const head = `
gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:1883" }
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  return configProblems(text, file, env);
}

describe('config: Modbus RTU buses', () => {
  it('resolves a serial bus shared by two units, with Modbus defaults and the 3.5-character gap', () => {
    const config = loadConfigText(
      head +
        `buses:
  - { id: rs485-1, transport: serial, path: /dev/ttyUSB0 }
  - { id: gw-1, transport: tcp, host: 10.0.0.9, port: 4001, baudRate: 19200, parity: none, stopBits: 2 }
devices:
  - { id: chiller-2, profile: chiller, bus: rs485-1, unitId: 2 }
  - { id: tower-2, profile: cooling-tower, bus: rs485-1, unitId: 3 }
  - { id: ups-2, profile: ups, protocol: modbus-rtu, bus: gw-1, unitId: 7 }
`,
      file,
      { env: {} },
    );
    const [chiller, tower, ups] = config.devices;
    expect(chiller.connection.protocol).toBe('modbus-rtu');
    if (chiller.connection.protocol !== 'modbus-rtu' || tower.connection.protocol !== 'modbus-rtu' || ups.connection.protocol !== 'modbus-rtu') throw new Error('unreachable');
    expect(chiller.connection.unitId).toBe(2);
    // Both devices hold the same bus object: the runtime shares one line between them.
    expect(chiller.connection.bus).toBe(tower.connection.bus);
    expect(chiller.connection.bus).toMatchObject({ transport: 'serial', path: '/dev/ttyUSB0', baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 });
    // 9600 baud, 11 bits per character (start, 8 data, parity, stop): 3.5 × 11 / 9600 s.
    expect(chiller.connection.bus.interFrameGapMs).toBeCloseTo(4.0104, 3);
    expect(ups.connection.bus).toMatchObject({ transport: 'tcp', host: '10.0.0.9', port: 4001, baudRate: 19200 });
    // 19200 8N2 is 11 bits per character too.
    expect(ups.connection.bus.interFrameGapMs).toBeCloseTo((3.5 * 11 * 1000) / 19200, 6);
    expect(config.buses.map((b) => b.id)).toEqual(['rs485-1', 'gw-1']);
  });

  it('fixes the gap at 1.75 ms above 19200 baud, as the Modbus serial line specification does', () => {
    expect(rtuInterFrameGapMs(115200, 11)).toBe(1.75);
    expect(rtuInterFrameGapMs(9600, 10)).toBeCloseTo(3.6458, 3);
  });

  it('names every wrong combination with its place', () => {
    const found = problems(
      head +
        `buses:
  - { id: rs485-1, transport: serial, host: 10.0.0.1 }
  - { id: gw-1, transport: tcp, path: /dev/ttyS0 }
devices:
  - { id: chiller-2, profile: chiller, bus: rs485-9, unitId: 2 }
  - { id: tower-2, profile: cooling-tower, protocol: modbus-rtu }
  - { id: ups-2, profile: ups, bus: gw-1, unitId: 0, host: 10.0.0.5 }
`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^buses\[0\]\.path \(line \d+\): required for a serial bus/),
        expect.stringMatching(/^buses\[0\]\.host .*applies to a tcp bus/),
        expect.stringMatching(/^buses\[1\]\.host .*required for a tcp bus/),
        expect.stringMatching(/^buses\[1\]\.port .*required for a tcp bus/),
        expect.stringMatching(/^buses\[1\]\.path .*applies to a serial bus/),
        expect.stringMatching(/^devices\[0\]\.bus .*no bus "rs485-9" in buses/),
        expect.stringMatching(/^devices\[1\]\.bus .*required for a modbus-rtu device/),
        expect.stringMatching(/^devices\[2\]\.host .*applies to modbus-tcp devices; this device speaks modbus-rtu/),
        expect.stringMatching(/^devices\[2\]\.unitId .*1–247/),
      ]),
    );
  });

  it('refuses two devices with the same unit id on one bus', () => {
    const found = problems(
      head +
        `buses: [{ id: rs485-1, transport: serial, path: /dev/ttyUSB0 }]
devices:
  - { id: chiller-2, profile: chiller, bus: rs485-1, unitId: 2 }
  - { id: tower-2, profile: cooling-tower, bus: rs485-1, unitId: 2 }
`,
    );
    expect(found).toEqual([expect.stringMatching(/^devices\[1\]\.unitId .*unit 2 on bus rs485-1 is already device "chiller-2"/)]);
  });
});

describe('config: OPC UA devices', () => {
  it('resolves endpoint, security, identity from a secret, PKI folder relative to the config file, and node tags', () => {
    const config = loadConfigText(
      head +
        `opcua: { pkiDir: pki }
devices:
  - id: ahu-1
    endpoint: opc.tcp://10.0.0.20:4840/plant
    securityMode: SignAndEncrypt
    securityPolicy: Aes256_Sha256_RsaPss
    identity: { username: allbit, password: { env: OPCUA_PASSWORD } }
    pollIntervalMs: 500
    tags:
      - { name: supply_temp, nodeId: "ns=2;s=AHU1.SupplyTemp", unit: "°C", samplingIntervalMs: 250, serverDeadband: 0.1 }
      - { name: fan_running, nodeId: "nsu=urn:vendor:ahu;s=Fan.Running", mode: read }
`,
      file,
      { env: { OPCUA_PASSWORD: 's3cret-Pa55' } },
    );
    const [ahu] = config.devices;
    if (ahu.connection.protocol !== 'opcua') throw new Error('expected opcua');
    expect(ahu.connection).toMatchObject({
      endpointUrl: 'opc.tcp://10.0.0.20:4840/plant',
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Aes256_Sha256_RsaPss',
      pkiDir: join(dir, 'pki'),
      publishingIntervalMs: 500,
    });
    const identity = ahu.connection.identity;
    if (identity.type !== 'username') throw new Error('expected a username identity');
    expect(identity.password.reveal()).toBe('s3cret-Pa55');
    expect(inspect(config, { depth: 10 })).not.toContain('s3cret-Pa55');
    expect(JSON.stringify(config)).not.toContain('s3cret-Pa55');
    expect(ahu.tags.map((t) => t.source)).toEqual([
      { nodeId: 'ns=2;s=AHU1.SupplyTemp', mode: 'subscribe', samplingIntervalMs: 250, queueSize: 10, serverDeadband: 0.1 },
      { nodeId: 'nsu=urn:vendor:ahu;s=Fan.Running', mode: 'read', samplingIntervalMs: -1, queueSize: 10, serverDeadband: 0 },
    ]);
  });

  it('defaults to the data/pki folder beside the config file, never the home directory', () => {
    const config = loadConfigText(head + `devices: [{ id: ahu-1, endpoint: "opc.tcp://h:4840", tags: [{ name: t, nodeId: "i=2258" }] }]\n`, file, { env: {} });
    expect(config.opcua.pkiDir).toBe(join(dir, 'data', 'pki'));
  });

  it('names every wrong combination with its place', () => {
    writeFileSync(join(dir, 'present.pem'), 'x');
    const found = problems(
      head +
        `devices:
  - id: ahu-1
    endpoint: opc.tcp://10.0.0.20:4840
    securityMode: Sign
    unitId: 3
    identity: { certificate: missing.pem, privateKey: { file: missing.key } }
    tags:
      - { name: a, nodeId: "ns=2;s=A", area: holding, address: 3 }
      - { name: b, nodeId: "ns=2;s=B", type: float32 }
      - { name: c }
      - { name: d, nodeId: "ns=2;s=D", mode: read, queueSize: 5 }
      - { name: e, nodeId: "garbage" }
  - id: ahu-2
    protocol: opcua
    securityPolicy: Basic256Sha256
    tags: [{ name: a, nodeId: "i=85" }]
  - id: chiller-1
    profile: chiller
    host: 127.0.0.1
    tags: [{ name: extra, area: holding, address: 900, type: uint16, nodeId: "i=1" }]
`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devices\[0\]\.securityPolicy .*securityMode Sign needs a securityPolicy/),
        expect.stringMatching(/^devices\[0\]\.unitId .*applies to Modbus devices; this device speaks opcua/),
        expect.stringMatching(/^devices\[0\]\.identity\.certificate .*file not found: .*missing\.pem/),
        expect.stringMatching(/^devices\[0\]\.identity\.privateKey .*cannot read secret file/),
        expect.stringMatching(/^devices\[0\]\.tags\[0\]\.area .*applies to Modbus tags/),
        expect.stringMatching(/^devices\[0\]\.tags\[1\]\.type .*takes its type from the server/),
        expect.stringMatching(/^devices\[0\]\.tags\[2\]\.nodeId .*required for an OPC UA tag/),
        expect.stringMatching(/^devices\[0\]\.tags\[3\]\.mode .*apply to subscribed tags/),
        expect.stringMatching(/^devices\[0\]\.tags\[4\]\.nodeId .*expected an OPC UA NodeId/),
        expect.stringMatching(/^devices\[1\]\.endpoint .*required for an opcua device/),
        expect.stringMatching(/^devices\[1\]\.securityPolicy .*needs securityMode Sign or SignAndEncrypt/),
        expect.stringMatching(/^devices\[2\]\.tags\[0\]\.nodeId .*applies to OPC UA tags/),
      ]),
    );
  });

  it('refuses a Modbus profile on an OPC UA device', () => {
    const found = problems(head + `devices: [{ id: c, profile: chiller, endpoint: "opc.tcp://h:4840" }]\n`);
    expect(found).toEqual([expect.stringMatching(/^devices\[0\]\.profile .*profile "chiller" is for modbus devices, this device speaks opcua/)]);
  });
});

describe('config: OPC UA credentials need security', () => {
  it('refuses a username or certificate identity with securityMode None', () => {
    const found = problems(
      head + `devices: [{ id: ahu-1, endpoint: "opc.tcp://h:4840", identity: { username: u, password: p }, tags: [{ name: t, nodeId: "i=2258" }] }]\n`,
    );
    expect(found).toEqual([expect.stringMatching(/^devices\[0\]\.identity .*needs securityMode Sign or SignAndEncrypt/)]);
  });
});
