/**
 * The alarm engine: every rule's state, fed with readings, the passing of time and operator
 * actions. Each step is one of the pure rule functions (rule.ts); the engine only routes inputs to
 * the rules of their tag and keeps the resulting states — the one mutable holder, so that the same
 * object serves live (fed by the pipeline) and in a backtest (fed from a CSV). Its states are plain
 * data: `states()` is what SQLite keeps, and an engine built from them continues where the old
 * one stopped (restart recovery).
 *
 * Flood protection: while a device is unreachable (a reading of it is bad with comm-lost or
 * not-connected), its value rules are suppressed — one comm-loss alarm instead of one per tag.
 *
 * Model inputs: a residual anomaly rule compares its tag with an expected value computed from
 * another tag of the device. The engine remembers the latest reading (value, quality, source
 * timestamp) of every such input and hands it to the rules that need it; the rule decides whether
 * it is good and fresh enough. These readings are not part of `states()`: after a restart an input
 * must be read afresh before a residual is judged, which the freshness bound demands anyway.
 * Routing stays one map lookup per reading: a tag's route holds both its rules and, if it feeds a
 * model, the slot its latest reading is kept in.
 */
import { actOnRule, evaluateRule, initialRuleState, normalBasis, renderMessage, setCommLossSuppression, tickRule, type ActionResult } from './rule.js';
import type { ActiveAlarmSummary, AlarmEvent, AlarmInput, AlarmRule, AlarmRuleState, ModelInputReading, OperatorAction } from './types.js';

export interface ActiveAlarm {
  rule: AlarmRule;
  state: AlarmRuleState;
}

const PRIORITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 } as const;

/** A rule as routed: with the slot of its model input, if it has one. */
interface RoutedRule {
  rule: AlarmRule;
  modelInput: ModelInputReading | null;
}

/** Everything one device.tag reading goes to. */
interface Route {
  rules: RoutedRule[];
  /** Set when the tag is a model input: its latest reading, updated in place. */
  modelInput: ModelInputReading | null;
}

const routeKey = (device: string, tag: string): string => `${device}\u0000${tag}`;

export class AlarmEngine {
  private readonly rules = new Map<string, AlarmRule>();
  private readonly byTag = new Map<string, Route>();
  private readonly byDevice = new Map<string, AlarmRule[]>();
  private readonly ruleStates = new Map<string, AlarmRuleState>();
  private readonly commLost = new Map<string, boolean>();

  constructor(rules: readonly AlarmRule[], saved: ReadonlyMap<string, AlarmRuleState> = new Map()) {
    for (const rule of rules) {
      if (this.rules.has(rule.id)) throw new Error(`alarm rule "${rule.id}" is defined twice`);
      this.rules.set(rule.id, rule);
      const route = this.route(rule.device, rule.tag);
      const model = rule.condition.kind === 'anomaly' ? rule.condition.expected : undefined;
      let modelInput: ModelInputReading | null = null;
      if (model) {
        const input = this.route(rule.device, model.from);
        input.modelInput ??= { value: null, quality: 'bad', timestampMs: Number.NEGATIVE_INFINITY };
        modelInput = input.modelInput;
      }
      // Quality rules first: an input that ends a comm loss reports the loss's end before what the values say.
      const routed = { rule, modelInput };
      if (rule.condition.kind === 'quality') route.rules.unshift(routed);
      else route.rules.push(routed);
      this.byDevice.set(rule.device, [...(this.byDevice.get(rule.device) ?? []), rule]);
      // A saved state of a rule whose kind changed would be meaningless; the window of a rate rule is kept as is.
      let state = saved.get(rule.id) ?? initialRuleState();
      // An anomaly normal learned on another basis (the raw value before `expected` was added, another curve) is learned afresh.
      if (rule.condition.kind === 'anomaly' && state.normal && (state.normal.basis ?? 'value') !== normalBasis(rule.condition)) {
        state = { ...state, normal: undefined, expectation: null };
      }
      this.ruleStates.set(rule.id, state);
    }
    for (const [id, state] of this.ruleStates) if (state.suppressedByCommLoss) this.commLost.set(this.rules.get(id)!.device, true);
  }

