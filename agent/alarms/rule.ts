/**
 * One alarm rule's state machine, as pure functions: (rule, state, input | action | time) →
 * (state, events). Nothing here reads a clock or keeps a timer: `nowMs` is passed in, so the same
 * code runs live on the gateway and over history in a backtest.
 *
 * Lifecycle (ISA-18.2): normal → active-unack (raised) → active-ack (acknowledged) → normal
 * (cleared); or active-unack → returned-unack (returned while unacknowledged) → normal
 * (acknowledged). A returned-unack alarm whose condition comes back is active-unack again.
 *
 * - On/off delays: the condition must hold (or stay clear) continuously for the delay; the delay is
 *   measured from the first evaluation that saw the change, on the time passed in.
 * - Deadband: a limit alarm clears only below limit − deadband (above limit + deadband for low limits).
 * - A value rule ignores readings of bad quality: the condition holds its last value (the device's
 *   comm-loss — a quality rule — says what is going on; the engine suppresses value rules meanwhile).
 * - Shelved: the state machine runs on, but raises and returns are not announced; at the end of the
 *   shelving (expiry or unshelve) the alarm is announced as it then stands.
 * - Out of service: nothing is evaluated; the alarm is normal until returned to service.
 * - Chatter: more than `chatter.maxActivations` raises within `chatter.windowMs` suppress further
 *   raises for `chatter.suppressMs` (announced once, counted); the alarm keeps its other transitions.
 */
import { ewmaUpdate, predictCrossing, residualAnomalyUpdate } from './predict/index.js';
import type { AlarmCondition, AlarmEvent, AlarmEventType, AlarmExpectation, AlarmInput, AlarmModel, AlarmPrediction, AlarmRule, AlarmRuleState, ModelInputReading, OperatorAction } from './types.js';

export function initialRuleState(): AlarmRuleState {
  return {
    state: 'normal',
    conditionNow: false,
    pendingSinceMs: null,
    activeSinceMs: null,
    activeValue: null,
    lastChangeMs: null,
    ackedBy: null,
    ackedMs: null,
    shelvedUntilMs: null,
    shelvedBy: null,
    outOfService: false,
    recentRaisesMs: [],
    chatterUntilMs: null,
    chatterSuppressed: 0,
    suppressedByCommLoss: false,
    window: [],
    lastValue: null,
  };
}

export interface RuleResult {
  state: AlarmRuleState;
  events: AlarmEvent[];
}

export interface ActionResult extends RuleResult {
  /** Why the action was refused (nothing changed then). */
  error?: string;
}

const isActive = (s: AlarmRuleState): boolean => s.state === 'active-unack' || s.state === 'active-ack';

/**
 * A reading for the rule's tag arrived. `modelInput`: for a residual anomaly rule, the latest
 * reading of its model input (`condition.expected.from`), null if none arrived yet.
 */
export function evaluateRule(rule: AlarmRule, previous: AlarmRuleState, input: AlarmInput, nowMs: number, modelInput: ModelInputReading | null = null): RuleResult {
  if (previous.outOfService) return { state: previous, events: [] };
  const state: AlarmRuleState = { ...previous };
  const good = input.quality !== 'bad' && input.value !== null;
  if (good) state.lastValue = input.value;
  if (rule.condition.kind === 'rate' && good && typeof input.value === 'number') {
    // The window keeps one point per tenth of the window (the current value is judged against the
    // oldest point inside it), so a reading costs no copy of a long array: ≤ 11 points, copied
    // only when a point is added.
    const w = previous.window;
    const last = w[w.length - 1];
    if (!last || input.timestampMs - last.tMs >= rule.condition.windowMs / 10) {
      const from = input.timestampMs - rule.condition.windowMs;
      state.window = [...w.filter((p) => p.tMs >= from && p.tMs < input.timestampMs), { tMs: input.timestampMs, value: input.value }];
    }
  }
  const condition =
    rule.condition.kind === 'predict'
      ? predictiveCondition(rule.condition, state, input, previous)
      : rule.condition.kind === 'anomaly'
        ? anomalyCondition(rule.condition, state, input, previous, modelInput)
        : conditionOf(rule.condition, state, input);
  if (condition !== null) state.conditionNow = condition;
  return advance(rule, state, nowMs, previous.conditionNow);
}

