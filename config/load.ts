/**
 * Files, environment and secret references → one frozen, validated config.
 * Every problem is collected (not just the first) and reported as `path: message`, before
 * anything is opened or buffered.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { DeviceSpec } from '../agent/core/device.js';
import type { DataType, Tag } from '../agent/core/tag.js';
import { ConfigError, fromZodIssues, type ConfigIssue } from './issues.js';
import { z } from 'zod';
import { configSchema, deviceSchema, profileSchema, type Config, type DeviceConfig, type ProfileConfig, type SecretRef, type TagFieldsConfig } from './schema.js';
import { PACKAGE_ROOT } from './package-root.js';
import { Secret } from './secret.js';

export interface ResolvedMqttConfig extends Omit<Config['mqtt'], 'password' | 'tls' | 'clientId'> {
  clientId: string;
  password?: Secret;
  tls?: { ca?: string; cert?: string; key?: Secret; rejectUnauthorized: boolean };
}

export interface ResolvedConfig {
  /** Absolute path of the file it came from. */
  file: string;
  gateway: Config['gateway'];
  mqtt: ResolvedMqttConfig;
  buffer: Config['buffer'];
  status: Config['status'];
  log: Config['log'];
  devices: DeviceSpec[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** The built-in device library; defaults to config/profiles of this package. */
  builtinProfilesDir?: string;
}

export const BUILTIN_PROFILES_DIR = join(PACKAGE_ROOT, 'config', 'profiles');