  private route(device: string, tag: string): Route {
    const key = routeKey(device, tag);
    let route = this.byTag.get(key);
    if (!route) this.byTag.set(key, (route = { rules: [], modelInput: null }));
    return route;
  }

  /** A reading arrived; returns the events it caused (in order). */
  evaluate(input: AlarmInput, nowMs: number): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    const lost = input.quality === 'bad' && (input.reason === 'comm-lost' || input.reason === 'not-connected');
    const known = this.commLost.get(input.device) ?? false;
    // A good reading ends the loss; a bad reading for another reason says nothing about the link.
    if (lost !== known && (lost || input.quality !== 'bad')) {
      this.commLost.set(input.device, lost);
      for (const rule of this.byDevice.get(input.device) ?? []) {
        const result = setCommLossSuppression(rule, this.ruleStates.get(rule.id)!, lost, nowMs);
        this.ruleStates.set(rule.id, result.state);
        events.push(...result.events);
      }
    }
    const route = this.byTag.get(routeKey(input.device, input.tag));
    if (!route) return events;
    // Remembered before the tag's own rules run, so a tag that is watched and feeds a model is seen consistently.
    const slot = route.modelInput;
    if (slot) {
      slot.value = input.value;
      slot.quality = input.quality;
      slot.timestampMs = input.timestampMs;
    }
    for (const { rule, modelInput } of route.rules) {
      const result = evaluateRule(rule, this.ruleStates.get(rule.id)!, input, nowMs, modelInput);
      this.ruleStates.set(rule.id, result.state);
      events.push(...result.events);
    }
    return events;
  }

  /** Time passed: on/off delays complete, shelving and chatter suppression expire. */
  tick(nowMs: number): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    for (const [id, state] of this.ruleStates) {
      // Only rules with something pending can change by time alone.
      if (state.pendingSinceMs === null && state.shelvedUntilMs === null && state.chatterUntilMs === null) continue;
      const result = tickRule(this.rules.get(id)!, state, nowMs);
      this.ruleStates.set(id, result.state);
      events.push(...result.events);
    }
    return events;
  }

  /** An operator action on one alarm; refused (with the reason) when it does not apply. */
  act(ruleId: string, action: OperatorAction, nowMs: number): ActionResult {
    const rule = this.rules.get(ruleId);
    if (!rule) return { state: initialRuleState(), events: [], error: `no alarm "${ruleId}"` };
    const result = actOnRule(rule, this.ruleStates.get(ruleId)!, action, nowMs);
    this.ruleStates.set(ruleId, result.state);
    return result;
  }

  state(ruleId: string): AlarmRuleState | undefined {
    return this.ruleStates.get(ruleId);
  }

  /** Every rule's state, to keep across a restart. */
  states(): Map<string, AlarmRuleState> {
    return new Map(this.ruleStates);
  }

  /** The active list as published and shown: one summary per alarm of `activeAlarms()`, in its order. */
  activeSummaries(): ActiveAlarmSummary[] {
    return this.activeAlarms().map(({ rule, state: s }) => ({
      alarm: rule.id,
      device: rule.device,
      tag: rule.tag,
      priority: rule.priority,
      state: s.state,
      message: renderMessage(rule, s.activeValue, s.prediction ?? null, s.activeExpectation ?? null),
      value: s.activeValue,
      unit: rule.unit,
      sinceMs: s.activeSinceMs,
      shelvedUntilMs: s.shelvedUntilMs,
      shelvedBy: s.shelvedBy,
      outOfService: s.outOfService,
    }));
  }

  /** Alarms that are not normal (or are shelved / out of service), most urgent first, then oldest first. */
  activeAlarms(): ActiveAlarm[] {
    const out: ActiveAlarm[] = [];
    for (const [id, state] of this.ruleStates) {
      if (state.state !== 'normal' || state.shelvedUntilMs !== null || state.outOfService) out.push({ rule: this.rules.get(id)!, state });
    }
    return out.sort((a, b) => PRIORITY_ORDER[a.rule.priority] - PRIORITY_ORDER[b.rule.priority] || (a.state.activeSinceMs ?? 0) - (b.state.activeSinceMs ?? 0));
  }
}