/** Time passed without a reading: delays may complete, shelving and chatter suppression may end. */
export function tickRule(rule: AlarmRule, previous: AlarmRuleState, nowMs: number): RuleResult {
  if (previous.outOfService) return { state: previous, events: [] };
  return advance(rule, { ...previous }, nowMs, previous.conditionNow);
}

/** The device's comm-loss alarm started or ended: value rules are suppressed meanwhile. */
export function setCommLossSuppression(rule: AlarmRule, previous: AlarmRuleState, suppressed: boolean, nowMs: number): RuleResult {
  if (!rule.suppressOnCommLoss || previous.suppressedByCommLoss === suppressed) return { state: previous, events: [] };
  return advance(rule, { ...previous, suppressedByCommLoss: suppressed }, nowMs, previous.conditionNow);
}

export function actOnRule(rule: AlarmRule, previous: AlarmRuleState, action: OperatorAction, nowMs: number): ActionResult {
  const state: AlarmRuleState = { ...previous };
  const extra = { by: action.by, reason: action.reason };
  switch (action.type) {
    case 'acknowledge': {
      if (state.state === 'active-unack') state.state = 'active-ack';
      else if (state.state === 'returned-unack') state.state = 'normal';
      else return { state: previous, events: [], error: `alarm ${rule.id} is ${state.state}: nothing to acknowledge` };
      state.ackedBy = action.by;
      state.ackedMs = nowMs;
      state.lastChangeMs = nowMs;
      return { state, events: [event(rule, state, 'acknowledged', nowMs, extra)] };
    }
    case 'shelve': {
      if (state.outOfService) return { state: previous, events: [], error: `alarm ${rule.id} is out of service` };
      if (action.untilMs === undefined || !(action.untilMs > nowMs)) return { state: previous, events: [], error: `shelving alarm ${rule.id} needs an end in the future (untilMs)` };
      state.shelvedUntilMs = action.untilMs;
      state.shelvedBy = action.by;
      return { state, events: [event(rule, state, 'shelved', nowMs, { ...extra, untilMs: action.untilMs })] };
    }
    case 'unshelve': {
      if (state.shelvedUntilMs === null) return { state: previous, events: [], error: `alarm ${rule.id} is not shelved` };
      state.shelvedUntilMs = null;
      state.shelvedBy = null;
      return { state, events: [event(rule, state, 'unshelved', nowMs, extra)] };
    }
    case 'remove-from-service': {
      if (state.outOfService) return { state: previous, events: [], error: `alarm ${rule.id} is already out of service` };
      const out: AlarmRuleState = { ...initialRuleState(), outOfService: true, lastChangeMs: nowMs, chatterSuppressed: state.chatterSuppressed };
      return { state: out, events: [event(rule, out, 'removed-from-service', nowMs, extra)] };
    }
    case 'return-to-service': {
      if (!state.outOfService) return { state: previous, events: [], error: `alarm ${rule.id} is in service` };
      const back: AlarmRuleState = { ...initialRuleState(), lastChangeMs: nowMs, chatterSuppressed: state.chatterSuppressed, suppressedByCommLoss: state.suppressedByCommLoss };
      return { state: back, events: [event(rule, back, 'returned-to-service', nowMs, extra)] };
    }
  }
}

/**
 * A predictive rule samples the tag into its trend (one point per `sampleEveryMs`, bad points kept
 * as bad so a mostly-bad window gives no prediction) and predicts afresh when a point is added.
 */
