/**
 * `calculated:` entries → calculated DeviceSpecs: each model's inputs resolved to tags of real
 * devices (named, or the device library's default names), its parameters checked against the
 * model's catalogue (agent/core/calculation.ts), its outputs turned into tags. Every mistake is
 * named with its place.
 */
import { CALCULATION_MODEL_DEFS, outputsOf, type CalculationSpec, type TagRef } from '../agent/core/calculation.js';
import type { DeviceSpec } from '../agent/core/device.js';
import type { Tag } from '../agent/core/tag.js';
import type { ConfigIssue } from './issues.js';
import type { CalculatedDeviceConfig, Config } from './schema.js';

/** The shortest input age limit by default: a few missed polls are not yet staleness. */
const MIN_DEFAULT_INPUT_AGE_MS = 10_000;

/**
 * Resolves every calculated device, in order. `devices` are the field devices already resolved;
 * a calculated device may read field devices and calculated devices listed before it (so no
 * calculation ever waits on itself).
 */
export function resolveCalculatedDevices(configs: readonly CalculatedDeviceConfig[], devices: readonly DeviceSpec[], defaults: Config['defaults'], issues: ConfigIssue[]): DeviceSpec[] {
  const known = new Map(devices.map((d) => [d.id, d]));
  const out: DeviceSpec[] = [];
  configs.forEach((c, index) => {
    const at = `calculated[${index}]`;
    if (known.has(c.id)) {
      issues.push({ path: `${at}.id`, message: `device id "${c.id}" is already used by another device` });
      return;
    }
    const spec = resolveOne(c, at, known, defaults, issues);
    if (!spec) return;
    known.set(spec.id, spec);
    out.push(spec);
  });
  return out;
}

