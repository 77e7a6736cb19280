/**
 * `allbit opcua browse | trust` as a technician runs them (the real CLI in a child process, from
 * the build) against the plant's OPC UA simulator, together with the driver: an untrusted server
 * certificate is refused with its thumbprint, `trust --yes` lets the driver in, a renewed
 * certificate after a restart is refused again, and `trust --config --device --thumbprint`
 * accepts exactly the certificate it names.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// node-opcua's load-time warning in this (test) process; the CLI children get the default level.
vi.hoisted(() => {
  process.env.NODEOPCUA_LOG_LEVEL ??= '3';
});

import { silentLogger } from '../../agent/core/logger.js';
import type { RawSample } from '../../agent/core/reading.js';
import { systemClock } from '../../agent/scheduler/system-clock.js';
import { loadConfigFile } from '../../config/load.js';
import { opcuaDescriptor } from '../../drivers/opcua/index.js';
import { startOpcUaSimulator, startPlantSimulator, type OpcUaSimulator, type PlantSimulator } from '../../simulators/index.js';
import { waitFor } from '../helpers/brokers.js';
import { assertBuilt, REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
/** The CLI children log at node-opcua's default level, so a warning on stdout would show. */
const CHILD_ENV = { NODEOPCUA_LOG_LEVEL: '4' };

let dir: string;
let plant: PlantSimulator;
let sim: OpcUaSimulator;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'allbit-opcua-cli-'));
  plant = await startPlantSimulator({ autoRun: false, seed: 1, startTimeMs: START });
  plant.step(120);
  sim = await startOpcUaSimulator({ plant, pkiDir: join(dir, 'server-pki'), devices: ['chiller-1'] });
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await plant?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: CHILD_ENV });
}

