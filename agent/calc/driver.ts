/**
 * A calculated device behind the Driver contract, so the scheduler, ingest, report-by-exception,
 * alarms, topics and the status page treat it like any field device. Its "read" computes every
 * output from the latest readings of its inputs (agent/calc/latest-values.ts) at the poll time.
 *
 * Quality, per output:
 * - bad when an input it depends on is unusable: the input's own reason when it is bad
 *   (comm-lost, timeout, …), `stale` when its last reading is older than maxInputAgeMs,
 *   `not-connected` when none has arrived yet; the detail names the input;
 * - bad / not-applicable when the inputs are fine but the formula has no meaningful value now
 *   (an idle chiller has no kW/ton, a UPS without a declining battery has no replacement date);
 * - uncertain when an input it depends on is uncertain (out of its plausible range, for example);
 * - good otherwise.
 * Counters (energy, loss of life) keep their total: while an input is unusable or uncertain they
 * stop counting and say so with quality uncertain (a reset-free total must not keep a glitch).
 */
import { CALCULATION_MODEL_DEFS, outputsOf, type CalculationSpec } from '../core/calculation.js';
import type { Clock } from '../core/clock.js';
import type { DeviceSpec } from '../core/device.js';
import { zeroErrorCounts, type Driver, type DriverStats, type ReadPlan } from '../core/driver.js';
import type { Quality, QualityReason } from '../core/quality.js';
import type { RawSample } from '../core/reading.js';
import type { Tag } from '../core/tag.js';
import type { LatestValues } from './latest-values.js';
import { CALC_MODELS, type CalcModel, type ModelState } from './models.js';

interface InputStatus {
  value: number | boolean | null;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
}

interface CalcPlan extends ReadPlan {
  /** Output name of each planned tag, in tag order. */
  outputs: string[];
}

export class CalculatedDeviceDriver implements Driver {
  private readonly spec: CalculationSpec;
  private readonly model: CalcModel;
  private state: ModelState;
  private open_ = false;
  private computations = 0;

  constructor(
    private readonly device: DeviceSpec,
    private readonly latest: LatestValues,
    private readonly clock: Clock,
    saved?: ModelState,
  ) {
    if (device.connection.protocol !== 'calc') throw new Error(`device ${device.id}: CalculatedDeviceDriver cannot serve protocol ${device.connection.protocol}`);
    this.spec = device.connection.calculation;
    this.model = CALC_MODELS[this.spec.model];
    this.state = saved ?? this.model.init();
  }

  get connected(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    this.open_ = true;
  }

  plan(tags: readonly Tag[]): CalcPlan {
    const known = new Set(outputsOf(this.spec).map((o) => o.name));
    const outputs = tags.map((t) => {
      const output = 'output' in t.source ? t.source.output : undefined;
      if (output === undefined || !known.has(output)) throw new Error(`device ${this.device.id}: tag ${t.name} is not an output of the ${this.spec.model} calculation`);
      return output;
    });
    return { requestCount: 0, tagCount: tags.length, outputs };
  }

  async read(plan: ReadPlan): Promise<RawSample[]> {
    const { outputs } = plan as CalcPlan;
    const nowMs = this.clock.now();
    const inputs: Record<string, number | boolean | null> = {};
    const lists: Record<string, (number | null)[]> = {};
    const status = new Map<string, InputStatus>();
    for (const def of CALCULATION_MODEL_DEFS[this.spec.model].inputs) {
      const refs = this.spec.inputs[def.name];
      if (refs === undefined) continue;
      const each = refs.map((ref) => this.inputStatus(`${ref.device}.${ref.tag}`, ref, nowMs));
      if (def.list) lists[def.name] = each.map((s) => (typeof s.value === 'number' ? s.value : null));
      else inputs[def.name] = each[0].value;
      status.set(def.name, each.find((s) => s.quality === 'bad') ?? each.find((s) => s.quality === 'uncertain') ?? each[0]);
    }
    const uncertain = new Set<string>();
    for (const [name, st] of status) if (st.quality === 'uncertain') uncertain.add(name);
    const step = this.model.step(this.state, inputs, lists, nowMs, this.spec.params, uncertain);
    this.state = step.state;
    this.computations++;
    return outputs.map((output, tagIndex) => this.sample(tagIndex, output, tidy(step.values[output] ?? null), status, nowMs));
  }

  async close(): Promise<void> {
    this.open_ = false;
  }

  stats(): DriverStats {
    return { connected: this.open_, requests: this.computations, errors: zeroErrorCounts(), lastLatencyMs: null, lastError: null };
  }

  /** The model state to save (counters, thermal state, health points). */
  savedState(): ModelState {
    return this.state;
  }

  private inputStatus(name: string, ref: { device: string; tag: string }, nowMs: number): InputStatus {
    const v = this.latest.get(ref);
    if (v === null) return { value: null, quality: 'bad', reason: 'not-connected', detail: `no reading of ${name} yet` };
    const ageMs = nowMs - v.receivedMs;
    if (ageMs > this.spec.maxInputAgeMs) return { value: null, quality: 'bad', reason: 'stale', detail: `${name} last received ${Math.round(ageMs / 1000)} s ago` };
    if (v.quality === 'bad' || v.value === null) return { value: null, quality: 'bad', reason: v.reason ?? 'decode-error', detail: `${name}: ${v.reason ?? 'bad'}` };
    if (typeof v.value === 'string') return { value: null, quality: 'bad', reason: 'decode-error', detail: `${name} is text, not a number` };
    return v.quality === 'uncertain' ? { value: v.value, quality: 'uncertain', detail: `${name} is uncertain${v.reason ? ` (${v.reason})` : ''}` } : { value: v.value, quality: 'good' };
  }

  private sample(tagIndex: number, output: string, value: number | null, status: ReadonlyMap<string, InputStatus>, nowMs: number): RawSample {
    const counter = this.model.counters[output];
    const deps = (counter ?? this.model.deps[output] ?? []).map((d) => status.get(d)).filter((s): s is InputStatus => s !== undefined);
    const bad = deps.find((s) => s.quality === 'bad');
    const uncertain = deps.find((s) => s.quality === 'uncertain');
    if (counter) {
      if (value === null) return { tagIndex, quality: 'bad', reason: 'not-applicable', timestampMs: nowMs };
      if (bad) return { tagIndex, value, quality: 'uncertain', detail: `not counting: ${bad.detail}`, timestampMs: nowMs };
      if (uncertain) return { tagIndex, value, quality: 'uncertain', detail: `not counting: ${uncertain.detail}`, timestampMs: nowMs };
      return { tagIndex, value, quality: 'good', timestampMs: nowMs };
    }
    if (bad) return { tagIndex, quality: 'bad', reason: bad.reason!, detail: bad.detail!, timestampMs: nowMs };
    if (value === null || !Number.isFinite(value)) {
      return { tagIndex, quality: 'bad', reason: 'not-applicable', detail: 'no meaningful value now (for example idle, below minimum load, or not enough history)', timestampMs: nowMs };
    }
    if (uncertain) return { tagIndex, value, quality: 'uncertain', detail: uncertain.detail!, timestampMs: nowMs };
    return { tagIndex, value, quality: 'good', timestampMs: nowMs };
  }
}

/** 12 significant digits: drops the binary noise of a subtraction (3.9000000000000004 → 3.9), far below any meter's accuracy. */
function tidy(value: number | null): number | null {
  return value === null || !Number.isFinite(value) || value === 0 ? value : Number(value.toPrecision(12));
}
