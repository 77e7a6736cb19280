/**
 * Alarm commands over MQTT: `{prefix}/{gateway}/alarms/commands` in, one reply per command on
 * `{prefix}/{gateway}/alarms/replies` (docs/mqtt.md). Parsing and validation only; the runtime
 * hands a valid command to the alarm engine.
 *
 *   { "id": "req-17", "action": "acknowledge", "alarm": "chiller-1.chw_supply_temp.high",
 *     "by": "maria", "reason": "second chiller starting" }
 *   { "id": "req-18", "action": "shelve", "alarm": "…", "by": "maria", "reason": "sensor work", "minutes": 120 }
 */
export const ALARM_ACTIONS = ['acknowledge', 'shelve', 'unshelve', 'remove-from-service', 'return-to-service'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/** Longest shelving a command may ask for: shelving is for a shift's work, not for ever. */
export const MAX_SHELVE_MINUTES = 7 * 24 * 60;

export interface AlarmCommand {
  id: string;
  action: AlarmAction;
  alarm: string;
  by: string;
  reason: string;
  /** shelve only. */
  minutes?: number;
}

export type ParsedCommand = { ok: true; command: AlarmCommand } | { ok: false; id: string | null; error: string };

export function parseAlarmCommand(payload: Buffer | string): ParsedCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, id: null, error: 'the command is not JSON' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, id: null, error: 'the command must be a JSON object' };
  const c = raw as Record<string, unknown>;
  const id = typeof c.id === 'string' && c.id.length > 0 && c.id.length <= 128 ? c.id : null;
  if (id === null) return { ok: false, id: null, error: 'id: a request id (a string of 1–128 characters) is required, so the reply can be matched' };
  const fail = (error: string): ParsedCommand => ({ ok: false, id, error });
  if (typeof c.action !== 'string' || !(ALARM_ACTIONS as readonly string[]).includes(c.action)) return fail(`action: one of ${ALARM_ACTIONS.join(', ')}`);
  if (typeof c.alarm !== 'string' || c.alarm.length === 0) return fail('alarm: the alarm id is required');
  if (typeof c.by !== 'string' || c.by.trim().length === 0 || c.by.length > 128) return fail('by: who is acting is required (a name of 1–128 characters)');
  if (c.reason !== undefined && (typeof c.reason !== 'string' || c.reason.length > 1000)) return fail('reason: a text of at most 1000 characters');
  const command: AlarmCommand = { id, action: c.action as AlarmAction, alarm: c.alarm, by: c.by.trim(), reason: typeof c.reason === 'string' ? c.reason : '' };
  if (command.action === 'shelve') {
    if (typeof c.minutes !== 'number' || !Number.isFinite(c.minutes) || c.minutes <= 0 || c.minutes > MAX_SHELVE_MINUTES) {
      return fail(`minutes: how long to shelve, 1–${MAX_SHELVE_MINUTES}`);
    }
    command.minutes = c.minutes;
  } else if (c.minutes !== undefined) {
    return fail(`minutes applies to shelve, not ${command.action}`);
  }
  return { ok: true, command };
}
