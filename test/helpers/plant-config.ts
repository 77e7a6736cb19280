import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigText, type ResolvedConfig } from '../../config/load.js';
import type { PlantSimulator } from '../../simulators/index.js';

export interface PlantConfigOptions {
  brokerUrl: string;
  bufferPath?: string;
  pollIntervalMs?: number;
  maxSilenceMs?: number;
  statusEnabled?: boolean;
  gatewayId?: string;
  backoffInitialMs?: number;
  drainRatePerSec?: number;
  /** MQTT credentials; the password is referenced from this environment (as `{ env: ALLBIT_TEST_MQTT_PASSWORD }`). */
  credentials?: { username: string; password: string };
  /** Alarm configs per device id (devices[].alarms). */
  alarms?: Record<string, unknown[]>;
  /** Calculated devices (the config's `calculated:` list), as written in YAML. */
  calculated?: unknown[];
  /** The config's `report:` block (default: report disabled, so tests do not write reports they do not check). */
  report?: Record<string, unknown>;
}

/** A real YAML config for the simulator's four devices, written to a temp folder and loaded through the real loader. */
export function plantConfig(sim: PlantSimulator, options: PlantConfigOptions): { file: string; text: string; config: ResolvedConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-plant-'));
  const doc = {
    gateway: { id: options.gatewayId ?? 'test-edge' },
    mqtt: {
      url: options.brokerUrl,
      publishTimeoutMs: 3000,
      reconnectPeriodMs: 200,
      ...(options.credentials ? { username: options.credentials.username, password: { env: 'ALLBIT_TEST_MQTT_PASSWORD' } } : {}),
    },
    buffer: { path: options.bufferPath ?? join(dir, 'outbox.db'), drainRatePerSec: options.drainRatePerSec ?? 500 },
    status: { enabled: options.statusEnabled ?? true, host: '127.0.0.1', port: 0 },
    defaults: {
      pollIntervalMs: options.pollIntervalMs ?? 200,
      timeoutMs: 500,
      maxSilenceMs: options.maxSilenceMs ?? 0,
      backoffInitialMs: options.backoffInitialMs ?? 100,
      backoffMaxMs: 1000,
    },
    log: { level: 'warn' },
    devices: sim.devices.map((d) => ({ id: d.id, profile: d.kind, host: d.host, port: d.port, unitId: d.unitId, ...(options.alarms?.[d.id] ? { alarms: options.alarms[d.id] } : {}) })),
    ...(options.calculated ? { calculated: options.calculated } : {}),
    report: options.report ?? { enabled: false },
  };
  const text = stringify(doc);
  const file = join(dir, 'allbit.yaml');
  writeFileSync(file, text);
  const env = options.credentials ? { ALLBIT_TEST_MQTT_PASSWORD: options.credentials.password } : {};
  return { file, text, config: loadConfigText(text, file, { env }), dir };
}