function predictiveCondition(c: Extract<AlarmCondition, { kind: 'predict' }>, state: AlarmRuleState, input: AlarmInput, previous: AlarmRuleState): boolean | null {
  const trend = previous.trend ?? [];
  const last = trend[trend.length - 1];
  if (last && input.timestampMs - last.tMs < c.sampleEveryMs) return previous.conditionNow;
  const good = input.quality !== 'bad' && typeof input.value === 'number';
  const from = input.timestampMs - c.windowMs;
  state.trend = [...trend.filter((p) => p.tMs >= from), { tMs: input.timestampMs, value: good ? (input.value as number) : null, good }];
  if (!good) return null;
  const p = predictCrossing(state.trend, { nowMs: input.timestampMs, threshold: c.threshold, direction: c.direction, windowMs: c.windowMs, horizonMs: c.horizonMs, minConfidence: c.minConfidence });
  if (p.kind !== 'crossing') {
    state.prediction = null;
    return false;
  }
  state.prediction = { crossingMs: p.crossingMs, inMs: p.inMs, confidence: p.confidence, slopePerMin: p.slopePerMin, earliestMs: p.earliestMs, latestMs: p.latestMs };
  return true;
}

/**
 * An anomaly rule judges one sample per `sampleEveryMs` against its learned normal
 * (agent/alarms/predict/ewma-anomaly.ts): of the value itself, or — with an equipment model — of
 * the residual actual − expected. A residual sample needs a good watched value and a good, fresh
 * model input; otherwise it is skipped: not learned, not judged, and the next sample is taken as
 * soon as both are there.
 */
function anomalyCondition(c: Extract<AlarmCondition, { kind: 'anomaly' }>, state: AlarmRuleState, input: AlarmInput, previous: AlarmRuleState, modelInput: ModelInputReading | null): boolean | null {
  if (input.quality === 'bad' || typeof input.value !== 'number') return null;
  const normal = previous.normal ?? { n: 0, mean: 0, variance: 0, lastMs: Number.NEGATIVE_INFINITY, z: 0 };
  if (input.timestampMs - normal.lastMs < c.sampleEveryMs) return previous.conditionNow;
  const options = { alpha: c.alpha, warmupSamples: c.warmupSamples, zThreshold: c.zThreshold, minStd: c.minStd };
  const learned = { n: normal.n, mean: normal.mean, variance: normal.variance };
  let result;
  if (c.expected) {
    const expectation = input.quality === 'good' ? expectationOf(c.expected, input.timestampMs, modelInput) : null;
    if (expectation === null) return null;
    result = residualAnomalyUpdate(learned, input.value, expectation.value, options);
    state.expectation = expectation;
  } else {
    result = ewmaUpdate(learned, input.value, options);
  }
  state.normal = { ...result.state, lastMs: input.timestampMs, z: result.z, basis: normal.basis ?? normalBasis(c) };
  return result.anomalous;
}

/**
 * What an anomaly rule's normal was learned on: the value itself, or the residual of one model.
 * A saved normal of another basis (an `expected` added or a curve refitted) means nothing for the
 * rule: the engine then learns afresh.
 */
export function normalBasis(c: Extract<AlarmCondition, { kind: 'anomaly' }>): string {
  return c.expected ? `residual ${c.expected.from} [${c.expected.coefficients.join(', ')}]` : 'value';
}

/** The model's expected value at the input's latest reading; null when the input is missing, not good, or further than `maxInputAgeMs` from `atMs`. */
export function expectationOf(model: AlarmModel, atMs: number, modelInput: ModelInputReading | null): AlarmExpectation | null {
  if (!modelInput || modelInput.quality !== 'good' || typeof modelInput.value !== 'number') return null;
  if (Math.abs(atMs - modelInput.timestampMs) > model.maxInputAgeMs) return null;
  const x = modelInput.value;
  // Horner: c0 + x·(c1 + x·(c2 + x·c3)).
  let value = 0;
  for (let i = model.coefficients.length - 1; i >= 0; i--) value = value * x + model.coefficients[i];
  return Number.isFinite(value) ? { value, from: model.from, fromValue: x } : null;
}

