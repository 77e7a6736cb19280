/**
 * The topic layout (docs/mqtt.md is the consumer-facing contract):
 *
 *   {prefix}/{gatewayId}/status                      retained gateway online/offline, also the last will
 *   {prefix}/{gatewayId}/devices/{deviceId}/status   retained device availability
 *   {prefix}/{gatewayId}/devices/{deviceId}/data     readings, QoS 1, not retained
 *   {prefix}/{gatewayId}/alarms/events               alarm events (raised, returned, acknowledged, …), QoS 1, not retained
 *   {prefix}/{gatewayId}/alarms/active               retained: the alarms that are not normal, most urgent first
 *   {prefix}/{gatewayId}/alarms/commands             in: acknowledge, shelve … (JSON with a request id)
 *   {prefix}/{gatewayId}/alarms/replies              out: one reply per command, with its request id
 *   {prefix}/{gatewayId}/reports/daily               retained: the latest daily operations report (JSON and Markdown), QoS 1
 */
export interface Topics {
  readonly prefix: string;
  readonly gatewayId: string;
  readonly gatewayStatus: string;
  deviceStatus(deviceId: string): string;
  deviceData(deviceId: string): string;
  readonly alarmEvents: string;
  readonly alarmsActive: string;
  readonly alarmCommands: string;
  readonly alarmReplies: string;
  readonly reportsDaily: string;
}

export const DEFAULT_TOPIC_PREFIX = 'allbit';

/** Throws unless `id` can be one topic level: non-empty, no `/`, `+`, `#` or NUL. */
export function assertTopicLevel(what: string, id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new Error(`${what} must be a non-empty string to be used in MQTT topics`);
  const bad = /[/+#\u0000]/.exec(id);
  if (bad) throw new Error(`${what} "${id}" contains "${bad[0] === '\u0000' ? 'NUL' : bad[0]}", which cannot appear in an MQTT topic level`);
}

/** A prefix may span several levels (`site/dc1/allbit`) but holds no wildcards and no empty level. */
function assertPrefix(prefix: string): void {
  if (prefix.length === 0) throw new Error('MQTT topic prefix must not be empty');
  for (const level of prefix.split('/')) {
    if (level.length === 0) throw new Error(`MQTT topic prefix "${prefix}" has an empty level (leading, trailing or double "/")`);
    assertTopicLevel(`MQTT topic prefix "${prefix}" level`, level);
  }
}

export function createTopics(gatewayId: string, prefix: string = DEFAULT_TOPIC_PREFIX): Topics {
  assertPrefix(prefix);
  assertTopicLevel('gateway id', gatewayId);
  const base = `${prefix}/${gatewayId}`;
  return {
    prefix,
    gatewayId,
    gatewayStatus: `${base}/status`,
    alarmEvents: `${base}/alarms/events`,
    alarmsActive: `${base}/alarms/active`,
    alarmCommands: `${base}/alarms/commands`,
    alarmReplies: `${base}/alarms/replies`,
    reportsDaily: `${base}/reports/daily`,
    deviceStatus(deviceId) {
      assertTopicLevel('device id', deviceId);
      return `${base}/devices/${deviceId}/status`;
    },
    deviceData(deviceId) {
      assertTopicLevel('device id', deviceId);
      return `${base}/devices/${deviceId}/data`;
    },
  };
}
