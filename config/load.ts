/**
 * Files, environment and secret references → one frozen, validated config.
 * Every problem is collected (not just the first) and reported as `path: message`, before
 * anything is opened or buffered.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { AlarmCondition, AlarmRule } from '../agent/core/alarm.js';
import type { DeviceConnection, DeviceSpec, OpcUaIdentity, RtuBusSpec } from '../agent/core/device.js';
import type { DataType, Tag, TagSource } from '../agent/core/tag.js';
import { resolveCalculatedDevices } from './calculated.js';
import { resolveReport, type ResolvedReportConfig } from './report.js';
import { ConfigError, fromZodIssues, type ConfigIssue } from './issues.js';
import { z } from 'zod';
import { busSchema, configSchema, deviceSchema, profileSchema, type AlarmConfig, type BusConfig, type Config, type DeviceConfig, type ProfileConfig, type SecretRef, type TagFieldsConfig } from './schema.js';
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
  /** `passwordFile` resolved: absolute, defaulting to the file beside the outbox. */
  status: Omit<Config['status'], 'passwordFile'> & { passwordFile: string };
  log: Config['log'];
  /** RTU buses, resolved (their devices carry the same objects in `connection.bus`). */
  buses: RtuBusSpec[];
  opcua: { pkiDir: string };
  devices: DeviceSpec[];
  /** Every device's alarm rules, ids unique in the gateway. */
  alarms: AlarmRule[];
  /** The daily operations report. */
  report: ResolvedReportConfig;
}

/** What resolving a device needs besides the device itself. */
interface DeviceContext {
  config: Pick<Config, 'defaults'>;
  profiles: ProfileLibrary;
  buses: ReadonlyMap<string, RtuBusSpec>;
  pkiDir: string;
  env: NodeJS.ProcessEnv;
  configDir: string;
  issues: ConfigIssue[];
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

  const env = options.env ?? process.env;
  const buses = resolveBuses(config.buses, config.defaults, issues);
  const pkiDir = resolvePath(config.opcua.pkiDir, configDir);
  const context: DeviceContext = { config, profiles, buses, pkiDir, env, configDir, issues };
  const seenIds = new Set<string>();
  const devices: DeviceSpec[] = [];
  config.devices.forEach((device, index) => {
    const at = `devices[${index}]`;
    if (seenIds.has(device.id)) issues.push({ path: `${at}.id`, message: `duplicate device id "${device.id}"` });
    seenIds.add(device.id);
    const spec = resolveDevice(device, at, context);
    if (spec) devices.push(spec);
  });
  checkUnitIdsPerBus(config.devices, devices, issues);
  // Calculated devices are devices like the others from here on (drivers, topics, state, alarms).
  // They are checked once every field device resolves: a device with problems would only add
  // "no such device" noise to the report of its own problems.
  const calculated = devices.length === config.devices.length ? resolveCalculatedDevices(config.calculated, devices, config.defaults, issues) : [];
  devices.push(...calculated);
  const alarms: AlarmRule[] = [];
  const alarmIds = new Map<string, string>();
  const alarmsOf = [
    ...config.devices.map((d, index) => ({ id: d.id, alarms: d.alarms, at: `devices[${index}]` })),
    ...config.calculated.map((d, index) => ({ id: d.id, alarms: d.alarms, at: `calculated[${index}]` })),
  ];
  for (const device of alarmsOf) {
    const spec = devices.find((d) => d.id === device.id);
    if (!spec) continue;
    device.alarms.forEach((a, i) => {
      const rule = resolveAlarm(a, spec, `${device.at}.alarms[${i}]`, issues);
      if (!rule) return;
      const other = alarmIds.get(rule.id);
      if (other !== undefined) issues.push({ path: `${device.at}.alarms[${i}].id`, message: `alarm id "${rule.id}" is already used at ${other} (give one of them an id)` });
      alarmIds.set(rule.id, `${device.at}.alarms[${i}]`);
      alarms.push(rule);
    });
  }

  const report = resolveReport(config.report, devices, resolvePath(config.report.dir, configDir), issues);
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
    status: { ...config.status, passwordFile: config.status.passwordFile === undefined ? statusPasswordPathFor(resolvePath(config.buffer.path, configDir)) : resolvePath(config.status.passwordFile, configDir) },
    log: config.log,
    buses: [...buses.values()],
    opcua: { pkiDir },
    devices,
    alarms,
    report,
  };
  return deepFreeze(resolved);
}