describe('allbit opcua', () => {
  it('explains itself and refuses bad usage with the command\'s help', async () => {
    const help = await cli(['opcua', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/allbit opcua browse\|trust/);
    const browseHelp = await cli(['opcua', 'browse', '--help']);
    expect(browseHelp.code).toBe(0);
    expect(browseHelp.stdout).toMatch(/--endpoint URL/);
    const missing = await cli(['opcua', 'browse']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^allbit opcua browse: --endpoint URL \(or --config FILE --device ID\) is required\n\nUsage: allbit opcua browse/);
    const badMode = await cli(['opcua', 'browse', '--endpoint', sim.endpointUrl, '--security-mode', 'Encrypt']);
    expect(badMode.code).toBe(1);
    expect(badMode.stderr).toMatch(/--security-mode: expected one of None, Sign, SignAndEncrypt, got "Encrypt"/);
    const overview = await runCli(['--help']);
    expect(overview.stdout).toMatch(/opcua browse/);
  });

  it('loading the driver module does not load node-opcua (a Modbus-only gateway does not pay for it)', () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const { opcuaDescriptor } = await import('./dist/drivers/opcua/index.js');
      const before = Object.keys(require.cache).filter((k) => k.includes('node-opcua')).length;
      await import('node-opcua-client');
      const after = Object.keys(require.cache).filter((k) => k.includes('node-opcua')).length;
      console.log(JSON.stringify({ kind: opcuaDescriptor.kind, before, after }));
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...CHILD_ENV } });
    expect(result.status, result.stderr).toBe(0);
    const counts = JSON.parse(result.stdout.trim().split('\n').pop()!) as { kind: string; before: number; after: number };
    expect(counts.kind).toBe('opcua');
    expect(counts.before).toBe(0);
    expect(counts.after).toBeGreaterThan(100);
  });

  it('browse prints the Plant folder and the NodeIds, types, units and values of the points', async () => {
    const result = await cli(['opcua', 'browse', '--endpoint', sim.endpointUrl, '--depth', '4']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`${sim.endpointUrl} (no security)`);
    expect(result.stdout).toMatch(/namespaces: .*ns=2 urn:allbit:simulator:plant/);
    expect(lines).toContain('Objects  i=85  Object');
    expect(lines).toContain('  Plant  ns=2;s=Plant  Object');
    expect(lines).toContain('    Chillers  ns=2;s=Plant.Chillers  Object');
    const temp = plant.values('chiller-1').chw_supply_temp;
    expect(lines).toContain(`        chw_supply_temp  ${sim.nodeIdOf('chiller-1', 'chw_supply_temp')}  Variable  Double  °C  = ${temp}`);
    expect(lines).toContain(`        model  ${sim.nodeIdOf('chiller-1', 'model')}  Variable  String  = "${plant.values('chiller-1').model}"`);
    expect(result.stdout).toMatch(/Server {2}i=2253 {2}Object {2}\(not expanded: --root i=2253\)/);
    expect(result.stdout).not.toMatch(/NODE-OPCUA/);
    // The client's own certificate went to ./data/pki of the working directory, nowhere else.
    expect(readdirSync(join(dir, 'data', 'pki', 'own', 'certs'))).toContain('client_certificate.pem');
  });

  it('trust: the driver refuses an unknown server certificate, trust --yes lets it in, a renewed one is refused again', async () => {
    const pkiDir = join(dir, 'agent-pki');
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      `gateway: { id: edge-01 }
mqtt: { url: "mqtt://127.0.0.1:9" }
opcua: { pkiDir: agent-pki }
devices:
  - id: chiller-ua
    endpoint: ${sim.endpointUrl}
    securityMode: SignAndEncrypt
    securityPolicy: Basic256Sha256
    timeoutMs: 3000
    publishingIntervalMs: 50
    tags:
      - { name: power_kw, nodeId: "${sim.expandedNodeIdOf('chiller-1', 'power_kw')}", unit: kW }
`,
    );
    const config = loadConfigFile(configFile);
    expect(config.opcua.pkiDir).toBe(pkiDir);
    const device = config.devices[0];
    const driver = opcuaDescriptor.create(device, { clock: systemClock, logger: silentLogger });
    const plan = driver.plan(device.tags);
    /** Reads (one at a time) until the sample satisfies `predicate`. */
    const readUntil = async (what: string, predicate: (sample: RawSample) => boolean): Promise<RawSample> => {
      let sample: RawSample | undefined;
      let pending = false;
      await waitFor(what, () => {
        if (!pending) {
          pending = true;
          void driver.read(plan).then((s) => {
            sample = s[0];
            pending = false;
          });
        }
        return sample !== undefined && predicate(sample);
      });
      return sample!;
    };
    try {
      const first = sim.certificateThumbprint;
      const refused = await driver.open().then(
        () => null,
        (e: Error) => e.message,
      );
      expect(refused).toMatch(new RegExp(`^device chiller-ua: server certificate of ${escape(sim.endpointUrl)} .*SHA-1 thumbprint ${first}\\) is not trusted`));
      expect(refused).toContain(`allbit opcua trust --endpoint ${sim.endpointUrl} --pki-dir ${pkiDir} --thumbprint ${first}`);

      // Without --yes it only shows the certificate.
      const shown = await cli(['opcua', 'trust', '--endpoint', sim.endpointUrl, '--pki-dir', pkiDir]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`SHA-1: +${first}`));
      expect(shown.stdout).toMatch(/subject: +CN=allbit plant simulator/);
      expect(shown.stdout).toMatch(/valid: +\d{4}-\d\d-\d\dT.* to \d{4}-/);
      expect(shown.stdout).toMatch(/not trusted \(BadCertificateUntrusted\)/);
      expect(shown.stdout).toContain(`--thumbprint ${first}`);
      expect(readdirSync(join(pkiDir, 'trusted', 'certs'))).toEqual([]);
      await expect(driver.open()).rejects.toThrow(/is not trusted/);

      const trusted = await cli(['opcua', 'trust', '--endpoint', sim.endpointUrl, '--pki-dir', pkiDir, '--yes']);
      expect(trusted.code).toBe(0);
      expect(trusted.stdout).toContain(`Trusted ${first}`);
      expect(trusted.stdout).not.toMatch(/NODE-OPCUA/);
      await driver.open();
      expect((await readUntil('a good value', (x) => x.quality === 'good')).value).toBe(plant.values('chiller-1').power_kw);

      // The server restarts with a new certificate: refused, naming the new thumbprint.
      const renewed = await sim.renewCertificate();
      expect(renewed).not.toBe(first);
      await sim.stop();
      await waitFor('the driver to lose the server', () => !driver.connected);
      await sim.start();
      expect(sim.certificateThumbprint).toBe(renewed);
      const refusedAgain = await driver.open().then(
        () => null,
        (e: Error) => e.message,
      );
      expect(refusedAgain).toMatch(new RegExp(`SHA-1 thumbprint ${renewed}\\) is not trusted`));
      expect(refusedAgain).not.toContain(first);

      // Trusting by the device's configuration and an explicit thumbprint: only that certificate.
      const wrong = await cli(['opcua', 'trust', '--config', configFile, '--device', 'chiller-ua', '--thumbprint', first]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`the server presents ${renewed}, not ${first}: nothing trusted`);
      const right = await cli(['opcua', 'trust', '--config', configFile, '--device', 'chiller-ua', '--thumbprint', renewed.toUpperCase()]);
      expect(right.code).toBe(0);
      expect(right.stdout).toMatch(/endpoints: +SignAndEncrypt Basic256Sha256\n/);
      expect(right.stdout).toContain(`Trusted ${renewed}`);
      await driver.open();
      plant.step(30);
      const power = plant.values('chiller-1').power_kw;
      await readUntil('power_kw after the step, over the channel to the renewed certificate', (x) => x.quality === 'good' && x.value === power);
    } finally {
      await driver.close();
    }
  }, 60_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
