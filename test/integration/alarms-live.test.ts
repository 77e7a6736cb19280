/**
 * Alarms live: simulator → agent (alarm engine in the pipeline) → outbox → MQTT. Events arrive on
 * their topic with sequence numbers from the same outbox as the readings; the active list is
 * retained; after a restart the alarm state continues (no second "raised" for an alarm that is
 * still active).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/core/logger.js';
import type { AlarmEventsPayload } from '../../agent/mqtt/json-encoder.js';
import mqtt from 'mqtt';
import { alarmStatePathFor, SqliteAlarmStateStore } from '../../agent/buffer/sqlite-alarm-state.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { startPlantSimulator, type PlantSimulator } from '../../simulators/index.js';
import { collect, startAedes, type AedesBroker, type Collector } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface ActivePayload {
  alarms: { alarm: string; state: string; priority: string; message: string; value: unknown; since: string | null }[];
}

describe('alarms in the running agent', () => {
  it('publishes alarm events through the outbox, keeps the active list retained, and continues after a restart', async () => {
    const sim: PlantSimulator = await startPlantSimulator({ autoRun: false, seed: 11 });
    cleanups.push(() => sim.close());
    sim.step(3600);
    const broker: AedesBroker = await startAedes();
    cleanups.push(() => broker.close());
    const supply = sim.values('chiller-1').chw_supply_temp as number;
    const alarms = {
      'chiller-1': [
        // Below the present supply temperature: raised at once. Its priority puts it first in the list.
        { type: 'high', tag: 'chw_supply_temp', limit: Math.floor(supply) - 1, priority: 'critical', message: '{device} supply {value} {unit} above {limit}' },
        // Far above: never raised.
        { type: 'high-high', tag: 'chw_supply_temp', limit: 40 },
        { type: 'comm-loss', priority: 'high' },
      ],
      'ups-1': [{ type: 'low', tag: 'battery_soc_pct', limit: 101, priority: 'medium' }],
    };
    const { config } = plantConfig(sim, { brokerUrl: broker.url, alarms });
    const sub: Collector = await collect(broker.url, 'allbit/test-edge/alarms/#');
    cleanups.push(() => sub.close());

    let agent: RunningAgent = await startAgent({ config, logger: silentLogger, version: 'test' });
    let stopped = false;
    cleanups.push(() => (stopped ? Promise.resolve() : agent.stop()));
    const events = () => sub.messages.filter((m) => m.topic === 'allbit/test-edge/alarms/events').flatMap((m) => (JSON.parse(m.payload) as AlarmEventsPayload).events);
    await sub.until('both alarms raised', () => events().filter((e) => e.type === 'raised').length >= 2);
    const raised = events().filter((e) => e.type === 'raised');
    expect(raised.map((e) => e.alarm).sort()).toEqual(['chiller-1.chw_supply_temp.high', 'ups-1.battery_soc_pct.low']);
    const chw = raised.find((e) => e.alarm === 'chiller-1.chw_supply_temp.high')!;
    expect(chw).toMatchObject({ device: 'chiller-1', tag: 'chw_supply_temp', priority: 'critical', state: 'active-unack', unit: '°C', message: expect.stringMatching(/^chiller-1 supply [\d.]+ °C above \d+$/) });
    expect(chw.seq).toBeGreaterThan(0);

    const lastActive = (): ActivePayload | undefined => {
      const m = sub.messages.filter((x) => x.topic === 'allbit/test-edge/alarms/active').at(-1);
      return m ? (JSON.parse(m.payload) as ActivePayload) : undefined;
    };
    await sub.until('the active list with both alarms', () => (lastActive()?.alarms.length ?? 0) === 2);
    expect(lastActive()!.alarms.map((a) => [a.alarm, a.state])).toEqual([
      ['chiller-1.chw_supply_temp.high', 'active-unack'],
      ['ups-1.battery_soc_pct.low', 'active-unack'],
    ]);

    // An operator acknowledges over MQTT; the reply carries the request id; the event carries who and why.
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    cleanups.push(() => client.endAsync());
    const replies = () => sub.messages.filter((m) => m.topic === 'allbit/test-edge/alarms/replies').map((m) => JSON.parse(m.payload) as { id: string | null; ok: boolean; error?: string; state?: string; shelvedUntil?: string });
    const command = (body: unknown) => client.publishAsync('allbit/test-edge/alarms/commands', JSON.stringify(body), { qos: 1 });
    await command({ id: 'req-1', action: 'acknowledge', alarm: 'chiller-1.chw_supply_temp.high', by: 'maria', reason: 'chiller 2 starting' });
    await sub.until('the reply to req-1', () => replies().some((r) => r.id === 'req-1'));
    expect(replies().find((r) => r.id === 'req-1')).toMatchObject({ ok: true, state: 'active-ack' });
    await sub.until('the acknowledged event', () => events().some((e) => e.type === 'acknowledged'));
    expect(events().find((e) => e.type === 'acknowledged')).toMatchObject({ alarm: 'chiller-1.chw_supply_temp.high', by: 'maria', reason: 'chiller 2 starting', state: 'active-ack' });
    await command({ id: 'req-2', action: 'acknowledge', alarm: 'chiller-1.chw_supply_temp.high', by: 'maria' });
    await command({ id: 'req-3', action: 'shelve', alarm: 'ups-1.battery_soc_pct.low', by: 'tom', reason: 'battery test', minutes: 30 });
    await command({ action: 'acknowledge', alarm: 'x', by: 'y' });
    await command({ id: 'req-5', action: 'acknowledge', alarm: 'no.such.alarm', by: 'y' });
    await sub.until('four more replies', () => replies().length >= 5);
    expect(replies().find((r) => r.id === 'req-2')).toMatchObject({ ok: false, error: expect.stringMatching(/is active-ack: nothing to acknowledge/) });
    expect(replies().find((r) => r.id === 'req-3')).toMatchObject({ ok: true, state: 'active-unack', shelvedUntil: expect.any(String) });
    expect(replies().find((r) => r.id === null)).toMatchObject({ ok: false, error: expect.stringMatching(/^id: a request id/) });
    expect(replies().find((r) => r.id === 'req-5')).toMatchObject({ ok: false, error: 'no alarm "no.such.alarm"' });
    await sub.until('the acknowledged state in the active list', () => lastActive()!.alarms.some((a) => a.state === 'active-ack'));

    // Restart on the same outbox and alarm state: the alarms are still active, nothing is raised again.
    await agent.stop();
    stopped = true;
    const raisedBefore = events().filter((e) => e.type === 'raised').length;
    const late = await collect(broker.url, 'allbit/test-edge/alarms/active');
    cleanups.push(() => late.close());
    await late.until('the retained active list for a new subscriber', () => late.messages.some((m) => m.retain));
    expect((JSON.parse(late.messages.find((m) => m.retain)!.payload) as ActivePayload).alarms).toHaveLength(2);

    agent = await startAgent({ config, logger: silentLogger, version: 'test' });
    stopped = false;
    const messagesAtRestart = sub.messages.length;
    await sub.until('data flowing again after the restart', () => sub.messages.slice(messagesAtRestart).some((m) => m.topic.endsWith('/alarms/active')));
    // A few poll cycles with the condition still true.
    const cyclesDone = sim.devices.length;
    expect(cyclesDone).toBeGreaterThan(0);
    await new Promise<void>((resolve) => {
      // Wait for a new retained active list that was published after the restart's first poll (the engine saw readings).
      const check = () => (agent.state.snapshot().readingsIn > 200 ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(events().filter((e) => e.type === 'raised').length).toBe(raisedBefore);
    expect(lastActive()!.alarms.map((a) => [a.alarm, a.state])).toEqual([
      ['chiller-1.chw_supply_temp.high', 'active-ack'],
      ['ups-1.battery_soc_pct.low', 'active-unack'],
    ]);

    // Every operator action, applied or refused, is in the local audit table.
    await agent.stop();
    stopped = true;
    const store = new SqliteAlarmStateStore(alarmStatePathFor(config.buffer.path));
    cleanups.push(async () => store.close());
    expect(store.auditLog().map((a) => [a.requestId, a.action, a.by, a.error === null])).toEqual([
      ['req-5', 'acknowledge', 'y', false],
      ['req-3', 'shelve', 'tom', true],
      ['req-2', 'acknowledge', 'maria', false],
      ['req-1', 'acknowledge', 'maria', true],
    ]);
  });
});