/** The condition for one input; null when the input says nothing about it (bad quality for a value rule, wrong type). */
export function conditionOf(condition: AlarmCondition, state: AlarmRuleState, input: AlarmInput): boolean | null {
  if (condition.kind === 'quality') {
    if (condition.on === 'bad') return input.quality === 'bad';
    if (condition.on === 'stale') return input.reason === 'stale';
    return input.quality === 'bad' && (input.reason === 'comm-lost' || input.reason === 'not-connected');
  }
  if (input.quality === 'bad' || input.value === null) return null;
  const v = input.value;
  switch (condition.kind) {
    case 'limit': {
      if (typeof v !== 'number') return null;
      const high = condition.level === 'H' || condition.level === 'HH';
      if (high) return state.conditionNow ? v >= condition.limit - condition.deadband : v >= condition.limit;
      return state.conditionNow ? v <= condition.limit + condition.deadband : v <= condition.limit;
    }
    case 'rate': {
      if (typeof v !== 'number') return null;
      // The current value against the oldest kept point still inside the window.
      const from = input.timestampMs - condition.windowMs;
      const oldest = state.window.find((p) => p.tMs >= from);
      if (!oldest) return state.conditionNow;
      const spanMs = input.timestampMs - oldest.tMs;
      // A rate over less than half the window is too noisy to judge.
      if (spanMs < condition.windowMs / 2) return state.conditionNow;
      const perMin = ((v - oldest.value) * 60_000) / spanMs;
      return (condition.maxRisePerMin !== undefined && perMin > condition.maxRisePerMin) || (condition.maxFallPerMin !== undefined && perMin < -condition.maxFallPerMin);
    }
    case 'predict':
    case 'anomaly':
      // Judged by predictiveCondition / anomalyCondition (they keep their own history); never reached.
      return state.conditionNow;
    case 'discrete': {
      const alarmWhen = condition.alarmWhen ?? true;
      if (condition.bit !== undefined) {
        if (typeof v !== 'number' || !Number.isInteger(v)) return null;
        return (Math.floor(v / 2 ** condition.bit) % 2 === 1) === alarmWhen;
      }
      if (typeof v === 'boolean') return v === alarmWhen;
      if (typeof v === 'number') return (v !== 0) === alarmWhen;
      return null;
    }
  }
}

/** Applies delays, suppression, chatter and shelving to the current condition; emits what changed. */
function advance(rule: AlarmRule, state: AlarmRuleState, nowMs: number, conditionBefore: boolean): RuleResult {
  const events: AlarmEvent[] = [];
  // Shelving and chatter suppression end by time.
  if (state.shelvedUntilMs !== null && nowMs >= state.shelvedUntilMs) {
    state.shelvedUntilMs = null;
    state.shelvedBy = null;
    events.push(event(rule, state, 'unshelved', nowMs, { reason: 'shelving expired' }));
  }
  if (state.chatterUntilMs !== null && nowMs >= state.chatterUntilMs) state.chatterUntilMs = null;

  const active = isActive(state);
  if (state.conditionNow === active) {
    state.pendingSinceMs = null;
    return { state, events };
  }
  if (state.suppressedByCommLoss && state.conditionNow) {
    // The device's values mean nothing while it is unreachable: no raise, no pending delay.
    state.pendingSinceMs = null;
    return { state, events };
  }
  if (state.pendingSinceMs === null) state.pendingSinceMs = nowMs;
  const delayMs = state.conditionNow ? rule.onDelayMs : rule.offDelayMs;
  if (nowMs - state.pendingSinceMs < delayMs) return { state, events };
  state.pendingSinceMs = null;

  const shelved = state.shelvedUntilMs !== null;
  if (state.conditionNow) {
    state.recentRaisesMs = state.recentRaisesMs.filter((t) => t > nowMs - rule.chatter.windowMs);
    if (state.chatterUntilMs !== null) {
      if (!conditionBefore) state.chatterSuppressed++;
      return { state, events };
    }
    if (state.recentRaisesMs.length >= rule.chatter.maxActivations) {
      state.chatterUntilMs = nowMs + rule.chatter.suppressMs;
      state.chatterSuppressed++;
      events.push(event(rule, state, 'chatter-suppressed', nowMs, { reason: `${state.recentRaisesMs.length} raises within ${Math.round(rule.chatter.windowMs / 1000)} s`, untilMs: state.chatterUntilMs }));
      return { state, events };
    }
    state.recentRaisesMs = [...state.recentRaisesMs, nowMs];
    state.state = 'active-unack';
    state.activeSinceMs = nowMs;
    state.activeValue = state.lastValue;
    if (state.expectation !== undefined) state.activeExpectation = state.expectation;
    state.lastChangeMs = nowMs;
    state.ackedBy = null;
    state.ackedMs = null;
    if (!shelved) events.push(event(rule, state, 'raised', nowMs));
  } else {
    const type: AlarmEventType = state.state === 'active-unack' ? 'returned' : 'cleared';
    state.state = state.state === 'active-unack' ? 'returned-unack' : 'normal';
    state.lastChangeMs = nowMs;
    if (!shelved) events.push(event(rule, state, type, nowMs));
  }
  return { state, events };
}