export function loadConfigFile(file: string, options: LoadOptions = {}): ResolvedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${(cause as Error).message}` }]);
  }
  return loadConfigText(text, path, options);
}

export function loadConfigText(text: string, path: string, options: LoadOptions = {}): ResolvedConfig {
  const { data, lineOf } = parseText(text, path);
  const parsed = configSchema.safeParse(data, { reportInput: true });
  const configDir = dirname(path);
  if (!parsed.success) {
    // Report the tag and device problems of the devices that did parse too, so one run lists everything.
    const schemaIssues = fromZodIssues(parsed.error.issues);
    const reported = new Set(schemaIssues.map((i) => i.path));
    // A setting the schema rejected was removed for the second pass; don't also call it missing.
    const semantic = semanticIssuesOfPartialConfig(data, parsed.error.issues, configDir, options).filter((i) => !reported.has(i.path));
    throw new ConfigError(path, withLines(dedupe([...schemaIssues, ...semantic]), lineOf));
  }
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const profiles = new ProfileLibrary(
    [...config.profileDirs.map((d) => (isAbsolute(d) ? d : join(configDir, d))), options.builtinProfilesDir ?? BUILTIN_PROFILES_DIR],
  );

  const seenIds = new Set<string>();
  const devices: DeviceSpec[] = [];
  config.devices.forEach((device, index) => {
    const at = `devices[${index}]`;
    if (seenIds.has(device.id)) issues.push({ path: `${at}.id`, message: `duplicate device id "${device.id}"` });
    seenIds.add(device.id);
    const spec = resolveDevice(device, at, config, profiles, issues);
    if (spec) devices.push(spec);
  });

  const env = options.env ?? process.env;
  const password = config.mqtt.password === undefined ? undefined : resolveSecret(config.mqtt.password, 'mqtt.password', env, configDir, issues);
  let tls: ResolvedMqttConfig['tls'];
  if (config.mqtt.tls) {
    const t = config.mqtt.tls;
    for (const key of ['ca', 'cert'] as const) {
      const p = t[key];
      if (p !== undefined && !existsSync(resolvePath(p, configDir))) issues.push({ path: `mqtt.tls.${key}`, message: `file not found: ${resolvePath(p, configDir)}` });
    }
    tls = {
      ca: t.ca === undefined ? undefined : resolvePath(t.ca, configDir),
      cert: t.cert === undefined ? undefined : resolvePath(t.cert, configDir),
      key: t.key === undefined ? undefined : resolveSecret(t.key, 'mqtt.tls.key', env, configDir, issues),
      rejectUnauthorized: t.rejectUnauthorized,
    };
  }
  if (issues.length > 0) throw new ConfigError(path, withLines(issues, lineOf));

  const resolved: ResolvedConfig = {
    file: path,
    gateway: config.gateway,
    mqtt: { ...config.mqtt, clientId: config.mqtt.clientId ?? `allbit-${config.gateway.id}`, password, tls },
    // Relative to the config file, like every other path in it: the outbox must not depend on the directory the agent was started from.
    buffer: { ...config.buffer, path: resolvePath(config.buffer.path, configDir) },
    status: config.status,
    log: config.log,
    devices,
  };
  return deepFreeze(resolved);
}

/**
 * Device-level checks for a config whose schema check failed: the settings zod rejected are
 * removed from a copy, and every device that then parses is resolved, so a technician sees the
 * tag problems behind a typo in the same run.
 */
function semanticIssuesOfPartialConfig(data: unknown, schemaIssues: readonly z.core.$ZodIssue[], configDir: string, options: LoadOptions): ConfigIssue[] {
  const raw = structuredClone((data ?? {}) as { devices?: unknown; defaults?: unknown; profileDirs?: unknown });
  if (!Array.isArray(raw.devices)) return [];
  for (const issue of schemaIssues) {
    if (issue.path[0] !== 'devices' || issue.path.length < 3) continue;
    const parent = issue.path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key as string], raw);
    if (!parent || typeof parent !== 'object') continue;
    if (issue.code === 'unrecognized_keys') {
      const target = (parent as Record<PropertyKey, unknown>)[issue.path.at(-1) as string] as Record<string, unknown> | undefined;
      for (const key of issue.keys) if (target) delete target[key];
    } else {
      delete (parent as Record<PropertyKey, unknown>)[issue.path.at(-1) as string];
    }
  }
  const defaults = configSchema.shape.defaults.safeParse(raw.defaults ?? {});
  const dirs = z.array(z.string()).safeParse(raw.profileDirs ?? []);
  const profiles = new ProfileLibrary([
    ...(dirs.success ? dirs.data : []).map((d) => (isAbsolute(d) ? d : join(configDir, d))),
    options.builtinProfilesDir ?? BUILTIN_PROFILES_DIR,
  ]);
  const issues: ConfigIssue[] = [];
  const partial = { defaults: defaults.success ? defaults.data : configSchema.shape.defaults.parse({}) } as Config;
  raw.devices.forEach((d, index) => {
    const device = deviceSchema.safeParse(d);
    if (device.success) resolveDevice(device.data, `devices[${index}]`, partial, profiles, issues);
  });
  return issues;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parseText(text: string, path: string): { data: unknown; lineOf: (p: string) => number | undefined } {
  if (extname(path).toLowerCase() === '.json') {
    try {
      return { data: JSON.parse(text), lineOf: () => undefined };
    } catch (cause) {
      throw new ConfigError(path, [{ path: '', message: `not valid JSON: ${(cause as Error).message}` }]);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => ({ path: '', line: e.linePos?.[0].line, message: `not valid YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  return { data: doc.toJS() ?? {}, lineOf: (p) => lineOfPath(doc, lineCounter, p) };
}

function lineOfPath(doc: Document, lines: LineCounter, path: string): number | undefined {
  const keys = path
    .split(/\.|\[(\d+)\]/)
    .filter((k) => k !== undefined && k !== '')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  for (let n = keys.length; n > 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function withLines(issues: ConfigIssue[], lineOf: (p: string) => number | undefined): ConfigIssue[] {
  return issues.map((i) => (i.line !== undefined || !i.path ? i : { ...i, line: lineOf(i.path) }));
}

function resolvePath(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : join(baseDir, p);
}

function resolveSecret(ref: SecretRef, at: string, env: NodeJS.ProcessEnv, configDir: string, issues: ConfigIssue[]): Secret | undefined {
  if (typeof ref === 'string') return new Secret(ref, 'inline');
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      issues.push({ path: at, message: `environment variable ${ref.env} is not set` });
      return undefined;
    }
    return new Secret(value, `env:${ref.env}`);
  }
  const file = resolvePath(ref.file, configDir);
  try {
    return new Secret(readFileSync(file, 'utf8').replace(/\r?\n$/, ''), `file:${file}`);
  } catch (cause) {
    issues.push({ path: at, message: `cannot read secret file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}` });
    return undefined;
  }
}

