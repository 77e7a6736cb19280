/**
 * The agent's configuration for one scenario, written as a real YAML file (with the bulk device
 * profiles in a profile folder) and loaded by the agent through the real CLI — the same path an
 * operator's config takes. Poll every second, report every poll (maxSilenceMs 0: the worst case).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigText } from '../config/load.js';
import { generatePassword, hashPassword, writePasswordFile } from '../agent/status/password-file.js';
import type { SimDevice } from './sim-process.js';
import { bulkProfile } from './bulk-device.js';

export interface AgentConfigOptions {
  dir: string;
  gatewayId: string;
  brokerUrl: string;
  devices: readonly SimDevice[];
  pollIntervalMs: number;
  /** The daily report's history (hourly statistics of every reading); on by default, as for an operator. */
  report?: boolean;
}

export const PLANT_PROFILES = ['chiller', 'cooling-tower', 'transformer', 'ups'] as const;

function configDocument(options: Omit<AgentConfigOptions, 'dir'> & { bufferPath: string; profileDir: string; passwordFile?: string }): object {
  return {
    gateway: { id: options.gatewayId, name: `allbit bench ${options.gatewayId}` },
    mqtt: { url: options.brokerUrl },
    buffer: { path: options.bufferPath },
    status: { enabled: true, host: '127.0.0.1', port: 0, ...(options.passwordFile ? { passwordFile: options.passwordFile } : {}) },
    defaults: { pollIntervalMs: options.pollIntervalMs, timeoutMs: 1000, maxSilenceMs: 0 },
    profileDirs: [options.profileDir],
    log: { level: 'info' },
    report: { enabled: options.report ?? true, dir: 'reports' },
    devices: options.devices.map((d) => ({
      id: d.id,
      profile: d.profile === 'bulk' ? `bench-bulk-${d.tags}` : d.profile,
      host: d.host,
      port: d.port,
      unitId: d.unitId,
    })),
  };
}

/** Writes `allbit.yaml` and the bulk profiles into `dir`; returns the config file's path. */
export function writeAgentConfig(options: AgentConfigOptions): string {
  const profileDir = join(options.dir, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  for (const size of new Set(options.devices.filter((d) => d.profile === 'bulk').map((d) => d.tags!))) {
    writeFileSync(join(profileDir, `bench-bulk-${size}.yaml`), stringify(bulkProfile(size)));
  }
  // The status page's password exists already, as on a gateway after its first start: the one-off
  // scrypt hash of a first start (32 MiB for a moment) would otherwise be the agent's peak RSS.
  const passwordFile = join(options.dir, 'status-password.json');
  writePasswordFile(passwordFile, hashPassword(generatePassword()));
  const file = join(options.dir, 'allbit.yaml');
  writeFileSync(file, stringify(configDocument({ ...options, bufferPath: join(options.dir, 'outbox.db'), profileDir, passwordFile })));
  return file;
}

/** How many tags the plant simulator's four devices have under the built-in profiles. */
export function plantTagCount(): number {
  const devices = PLANT_PROFILES.map((profile, i) => ({ id: `${profile}-1`, profile, tags: null, host: '127.0.0.1', port: 1 + i, unitId: 1, blocks: [] }));
  const doc = configDocument({ gatewayId: 'count', brokerUrl: 'mqtt://127.0.0.1:1', devices, pollIntervalMs: 1000, bufferPath: 'unused.db', profileDir: '.' });
  const config = loadConfigText(stringify(doc), join(process.cwd(), 'plant-count.yaml'), { env: {} });
  return config.devices.reduce((n, d) => n + d.tags.length, 0);
}