function event(rule: AlarmRule, state: AlarmRuleState, type: AlarmEventType, tsMs: number, extra: { by?: string; reason?: string; untilMs?: number } = {}): AlarmEvent {
  const value = type === 'raised' ? state.activeValue : state.lastValue;
  const expected = type === 'raised' ? state.activeExpectation : type === 'returned' || type === 'cleared' ? state.expectation : null;
  return {
    type,
    ruleId: rule.id,
    device: rule.device,
    tag: rule.tag,
    priority: rule.priority,
    state: state.state,
    message: renderMessage(rule, value, state.prediction ?? null, (type === 'raised' ? state.activeExpectation : state.expectation) ?? null),
    value,
    unit: rule.unit,
    tsMs,
    ...(type === 'raised' && state.prediction ? { prediction: state.prediction } : {}),
    ...(expected ? { expected } : {}),
    ...(extra.by !== undefined ? { by: extra.by } : {}),
    ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    ...(extra.untilMs !== undefined ? { untilMs: extra.untilMs } : {}),
  };
}

/**
 * "{device} {tag} {value} {unit} above {limit}" → "chiller-1 chw_supply_temp 18.2 °C above 18".
 * Residual anomalies: `{expected}` (the model's value), `{from}`, `{fromValue}`, `{fromUnit}` (its input).
 */
export function renderMessage(rule: AlarmRule, value: number | boolean | string | null, prediction: AlarmPrediction | null = null, expectation: AlarmExpectation | null = null): string {
  const limit = rule.condition.kind === 'limit' ? String(rule.condition.limit) : rule.condition.kind === 'predict' ? String(rule.condition.threshold) : '';
  const show = (v: number | boolean | string | null | undefined): string => (typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : v === null || v === undefined ? '—' : String(v));
  const eta = prediction ? formatEta(prediction.inMs) : '—';
  const model = rule.condition.kind === 'anomaly' ? rule.condition.expected : undefined;
  const z = rule.condition.kind === 'anomaly' ? rule.condition.zThreshold : null;
  const confidence = prediction ? `${Math.round(prediction.confidence * 100)} %` : '—';
  const fields: Record<string, () => string> = {
    value: () => show(value),
    limit: () => limit,
    unit: () => rule.unit,
    device: () => rule.device,
    tag: () => rule.tag,
    eta: () => eta,
    confidence: () => confidence,
    z: () => String(z ?? '—'),
    expected: () => show(expectation?.value),
    from: () => model?.from ?? '—',
    fromValue: () => show(expectation?.fromValue),
    fromUnit: () => model?.fromUnit ?? '',
  };
  return rule.message.replace(/\{(value|limit|unit|device|tag|eta|confidence|z|expected|from|fromValue|fromUnit)\}/g, (_, key: string) => fields[key]());
}

/** "38 min", "2 h 5 min", "40 s". */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