/** The device library: profiles by name, searched in order (user folders first, then built-in). */
export class ProfileLibrary {
  private cache = new Map<string, ProfileConfig | ConfigIssue[]>();

  constructor(private readonly dirs: readonly string[]) {}

  available(): string[] {
    const names = new Set<string>();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) if (/\.ya?ml$/.test(f)) names.add(f.replace(/\.ya?ml$/, ''));
    }
    return [...names].sort();
  }

  get(name: string): ProfileConfig | ConfigIssue[] | undefined {
    const cached = this.cache.get(name);
    if (cached) return cached;
    for (const dir of this.dirs) {
      for (const ext of ['.yaml', '.yml']) {
        const file = join(dir, name + ext);
        if (!existsSync(file)) continue;
        const result = parseProfile(file);
        this.cache.set(name, result);
        return result;
      }
    }
    return undefined;
  }
}

function parseProfile(file: string): ProfileConfig | ConfigIssue[] {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) return [{ path: file, message: `not valid YAML: ${doc.errors[0].message.split('\n')[0]}` }];
  const parsed = profileSchema.safeParse(doc.toJS(), { reportInput: true });
  if (!parsed.success) return fromZodIssues(parsed.error.issues).map((i) => ({ ...i, path: `${file}: ${i.path}` }));
  return parsed.data;
}

function resolveDevice(device: DeviceConfig, at: string, config: Config, profiles: ProfileLibrary, issues: ConfigIssue[]): DeviceSpec | undefined {
  let profile: ProfileConfig | undefined;
  if (device.profile !== undefined) {
    const found = profiles.get(device.profile);
    if (found === undefined) {
      issues.push({ path: `${at}.profile`, message: `unknown profile "${device.profile}" (available: ${profiles.available().join(', ')})` });
      return undefined;
    }
    if (Array.isArray(found)) {
      for (const i of found) issues.push({ path: `${at}.profile`, message: `profile "${device.profile}" is invalid: ${i.path}: ${i.message}` });
      return undefined;
    }
    profile = found;
  }

  const merged = new Map<string, { fields: TagFieldsConfig; at: string }>();
  for (const [i, t] of (profile?.tags ?? []).entries()) merged.set(t.name, { fields: t, at: `profile ${profile!.name} tags[${i}]` });
  const seenOverride = new Set<string>();
  device.tags.forEach((t, i) => {
    if (seenOverride.has(t.name)) issues.push({ path: `${at}.tags[${i}].name`, message: `duplicate tag name "${t.name}"` });
    seenOverride.add(t.name);
    const base = merged.get(t.name);
    merged.set(t.name, { fields: { ...(base?.fields ?? {}), ...t }, at: `${at}.tags[${i}]` });
  });
  device.exclude.forEach((name, i) => {
    if (!merged.delete(name)) issues.push({ path: `${at}.exclude[${i}]`, message: `no tag named "${name}" to exclude` });
  });
  if (merged.size === 0) {
    issues.push({ path: `${at}.tags`, message: 'the device has no tags: name a profile or list tags' });
    return undefined;
  }

  const d = config.defaults;
  const tags: Tag[] = [];
  for (const { fields, at: tagAt } of merged.values()) {
    const tag = resolveTag(fields, tagAt, d, issues);
    if (tag) tags.push(tag);
  }
  const maxRegistersPerRequest = device.maxRegistersPerRequest ?? d.maxRegistersPerRequest;
  for (const tag of tags) {
    const width = tag.source.type === 'string' ? (tag.source.length ?? 1) : tag.source.type === 'bool' ? 1 : REGISTER_COUNT[tag.source.type];
    if (tag.source.area !== 'coil' && tag.source.area !== 'discrete' && width > maxRegistersPerRequest) {
      const at2 = merged.get(tag.name)?.at ?? at;
      issues.push({ path: `${at2}.type`, message: `${tag.source.type} needs ${width} registers, more than this device reads at once (maxRegistersPerRequest ${maxRegistersPerRequest})` });
    }
  }
  const protocol = device.protocol ?? profile?.protocol ?? 'modbus-tcp';
  return {
    id: device.id,
    name: device.name ?? device.id,
    profile: device.profile,
    connection: { protocol, host: device.host, port: device.port, unitId: device.unitId },
    pollIntervalMs: device.pollIntervalMs ?? d.pollIntervalMs,
    timeoutMs: device.timeoutMs ?? d.timeoutMs,
    maxGapRegisters: device.maxGapRegisters ?? d.maxGapRegisters,
    maxGapBits: device.maxGapBits ?? d.maxGapBits,
    maxRegistersPerRequest,
    maxBitsPerRequest: device.maxBitsPerRequest ?? d.maxBitsPerRequest,
    backoffInitialMs: d.backoffInitialMs,
    backoffMaxMs: d.backoffMaxMs,
    tags,
  };
}