/**
 * Device-level checks for a config whose schema check failed: the settings zod rejected are
 * removed from a copy, and every device that then parses is resolved, so a technician sees the
 * tag problems behind a typo in the same run.
 */
function semanticIssuesOfPartialConfig(data: unknown, schemaIssues: readonly z.core.$ZodIssue[], configDir: string, options: LoadOptions): ConfigIssue[] {
  const raw = structuredClone((data ?? {}) as { devices?: unknown; defaults?: unknown; profileDirs?: unknown; buses?: unknown });
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
  const partial = { defaults: defaults.success ? defaults.data : configSchema.shape.defaults.parse({}) };
  const busConfigs = (Array.isArray(raw.buses) ? raw.buses : []).flatMap((b) => {
    const parsed = busSchema.safeParse(b);
    return parsed.success ? [parsed.data] : [];
  });
  // Bus problems were already reported by the schema pass or will be by this one; only devices' issues count here.
  const buses = resolveBuses(busConfigs, partial.defaults, []);
  const context: DeviceContext = { config: partial, profiles, buses, pkiDir: configDir, env: options.env ?? process.env, configDir, issues };
  raw.devices.forEach((d, index) => {
    const device = deviceSchema.safeParse(d);
    if (device.success) resolveDevice(device.data, `devices[${index}]`, context);
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

/** The status page's password file beside the outbox (like `alarmStatePathFor`): `data/allbit-outbox.db` → `data/allbit-outbox-status-password.json`. */
export function statusPasswordPathFor(outboxPath: string): string {
  return outboxPath.replace(/(\.db|\.sqlite3?)?$/, '-status-password.json');
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

function resolveDevice(device: DeviceConfig, at: string, context: DeviceContext): DeviceSpec | undefined {
  const { profiles, issues } = context;
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

  const protocol = device.protocol ?? (device.bus !== undefined ? 'modbus-rtu' : device.endpoint !== undefined ? 'opcua' : profile?.protocol === 'opcua' ? 'opcua' : 'modbus-tcp');
  const family = protocol === 'opcua' ? 'opcua' : 'modbus';
  if (profile && profile.protocol !== family) {
    issues.push({ path: `${at}.profile`, message: `profile "${profile.name}" is for ${profile.protocol} devices, this device speaks ${protocol}` });
    return undefined;
  }
  const connection = resolveConnection(device, protocol, at, context);

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

  const d = context.config.defaults;
  const tags: Tag[] = [];
  for (const { fields, at: tagAt } of merged.values()) {
    const tag = family === 'opcua' ? resolveOpcUaTag(fields, tagAt, d, issues) : resolveTag(fields, tagAt, d, issues);
    if (tag) tags.push(tag);
  }
  const maxRegistersPerRequest = device.maxRegistersPerRequest ?? d.maxRegistersPerRequest;
  for (const tag of tags) {
    const source = tag.source;
    if (!('area' in source)) continue;
    const width = source.type === 'string' ? (source.length ?? 1) : source.type === 'bool' ? 1 : REGISTER_COUNT[source.type];
    if (source.area !== 'coil' && source.area !== 'discrete' && width > maxRegistersPerRequest) {
      const at2 = merged.get(tag.name)?.at ?? at;
      issues.push({ path: `${at2}.type`, message: `${source.type} needs ${width} registers, more than this device reads at once (maxRegistersPerRequest ${maxRegistersPerRequest})` });
    }
  }
  if (!connection) return undefined;
  return {
    id: device.id,
    name: device.name ?? device.id,
    profile: device.profile,
    connection,
    pollIntervalMs: device.pollIntervalMs ?? d.pollIntervalMs,
    // On a shared line the bus's timeout is the default: the technician sets it once per line.
    timeoutMs: device.timeoutMs ?? (connection.protocol === 'modbus-rtu' ? connection.bus.timeoutMs : d.timeoutMs),
    maxGapRegisters: device.maxGapRegisters ?? d.maxGapRegisters,
    maxGapBits: device.maxGapBits ?? d.maxGapBits,
    maxRegistersPerRequest,
    maxBitsPerRequest: device.maxBitsPerRequest ?? d.maxBitsPerRequest,
    backoffInitialMs: d.backoffInitialMs,
    backoffMaxMs: d.backoffMaxMs,
    tags,
  };
}

/** Settings that belong to one protocol only, so a technician learns at once that a setting does nothing. */
const PROTOCOL_FIELDS: Readonly<Record<string, readonly (keyof DeviceConfig)[]>> = {
  'modbus-tcp': ['host', 'port'],
  'modbus-rtu': ['bus'],
  opcua: ['endpoint', 'securityMode', 'securityPolicy', 'identity', 'publishingIntervalMs', 'sessionTimeoutMs'],
};
const MODBUS_ONLY_FIELDS: readonly (keyof DeviceConfig)[] = ['unitId', 'maxGapRegisters', 'maxGapBits', 'maxRegistersPerRequest', 'maxBitsPerRequest'];

function resolveConnection(device: DeviceConfig, protocol: Exclude<DeviceConnection['protocol'], 'calc'>, at: string, context: DeviceContext): DeviceConnection | undefined {
  const { issues } = context;
  const before = issues.length;
  for (const [owner, fields] of Object.entries(PROTOCOL_FIELDS)) {
    if (owner === protocol) continue;
    for (const field of fields) {
      if (device[field] !== undefined) issues.push({ path: `${at}.${field}`, message: `${field} applies to ${owner} devices; this device speaks ${protocol}` });
    }
  }
  if (protocol === 'opcua') {
    for (const field of MODBUS_ONLY_FIELDS) {
      if (device[field] !== undefined) issues.push({ path: `${at}.${field}`, message: `${field} applies to Modbus devices; this device speaks opcua` });
    }
  }
  if (protocol === 'modbus-tcp') {
    if (device.host === undefined) issues.push({ path: `${at}.host`, message: 'required for a modbus-tcp device (or set bus for modbus-rtu, endpoint for opcua)' });
    if (issues.length > before) return undefined;
    return { protocol, host: device.host!, port: device.port ?? 502, unitId: device.unitId ?? 1 };
  }
  if (protocol === 'modbus-rtu') {
    const unitId = device.unitId ?? 1;
    if (unitId < 1 || unitId > 247) issues.push({ path: `${at}.unitId`, message: `a unit on an RTU bus has an id of 1–247, got ${unitId} (0 is broadcast, which nobody answers)` });
    if (device.bus === undefined) {
      issues.push({ path: `${at}.bus`, message: 'required for a modbus-rtu device: the id of a bus in `buses`' });
      return undefined;
    }
    const bus = context.buses.get(device.bus);
    if (!bus) {
      const known = [...context.buses.keys()];
      issues.push({ path: `${at}.bus`, message: `no bus "${device.bus}" in buses${known.length ? ` (configured: ${known.join(', ')})` : ' (none configured)'}` });
    }
    if (issues.length > before) return undefined;
    return { protocol, bus: bus!, unitId };
  }
  if (device.endpoint === undefined) issues.push({ path: `${at}.endpoint`, message: 'required for an opcua device: opc.tcp://host:port[/path]' });
  const securityMode = device.securityMode ?? 'None';
  const securityPolicy = device.securityPolicy ?? 'None';
  if (securityMode === 'None' && securityPolicy !== 'None') issues.push({ path: `${at}.securityPolicy`, message: `securityPolicy ${securityPolicy} needs securityMode Sign or SignAndEncrypt` });
  if (securityMode !== 'None' && securityPolicy === 'None') issues.push({ path: `${at}.securityPolicy`, message: `securityMode ${securityMode} needs a securityPolicy (Basic256Sha256 or Aes256_Sha256_RsaPss)` });
  let identity: OpcUaIdentity = { type: 'anonymous' };
  const id = device.identity;
  if (id && securityMode === 'None') {
    // Without security the server's certificate is never checked: a password (or a user
    // certificate's proof) would go to whatever answers at that address.
    issues.push({ path: `${at}.identity`, message: 'a username/password or certificate identity needs securityMode Sign or SignAndEncrypt (with None the server is not verified and the credential could go to any server)' });
  }
  if (id && 'username' in id) {
    const password = resolveSecret(id.password, `${at}.identity.password`, context.env, context.configDir, issues);
    if (password) identity = { type: 'username', username: id.username, password };
  } else if (id) {
    const certificateFile = resolvePath(id.certificate, context.configDir);
    if (!existsSync(certificateFile)) issues.push({ path: `${at}.identity.certificate`, message: `file not found: ${certificateFile}` });
    const privateKey = resolveSecret(id.privateKey, `${at}.identity.privateKey`, context.env, context.configDir, issues);
    if (privateKey) identity = { type: 'certificate', certificateFile, privateKey };
  }
  if (issues.length > before) return undefined;
  const pollIntervalMs = device.pollIntervalMs ?? context.config.defaults.pollIntervalMs;
  return {
    protocol,
    endpointUrl: device.endpoint!,
    securityMode,
    securityPolicy,
    identity,
    pkiDir: context.pkiDir,
    publishingIntervalMs: device.publishingIntervalMs ?? pollIntervalMs,
    sessionTimeoutMs: device.sessionTimeoutMs ?? 60000,
  };
}

const LIMIT_LEVELS = { 'high-high': 'HH', high: 'H', low: 'L', 'low-low': 'LL' } as const;
const DEFAULT_MESSAGES: Readonly<Record<AlarmConfig['type'], string>> = {
  'high-high': '{device} {tag} very high: {value} {unit} (limit {limit})',
  high: '{device} {tag} high: {value} {unit} (limit {limit})',
  low: '{device} {tag} low: {value} {unit} (limit {limit})',
  'low-low': '{device} {tag} very low: {value} {unit} (limit {limit})',
  rate: '{device} {tag} changing fast: {value} {unit}',
  bit: '{device} {tag} alarm bit set',
  status: '{device} {tag} in alarm',
  'comm-loss': '{device} unreachable',
  predict: '{device} {tag} predicted to reach {limit} {unit} in {eta} (now {value} {unit}, confidence {confidence})',
  anomaly: '{device} {tag} departs from its normal: {value} {unit} (more than {z} standard deviations)',
  stale: '{device} {tag} not updating',
};
/** An anomaly alarm with an equipment model says what it expected and from what. */
const DEFAULT_RESIDUAL_MESSAGE = '{device} {tag} is {value} {unit}, expected {expected} {unit} from {from} {fromValue} {fromUnit} (more than {z} standard deviations off)';
/** A rule that raised this often within the window is suppressed for a while (ISA-18.2 chattering alarm). */
const DEFAULT_CHATTER = { maxActivations: 5, windowMs: 10 * 60_000, suppressMs: 10 * 60_000 };

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** One configured alarm → a rule the engine runs; every mistake named with its place. */
function resolveAlarm(a: AlarmConfig, device: DeviceSpec, at: string, issues: ConfigIssue[]): AlarmRule | undefined {
  const before = issues.length;
  const needsTag = a.type !== 'comm-loss';
  if (needsTag && a.tag === undefined) issues.push({ path: `${at}.tag`, message: `a ${a.type} alarm watches a tag: name it` });
  if (!needsTag && a.tag !== undefined) issues.push({ path: `${at}.tag`, message: 'a comm-loss alarm watches the device, not a tag: leave tag out' });
  const tag = a.tag === undefined ? device.tags[0] : device.tags.find((t) => t.name === a.tag);
  if (a.tag !== undefined && !tag) issues.push({ path: `${at}.tag`, message: `device ${device.id} has no tag "${a.tag}"` });
  const limitType = a.type in LIMIT_LEVELS;
  if ((limitType || a.type === 'predict') && a.limit === undefined) issues.push({ path: `${at}.limit`, message: `a ${a.type} alarm needs a limit` });
  if (!limitType && a.type !== 'predict' && a.limit !== undefined) issues.push({ path: `${at}.limit`, message: `limit applies to high-high, high, low, low-low and predict alarms, not ${a.type}` });
  if (!limitType && a.deadband !== undefined) issues.push({ path: `${at}.deadband`, message: `deadband applies to high-high, high, low and low-low alarms, not ${a.type}` });
  if (a.type !== 'predict' && (a.direction !== undefined || a.horizonMs !== undefined || a.minConfidence !== undefined)) {
    issues.push({ path: `${at}.horizonMs`, message: `direction, horizonMs and minConfidence apply to predict alarms, not ${a.type}` });
  }
  if (a.type !== 'predict' && a.type !== 'anomaly' && a.sampleEveryMs !== undefined) issues.push({ path: `${at}.sampleEveryMs`, message: `sampleEveryMs applies to predict and anomaly alarms, not ${a.type}` });
  if (a.type !== 'anomaly' && (a.alpha !== undefined || a.warmupSamples !== undefined || a.zThreshold !== undefined || a.minStd !== undefined)) {
    issues.push({ path: `${at}.alpha`, message: `alpha, warmupSamples, zThreshold and minStd apply to anomaly alarms, not ${a.type}` });
  }
  if (a.type === 'rate' && a.maxRisePerMin === undefined && a.maxFallPerMin === undefined) issues.push({ path: `${at}.maxRisePerMin`, message: 'a rate alarm needs maxRisePerMin, maxFallPerMin or both' });
  if (a.type !== 'rate' && (a.maxRisePerMin !== undefined || a.maxFallPerMin !== undefined)) issues.push({ path: `${at}.maxRisePerMin`, message: `maxRisePerMin and maxFallPerMin apply to rate alarms, not ${a.type}` });
  if (a.type !== 'rate' && a.type !== 'predict' && a.windowMs !== undefined) issues.push({ path: `${at}.windowMs`, message: `windowMs applies to rate and predict alarms, not ${a.type}` });
  if (a.type === 'bit' && a.bit === undefined) issues.push({ path: `${at}.bit`, message: 'a bit alarm needs bit (0 = least significant)' });
  if (a.type !== 'bit' && a.bit !== undefined) issues.push({ path: `${at}.bit`, message: `bit applies to bit alarms, not ${a.type}` });
  if (a.alarmWhen !== undefined && a.type !== 'bit' && a.type !== 'status') issues.push({ path: `${at}.alarmWhen`, message: `alarmWhen applies to bit and status alarms, not ${a.type}` });
  if (a.expected !== undefined && a.type !== 'anomaly') issues.push({ path: `${at}.expected`, message: `expected (an equipment model) applies to anomaly alarms, not ${a.type}` });
  const fromTag = a.expected === undefined || a.type !== 'anomaly' ? undefined : device.tags.find((t) => t.name === a.expected!.from);
  if (a.expected !== undefined && a.type === 'anomaly') {
    const from = a.expected.from;
    if (!fromTag) issues.push({ path: `${at}.expected.from`, message: `device ${device.id} has no tag "${from}"` });
    else if (from === a.tag) issues.push({ path: `${at}.expected.from`, message: `the model input must be another tag than the one watched (${from})` });
    else if (!('nodeId' in fromTag.source) && (fromTag.source.type === 'bool' || fromTag.source.type === 'string')) {
      issues.push({ path: `${at}.expected.from`, message: `tag ${from} is ${fromTag.source.type}: a model input must be a numeric tag` });
    }
    if (a.expected.maxInputAgeMs !== undefined && a.expected.maxInputAgeMs < device.pollIntervalMs) {
      issues.push({ path: `${at}.expected.maxInputAgeMs`, message: `${a.expected.maxInputAgeMs} ms is shorter than the device's poll interval (${device.pollIntervalMs} ms): the input would seldom be fresh enough to judge` });
    }
  }
  if (tag && a.tag !== undefined && !('nodeId' in tag.source)) {
    const type = tag.source.type;
    const numeric = type !== 'bool' && type !== 'string';
    if ((limitType || a.type === 'rate' || a.type === 'predict' || a.type === 'anomaly') && !numeric) issues.push({ path: `${at}.type`, message: `tag ${tag.name} is ${type}: ${article(a.type)} ${a.type} alarm needs a numeric tag` });
    if (a.type === 'bit' && !/^u?int(16|32)$/.test(type)) issues.push({ path: `${at}.bit`, message: `tag ${tag.name} is ${type}: a bit alarm needs an integer word (int16, uint16, int32, uint32)` });
    if (a.type === 'status' && type !== 'bool') issues.push({ path: `${at}.type`, message: `tag ${tag.name} is ${type}: a status alarm needs a bool tag (use bit for a bit of a word)` });
  }
  if (issues.length > before || !tag) return undefined;
  let condition: AlarmCondition;
  if (limitType) condition = { kind: 'limit', level: LIMIT_LEVELS[a.type as keyof typeof LIMIT_LEVELS], limit: a.limit!, deadband: a.deadband ?? 0 };
  else if (a.type === 'anomaly') {
    const sampleEveryMs = a.sampleEveryMs ?? 10_000;
    condition = { kind: 'anomaly', alpha: a.alpha ?? 0.01, warmupSamples: a.warmupSamples ?? 200, zThreshold: a.zThreshold ?? 6, sampleEveryMs, minStd: a.minStd ?? 0 };
    if (a.expected && fromTag) {
      // Default freshness: two samples, or two polls when the device is polled more slowly (tags read in one cycle may pair with the previous cycle's input).
      const maxInputAgeMs = a.expected.maxInputAgeMs ?? 2 * Math.max(sampleEveryMs, device.pollIntervalMs);
      condition.expected = { from: fromTag.name, fromUnit: fromTag.unit, coefficients: [...a.expected.coefficients], maxInputAgeMs };
    }
  } else if (a.type === 'predict') {
    const windowMs = a.windowMs ?? 30 * 60_000;
    condition = { kind: 'predict', threshold: a.limit!, direction: a.direction ?? 'rising', windowMs, horizonMs: a.horizonMs ?? 30 * 60_000, sampleEveryMs: a.sampleEveryMs ?? Math.max(1000, Math.round(windowMs / 60)), minConfidence: a.minConfidence ?? 0.95 };
  } else if (a.type === 'rate') condition = { kind: 'rate', windowMs: a.windowMs ?? 60_000, ...(a.maxRisePerMin !== undefined ? { maxRisePerMin: a.maxRisePerMin } : {}), ...(a.maxFallPerMin !== undefined ? { maxFallPerMin: a.maxFallPerMin } : {}) };
  else if (a.type === 'bit') condition = { kind: 'discrete', bit: a.bit!, alarmWhen: a.alarmWhen ?? true };
  else if (a.type === 'status') condition = { kind: 'discrete', alarmWhen: a.alarmWhen ?? true };
  else condition = { kind: 'quality', on: a.type === 'comm-loss' ? 'comm-lost' : 'stale' };
  return {
    id: a.id ?? `${device.id}.${a.tag ?? 'device'}.${a.type}`,
    device: device.id,
    tag: tag.name,
    condition,
    priority: a.priority,
    message: a.message ?? (condition.kind === 'anomaly' && condition.expected ? DEFAULT_RESIDUAL_MESSAGE : DEFAULT_MESSAGES[a.type]),
    unit: tag.unit,
    onDelayMs: a.onDelayMs,
    offDelayMs: a.offDelayMs,
    chatter: DEFAULT_CHATTER,
    suppressOnCommLoss: condition.kind !== 'quality',
  };
}

/** RS-485 needs 3.5 character times of silence between frames; above 19200 baud the standard fixes it at 1.75 ms. */
export function rtuInterFrameGapMs(baudRate: number, bitsPerChar: number): number {
  if (baudRate > 19200) return 1.75;
  return (3.5 * bitsPerChar * 1000) / baudRate;
}

function resolveBuses(configs: readonly BusConfig[], d: Config['defaults'], issues: ConfigIssue[]): Map<string, RtuBusSpec> {
  const buses = new Map<string, RtuBusSpec>();
  configs.forEach((b, index) => {
    const at = `buses[${index}]`;
    const before = issues.length;
    if (buses.has(b.id)) issues.push({ path: `${at}.id`, message: `duplicate bus id "${b.id}"` });
    const common = { id: b.id, timeoutMs: b.timeoutMs ?? d.timeoutMs, backoffInitialMs: d.backoffInitialMs, backoffMaxMs: d.backoffMaxMs };
    if (b.transport === 'serial') {
      if (b.path === undefined) issues.push({ path: `${at}.path`, message: 'required for a serial bus, for example /dev/ttyUSB0' });
      for (const field of ['host', 'port'] as const) {
        if (b[field] !== undefined) issues.push({ path: `${at}.${field}`, message: `${field} applies to a tcp bus (RTU over TCP); this bus is serial` });
      }
      if (issues.length > before) return;
      const baudRate = b.baudRate ?? 9600;
      const bitsPerChar = 1 + b.dataBits + (b.parity === 'none' ? 0 : 1) + b.stopBits;
      buses.set(b.id, {
        ...common,
        transport: 'serial',
        path: b.path!,
        baudRate,
        dataBits: b.dataBits,
        parity: b.parity,
        stopBits: b.stopBits,
        interFrameGapMs: b.interFrameGapMs ?? rtuInterFrameGapMs(baudRate, bitsPerChar),
      });
      return;
    }
    if (b.host === undefined) issues.push({ path: `${at}.host`, message: 'required for a tcp bus: the serial-to-Ethernet converter\'s address' });
    if (b.port === undefined) issues.push({ path: `${at}.port`, message: 'required for a tcp bus: the converter\'s TCP port for this serial line' });
    if (b.path !== undefined) issues.push({ path: `${at}.path`, message: 'path applies to a serial bus; this bus is tcp' });
    if (issues.length > before) return;
    const gap = b.interFrameGapMs ?? (b.baudRate !== undefined ? rtuInterFrameGapMs(b.baudRate, 1 + b.dataBits + (b.parity === 'none' ? 0 : 1) + b.stopBits) : 0);
    buses.set(b.id, { ...common, transport: 'tcp', host: b.host!, port: b.port!, ...(b.baudRate !== undefined ? { baudRate: b.baudRate } : {}), interFrameGapMs: gap });
  });
  return buses;
}

/** Two devices answering the same unit id on one bus would corrupt each other's answers. */
function checkUnitIdsPerBus(configs: readonly DeviceConfig[], devices: readonly DeviceSpec[], issues: ConfigIssue[]): void {
  const seen = new Map<string, string>();
  for (const spec of devices) {
    if (spec.connection.protocol !== 'modbus-rtu') continue;
    const key = `${spec.connection.bus.id}#${spec.connection.unitId}`;
    const other = seen.get(key);
    if (other !== undefined) {
      const index = configs.findIndex((c) => c.id === spec.id);
      issues.push({ path: `devices[${index}].unitId`, message: `unit ${spec.connection.unitId} on bus ${spec.connection.bus.id} is already device "${other}"` });
    } else {
      seen.set(key, spec.id);
    }
  }
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

const OPCUA_TAG_FIELDS = ['nodeId', 'mode', 'samplingIntervalMs', 'queueSize', 'serverDeadband'] as const;
const MODBUS_TAG_FIELDS = ['area', 'address', 'order', 'bit', 'length'] as const;

function resolveOpcUaTag(f: TagFieldsConfig, at: string, d: Config['defaults'], issues: ConfigIssue[]): Tag | undefined {
  const before = issues.length;
  for (const field of MODBUS_TAG_FIELDS) {
    if (f[field] !== undefined) issues.push({ path: `${at}.${field}`, message: `${field} applies to Modbus tags; an OPC UA tag names its nodeId` });
  }
  if (f.type !== undefined) issues.push({ path: `${at}.type`, message: 'an OPC UA tag takes its type from the server; leave type out' });
  if (f.nodeId === undefined) issues.push({ path: `${at}.nodeId`, message: 'required for an OPC UA tag, for example "ns=2;s=Chiller1.SupplyTemp"' });
  if (f.mode === 'read' && (f.samplingIntervalMs !== undefined || f.queueSize !== undefined || f.serverDeadband !== undefined)) {
    issues.push({ path: `${at}.mode`, message: 'samplingIntervalMs, queueSize and serverDeadband apply to subscribed tags, not mode read' });
  }
  if (f.min !== undefined && f.max !== undefined && f.min >= f.max) issues.push({ path: `${at}.min`, message: `min (${f.min}) must be below max (${f.max})` });
  if (f.scale === 0) issues.push({ path: `${at}.scale`, message: 'scale must not be 0' });
  if (issues.length > before) return undefined;
  const source: TagSource = {
    nodeId: f.nodeId!,
    mode: f.mode ?? 'subscribe',
    samplingIntervalMs: f.samplingIntervalMs ?? -1,
    queueSize: f.queueSize ?? 10,
    serverDeadband: f.serverDeadband ?? 0,
  };
  return tagOf(f, source, d);
}

/** The protocol-independent part of a resolved tag: names, units, scaling, reporting, range. */
function tagOf(f: TagFieldsConfig, source: TagSource, d: Config['defaults']): Tag {
  return {
    name: f.name,
    description: f.description ?? '',
    unit: f.unit ?? '',
    source,
    scale: f.scale ?? 1,
    offset: f.offset ?? 0,
    deadband: f.deadband ?? d.deadband,
    maxSilenceMs: f.maxSilenceMs ?? d.maxSilenceMs,
    min: f.min,
    max: f.max,
  };
}

function resolveTag(f: TagFieldsConfig, at: string, d: Config['defaults'], issues: ConfigIssue[]): Tag | undefined {
  const before = issues.length;
  for (const field of OPCUA_TAG_FIELDS) {
    if (f[field] !== undefined) issues.push({ path: `${at}.${field}`, message: `${field} applies to OPC UA tags; a Modbus tag names area, address and type` });
  }
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
  return tagOf(f, { area, address, type, order: f.order ?? 'ABCD', bit: f.bit, length: f.length }, d);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
