import { describe, expect, it } from 'vitest';
import { parseAlarmCommand } from '../../../agent/mqtt/alarm-commands.js';

describe('alarm commands', () => {
  it('accepts an acknowledgement and a shelving with their fields', () => {
    expect(parseAlarmCommand('{"id":"r1","action":"acknowledge","alarm":"a.b.high","by":" maria ","reason":"ok"}')).toEqual({
      ok: true,
      command: { id: 'r1', action: 'acknowledge', alarm: 'a.b.high', by: 'maria', reason: 'ok' },
    });
    expect(parseAlarmCommand(Buffer.from('{"id":"r2","action":"shelve","alarm":"a","by":"tom","minutes":90}'))).toEqual({
      ok: true,
      command: { id: 'r2', action: 'shelve', alarm: 'a', by: 'tom', reason: '', minutes: 90 },
    });
  });

  it('refuses what it cannot act on, with the request id when there is one', () => {
    const cases: [string, string | null, RegExp][] = [
      ['not json', null, /not JSON/],
      ['[1]', null, /JSON object/],
      ['{"action":"acknowledge"}', null, /^id: a request id/],
      ['{"id":"r","action":"delete","alarm":"a","by":"x"}', 'r', /^action: one of acknowledge, shelve/],
      ['{"id":"r","action":"acknowledge","by":"x"}', 'r', /^alarm: the alarm id is required/],
      ['{"id":"r","action":"acknowledge","alarm":"a","by":"  "}', 'r', /^by: who is acting is required/],
      ['{"id":"r","action":"shelve","alarm":"a","by":"x"}', 'r', /^minutes: how long to shelve, 1–10080/],
      ['{"id":"r","action":"shelve","alarm":"a","by":"x","minutes":20000}', 'r', /^minutes/],
      ['{"id":"r","action":"acknowledge","alarm":"a","by":"x","minutes":5}', 'r', /minutes applies to shelve, not acknowledge/],
    ];
    for (const [payload, id, error] of cases) {
      const parsed = parseAlarmCommand(payload);
      expect(parsed.ok, payload).toBe(false);
      if (!parsed.ok) {
        expect(parsed.id, payload).toBe(id);
        expect(parsed.error, payload).toMatch(error);
      }
    }
  });
});