const REGISTER_COUNT: Record<Exclude<DataType, 'string' | 'bool'>, number> = {
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

function resolveTag(f: TagFieldsConfig, at: string, d: Config['defaults'], issues: ConfigIssue[]): Tag | undefined {
  const before = issues.length;
  if (f.area === undefined) issues.push({ path: `${at}.area`, message: 'required (holding, input, coil or discrete) for a tag not in the profile' });
  if (f.address === undefined) issues.push({ path: `${at}.address`, message: 'required for a tag not in the profile' });
  if (f.type === undefined) issues.push({ path: `${at}.type`, message: 'required for a tag not in the profile' });
  if (issues.length > before) return undefined;
  const area = f.area!;
  const type = f.type!;
  const address = f.address!;
  const bitArea = area === 'coil' || area === 'discrete';
  if (bitArea && type !== 'bool') issues.push({ path: `${at}.type`, message: `a ${area} holds one bit: type must be bool, got ${type}` });
  if (f.bit !== undefined && (bitArea || type !== 'bool')) issues.push({ path: `${at}.bit`, message: 'bit applies only to type bool in a holding or input register' });
  if (!bitArea && type === 'bool' && f.bit === undefined) issues.push({ path: `${at}.bit`, message: 'a bool in a register needs bit (0–15)' });
  if (type === 'string' && f.length === undefined) issues.push({ path: `${at}.length`, message: 'a string needs length (registers, two characters each)' });
  if (type !== 'string' && f.length !== undefined) issues.push({ path: `${at}.length`, message: 'length applies only to type string' });
  if (f.min !== undefined && f.max !== undefined && f.min >= f.max) issues.push({ path: `${at}.min`, message: `min (${f.min}) must be below max (${f.max})` });
  const numeric = type !== 'bool' && type !== 'string';
  if (!numeric && (f.scale !== undefined || f.offset !== undefined)) issues.push({ path: `${at}.scale`, message: `scale and offset apply only to numeric types, not ${type}` });
  if (f.scale === 0) issues.push({ path: `${at}.scale`, message: 'scale must not be 0' });
  const registers = type === 'string' ? (f.length ?? 1) : type === 'bool' ? 1 : REGISTER_COUNT[type];
  if (!bitArea && address + registers > 65536) issues.push({ path: `${at}.address`, message: `${type} at ${address} runs past the last register (65535)` });
  if (issues.length > before) return undefined;
  return {
    name: f.name,
    description: f.description ?? '',
    unit: f.unit ?? '',
    source: { area, address, type, order: f.order ?? 'ABCD', bit: f.bit, length: f.length },
    scale: f.scale ?? 1,
    offset: f.offset ?? 0,
    deadband: f.deadband ?? d.deadband,
    maxSilenceMs: f.maxSilenceMs ?? d.maxSilenceMs,
    min: f.min,
    max: f.max,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
