/**
 * Alarm rules, their state and their events (ISA-18.2 / IEC 62682 style). Pure data: the engine
 * (evaluate.ts) turns (state, reading, now) into (state, events), the same way live and in a
 * backtest over history.
 */
import type { Quality, QualityReason } from '../core/quality.js';

export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

/** ISA-18.2 alarm states (the "normal" state is both: condition clear and acknowledged). */
export type AlarmState = 'normal' | 'active-unack' | 'active-ack' | 'returned-unack';

export type LimitLevel = 'HH' | 'H' | 'L' | 'LL';

export type AlarmCondition =
  /** High (HH, H): value ≥ limit raises, value < limit − deadband clears. Low (L, LL) mirrored. */
  | { kind: 'limit'; level: LimitLevel; limit: number; deadband: number }
  /** Rate of change over `windowMs`, in units per minute: rising faster than `maxRisePerMin` or falling faster than `maxFallPerMin` (both positive numbers). */
  | { kind: 'rate'; windowMs: number; maxRisePerMin?: number; maxFallPerMin?: number }
  /** A status: a bool tag (alarm when it equals `alarmWhen`, default true) or one bit of an alarm word. */
  | { kind: 'discrete'; bit?: number; alarmWhen?: boolean }
  /** From quality: comm-lost (the device is unreachable) or stale (no fresh value). */
  | { kind: 'quality'; on: 'comm-lost' | 'stale' | 'bad' };

export interface AlarmRule {
  /** Unique in the gateway: "chiller-1.chw_supply_temp.H". */
  id: string;
  device: string;
  tag: string;
  condition: AlarmCondition;
  priority: AlarmPriority;
  /** Shown to operators; `{value}`, `{limit}`, `{unit}`, `{device}`, `{tag}` are filled in. */
  message: string;
  unit: string;
  /** The condition must hold this long before the alarm is raised (0: at once). */
  onDelayMs: number;
  /** The condition must be clear this long before the alarm returns (0: at once). */
  offDelayMs: number;
  /** Chatter: more than `maxActivations` raises within `windowMs` suppress new raises for `suppressMs`. */
  chatter: { maxActivations: number; windowMs: number; suppressMs: number };
  /** Suppressed while the device's comm-loss alarm is active (its values mean nothing then). Default true, except for quality rules. */
  suppressOnCommLoss: boolean;
}

export interface OperatorAction {
  type: 'acknowledge' | 'shelve' | 'unshelve' | 'remove-from-service' | 'return-to-service';
  /** Who did it (user name, or the MQTT client that sent the command). */
  by: string;
  /** Why (free text, recorded). */
  reason: string;
  /** shelve: until when (ms since epoch). */
  untilMs?: number;
}

/** Everything the engine keeps per rule; serialisable (kept in SQLite across restarts). */
export interface AlarmRuleState {
  state: AlarmState;
  /** The condition as last evaluated, before delays. */
  conditionNow: boolean;
  /** Since when `conditionNow` has differed from the alarm's active/clear side (for on/off delays); null if it agrees. */
  pendingSinceMs: number | null;
  /** When the alarm was last raised, and the value then. */
  activeSinceMs: number | null;
  activeValue: number | boolean | string | null;
  lastChangeMs: number | null;
  /** Last operator acknowledgement. */
  ackedBy: string | null;
  ackedMs: number | null;
  shelvedUntilMs: number | null;
  shelvedBy: string | null;
  outOfService: boolean;
  /** Raise times within the chatter window, and until when raises are suppressed for chattering. */
  recentRaisesMs: number[];
  chatterUntilMs: number | null;
  /** Raises swallowed by chatter suppression since start. */
  chatterSuppressed: number;
  /** Suppressed because the device's comm-loss alarm is active. */
  suppressedByCommLoss: boolean;
  /** Rate rules: recent good values in the window. */
  window: { tMs: number; value: number }[];
  /** The last good value seen (for messages). */
  lastValue: number | boolean | string | null;
}

export type AlarmEventType =
  | 'raised'
  | 'acknowledged'
  | 'returned'
  | 'cleared'
  | 'shelved'
  | 'unshelved'
  | 'removed-from-service'
  | 'returned-to-service'
  | 'chatter-suppressed';

/** One thing that happened to an alarm, published on the alarm event topic and kept in the outbox. */
export interface AlarmEvent {
  type: AlarmEventType;
  ruleId: string;
  device: string;
  tag: string;
  priority: AlarmPriority;
  /** The alarm's state after the event. */
  state: AlarmState;
  message: string;
  value: number | boolean | string | null;
  unit: string;
  tsMs: number;
  /** Operator actions: who and why. */
  by?: string;
  reason?: string;
  /** shelve: until when. */
  untilMs?: number;
}

/** The reading an alarm rule looks at (a subset of core's Reading). */
export interface AlarmInput {
  device: string;
  tag: string;
  value: number | boolean | string | null;
  quality: Quality;
  reason?: QualityReason;
  timestampMs: number;
}