function resolveOne(c: CalculatedDeviceConfig, at: string, known: ReadonlyMap<string, DeviceSpec>, defaults: Config['defaults'], issues: ConfigIssue[]): DeviceSpec | undefined {
  const before = issues.length;
  const def = CALCULATION_MODEL_DEFS[c.model];
  const isFacility = c.model === 'facility';
  let source: DeviceSpec | undefined;
  if (isFacility && c.source !== undefined) issues.push({ path: `${at}.source`, message: 'a facility calculation reads the meters named in inputs, not one source device: leave source out' });
  if (!isFacility) {
    if (c.source === undefined) issues.push({ path: `${at}.source`, message: `a ${c.model} calculation needs source: the device whose tags it reads` });
    else {
      source = known.get(c.source);
      if (!source) issues.push({ path: `${at}.source`, message: `no device "${c.source}" (available: ${[...known.keys()].join(', ')})` });
    }
  }

  const inputNames = new Set(def.inputs.map((i) => i.name));
  for (const name of Object.keys(c.inputs)) {
    if (!inputNames.has(name)) issues.push({ path: `${at}.inputs.${name}`, message: `a ${c.model} calculation has no input "${name}" (inputs: ${[...inputNames].join(', ')})` });
  }
  const inputs: Record<string, TagRef[]> = {};
  const sources = new Set<DeviceSpec>();
  for (const input of def.inputs) {
    const written = c.inputs[input.name];
    const where = `${at}.inputs.${input.name}`;
    if (input.list) {
      if (written === undefined) {
        if (input.required) issues.push({ path: where, message: `a facility calculation needs ${input.name}: a list of "device.tag" meters (kW)` });
        continue;
      }
      if (!Array.isArray(written)) {
        issues.push({ path: where, message: `expected a list of "device.tag" meters, for example [ups-1.output_power_kw]` });
        continue;
      }
      const refs: TagRef[] = [];
      written.forEach((name, i) => {
        const [device, tag] = name.split('.') as [string, string];
        const ref = checkTag(known.get(device), device, tag, `${where}[${i}]`, issues, true, input.unit);
        if (ref) {
          refs.push(ref);
          sources.add(known.get(device)!);
        }
      });
      if (new Set(written).size !== written.length) issues.push({ path: where, message: 'a meter is listed twice: it would be counted twice' });
      inputs[input.name] = refs;
      continue;
    }
    if (Array.isArray(written)) {
      issues.push({ path: where, message: `expected one tag name of ${c.source ?? 'the source device'}, not a list` });
      continue;
    }
    if (!source) continue;
    const tagName = written ?? input.defaultTag;
    if (tagName === undefined) continue;
    if (written === undefined && !source.tags.some((t) => t.name === tagName)) {
      if (input.required) issues.push({ path: where, message: `device ${source.id} has no tag "${tagName}" (the default for ${input.name}, ${input.description}): name the tag that holds it` });
      continue;
    }
    const ref = checkTag(source, source.id, tagName, where, issues, input.name !== 'running', input.unit);
    if (ref) inputs[input.name] = [ref];
  }
  if (source) sources.add(source);

  const paramDefs = new Map(def.params.map((p) => [p.name, p]));
  for (const [name, value] of Object.entries(c.parameters)) {
    const p = paramDefs.get(name);
    const where = `${at}.parameters.${name}`;
    if (!p) {
      issues.push({ path: where, message: `a ${c.model} calculation has no parameter "${name}" (parameters: ${[...paramDefs.keys()].join(', ') || 'none'})` });
      continue;
    }
    if (!Number.isFinite(value)) issues.push({ path: where, message: `expected a finite number, got ${value}` });
    else if (p.positive && value <= 0) issues.push({ path: where, message: `${name} (${p.description}) must be greater than 0${p.unit ? ` ${p.unit}` : ''}` });
    else if (p.min !== undefined && value < p.min) issues.push({ path: where, message: `${name} must be at least ${p.min}${p.unit ? ` ${p.unit}` : ''}` });
    else if (p.max !== undefined && value > p.max) issues.push({ path: where, message: `${name} must be at most ${p.max}${p.unit ? ` ${p.unit}` : ''}` });
  }
  for (const p of def.params) {
    if (p.required && c.parameters[p.name] === undefined) issues.push({ path: `${at}.parameters.${p.name}`, message: `a ${c.model} calculation needs ${p.name} (${p.description}${p.unit ? `, ${p.unit}` : ''})` });
  }
  if (c.model === 'ups' && c.parameters.batteryEnergyKwh !== undefined && inputs.socPct === undefined && source) {
    issues.push({ path: `${at}.inputs.socPct`, message: `runtime_min needs the battery state of charge: device ${source.id} has no tag "battery_soc_pct", name the tag that holds it` });
  }
  if (issues.length > before) return undefined;

  const intervalMs = c.intervalMs ?? defaults.pollIntervalMs;
  const slowestSourceMs = Math.max(0, ...[...sources].map((d) => d.pollIntervalMs));
  const calculation: CalculationSpec = {
    model: c.model,
    source: source?.id ?? null,
    inputs,
    params: { ...c.parameters },
    maxInputAgeMs: c.maxInputAgeMs ?? Math.max(MIN_DEFAULT_INPUT_AGE_MS, 3 * slowestSourceMs, 2 * intervalMs),
  };
  const tags: Tag[] = outputsOf(calculation).map((o) => ({
    name: o.name,
    description: o.description,
    unit: o.unit,
    source: { output: o.name, type: 'float64' },
    scale: 1,
    offset: 0,
    deadband: o.deadband,
    maxSilenceMs: defaults.maxSilenceMs,
  }));
  return {
    id: c.id,
    name: c.name ?? c.id,
    connection: { protocol: 'calc', calculation },
    pollIntervalMs: intervalMs,
    timeoutMs: defaults.timeoutMs,
    maxGapRegisters: 0,
    maxGapBits: 0,
    maxRegistersPerRequest: 125,
    maxBitsPerRequest: 2000,
    backoffInitialMs: defaults.backoffInitialMs,
    backoffMaxMs: defaults.backoffMaxMs,
    tags,
  };
}

/**
 * The tag as an input reference, or an issue: it must exist, be numeric (unless `running`), and be
 * in the unit the formula expects when the tag states one (a meter in W summed as kW would make PUE
 * read 0.001). A tag without a unit is taken as it is.
 */
function checkTag(device: DeviceSpec | undefined, deviceId: string, tagName: string, at: string, issues: ConfigIssue[], numeric: boolean, unit?: string): TagRef | undefined {
  if (!device) {
    issues.push({ path: at, message: `no device "${deviceId}" (a calculation reads field devices and calculated devices listed before it)` });
    return undefined;
  }
  const tag = device.tags.find((t) => t.name === tagName);
  if (!tag) {
    issues.push({ path: at, message: `device ${device.id} has no tag "${tagName}"` });
    return undefined;
  }
  const type = 'type' in tag.source ? tag.source.type : undefined;
  if (numeric && (type === 'bool' || type === 'string')) {
    issues.push({ path: at, message: `tag ${device.id}.${tagName} is ${type}: this input needs a number` });
    return undefined;
  }
  if (unit !== undefined && tag.unit.trim() !== '' && tag.unit.trim().toLowerCase() !== unit.toLowerCase()) {
    issues.push({ path: at, message: `tag ${device.id}.${tagName} is in "${tag.unit}", this input needs ${unit} (convert it on the tag: scale and unit)` });
    return undefined;
  }
  return { device: device.id, tag: tagName };
}
