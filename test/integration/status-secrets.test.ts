/**
 * Secrets from the config never reach the page or the API: with an MQTT password (from the
 * environment) and a status-page password file, no endpoint — the page, its assets, every JSON
 * view, the live stream, /metrics — contains the password, the hash or its salt.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/core/logger.js';
import { startAgent } from '../../agent/runtime.js';
import { hashPassword, writePasswordFile } from '../../agent/status/password-file.js';
import { startPlantSimulator } from '../../simulators/index.js';
import { startAedes, waitForAsync } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The first `bytes` of the live stream. */
async function streamHead(url: string, bytes = 20_000): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  while (text.length < bytes) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    if (text.includes('event: alarms')) break;
  }
  controller.abort();
  return text;
}

describe('secrets and the status API', () => {
  it('no endpoint returns the MQTT password, the status-page password, its hash or its salt', async () => {
    const MQTT_SECRET = 'pl4nt-r00m-s3cret-mqtt';
    const PAGE_SECRET = 'operator password 4711';
    const sim = await startPlantSimulator({ autoRun: false, seed: 2 });
    cleanups.push(() => sim.close());
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const { config } = plantConfig(sim, {
      brokerUrl: broker.url,
      credentials: { username: 'allbit', password: MQTT_SECRET },
      alarms: { 'chiller-1': [{ type: 'comm-loss' }] },
      calculated: [{ id: 'site', model: 'facility', inputs: { itMeters: ['ups-1.output_power_kw'], facilityMeters: ['transformer-1.active_power_kw'] } }],
    });
    writePasswordFile(config.status.passwordFile, hashPassword(PAGE_SECRET));
    const stored = JSON.parse(readFileSync(config.status.passwordFile, 'utf8')) as Record<string, unknown>;
    const fileSecrets = Object.values(stored).filter((v): v is string => typeof v === 'string' && v.length >= 16);
    expect(fileSecrets.length, 'the hash and salt are in the file').toBeGreaterThanOrEqual(2);

    const agent = await startAgent({ config, logger: silentLogger, version: 'test' });
    cleanups.push(() => agent.stop());
    const base = `http://127.0.0.1:${agent.statusAddress!.port}`;
    await waitForAsync('every device polled', async () => ((await (await fetch(`${base}/api/overview`)).json()) as { devices: { health: { cycles: number } }[] }).devices.every((d) => d.health.cycles > 0), 10_000);

    const bodies: [string, string][] = [];
    for (const path of ['/', '/api/overview', '/api/devices', '/api/alarms', '/api/status', '/api/session', '/metrics', '/healthz', '/readyz', '/api/devices/chiller-1', '/api/devices/chiller-1/history', '/api/devices/site']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      bodies.push([path, await res.text()]);
    }
    const page = bodies[0][1];
    for (const asset of [...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])) bodies.push([asset, await (await fetch(base + asset)).text()]);
    expect(bodies.length).toBeGreaterThan(12);
    bodies.push(['/api/events?device=chiller-1', await streamHead(`${base}/api/events?device=chiller-1`)]);

    // DNS rebinding: the same request addressed to a foreign name is refused.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: agent.statusAddress!.port, path: '/api/status', headers: { host: `rebind.attacker.example:${agent.statusAddress!.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);

    for (const [path, body] of bodies) {
      for (const secret of [MQTT_SECRET, PAGE_SECRET, ...fileSecrets]) expect(body.includes(secret), `${path} contains a secret`).toBe(false);
    }
  });
});
