import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/core/logger.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { loadConfigText } from '../../config/load.js';
import { startPlantSimulator, type PlantSimulator } from '../../simulators/index.js';
import { collect, freePort, mosquittoStatus, startMosquitto, waitFor, type Collector, type TestBroker } from '../helpers/brokers.js';

/** A throwaway PKI made with openssl: a CA, a server certificate for 127.0.0.1 and a client certificate. */
function makePki(dir: string): void {
  const run = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=allbit test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=edge-01', '-keyout', 'client.key', '-out', 'client.csr');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=someone else', '-keyout', 'other-ca.key', '-out', 'other-ca.pem');
  // Mosquitto drops to its own user and must read its key (test files only).
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
}

const status = mosquittoStatus();

// Skipped only on a machine without Mosquitto that does not require it; CI sets ALLBIT_REQUIRE_MOSQUITTO=1, and then a missing broker fails in beforeAll.
describe.skipIf(!status.available && !status.required)('MQTT over TLS with a client certificate (Mosquitto)', () => {
  let dir: string;
  let broker: TestBroker;
  let tlsPort: number;
  let sim: PlantSimulator;
  let sub: Collector;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    if (!status.available) throw new Error(`Mosquitto is required (ALLBIT_REQUIRE_MOSQUITTO=1) but ${status.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'allbit-pki-'));
    chmodSync(dir, 0o755);
    makePki(dir);
    tlsPort = await freePort();
    broker = await startMosquitto({
      extraConfig: [
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${join(dir, 'ca.pem')}`,
        `certfile ${join(dir, 'server.pem')}`,
        `keyfile ${join(dir, 'server.key')}`,
        'require_certificate true',
      ],
    });
    sim = await startPlantSimulator({ autoRun: false });
    sub = await collect(broker.url, 'allbit/#');
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await sub?.close();
    await broker?.close();
    await sim?.close();
  });

  function config(tls: string, id: string) {
    const d = sim.devices[0];
    return loadConfigText(
      `gateway: { id: ${id} }
mqtt: { url: "mqtts://127.0.0.1:${tlsPort}", reconnectPeriodMs: 200, tls: ${tls} }
buffer: { path: ${JSON.stringify(join(dir, `${id}.db`))} }
status: { enabled: false }
devices:
  - { id: ${d.id}, profile: ${d.kind}, host: ${d.host}, port: ${d.port} }
`,
      join(dir, 'gateway.yaml'),
      { env: {} },
    );
  }

  it('connects with the CA and a client certificate whose key comes from a file reference, and delivers readings', async () => {
    const agent = await startAgent({ config: config('{ ca: ca.pem, cert: client.pem, key: { file: client.key } }', 'tls-ok'), logger: silentLogger, version: 'test' });
    agents.push(agent);
    await sub.until('readings over TLS', (ms) => ms.some((m) => m.topic === 'allbit/tls-ok/devices/chiller-1/data'));
    expect(agent.state.snapshot().broker?.state).toBe('connected');
  });

  it('refuses a broker whose certificate is not signed by the configured CA, with a clear error', async () => {
    const agent = await startAgent({ config: config('{ ca: other-ca.pem, cert: client.pem, key: { file: client.key } }', 'tls-bad-ca'), logger: silentLogger, version: 'test' });
    agents.push(agent);
    await waitFor('a TLS error', () => /certificate/i.test(agent.state.snapshot().broker?.lastError ?? ''));
    expect(agent.state.snapshot().broker?.state).not.toBe('connected');
    // Nothing is lost meanwhile: readings wait in the outbox.
    await waitFor('readings buffered', () => (agent.state.snapshot().buffer?.records ?? 0) > 0);
  });
});
