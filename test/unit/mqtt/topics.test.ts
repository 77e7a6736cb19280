import { describe, expect, it } from 'vitest';
import { assertTopicLevel, createTopics } from '../../../agent/mqtt/topics.js';

describe('topics', () => {
  it('lays out gateway status, device status and device data under the prefix', () => {
    const topics = createTopics('gw-1');
    expect(topics.gatewayStatus).toBe('allbit/gw-1/status');
    expect(topics.deviceStatus('chiller-1')).toBe('allbit/gw-1/devices/chiller-1/status');
    expect(topics.deviceData('chiller-1')).toBe('allbit/gw-1/devices/chiller-1/data');
  });

  it('has a retained daily report topic under the gateway', () => {
    expect(createTopics('gw-1').reportsDaily).toBe('allbit/gw-1/reports/daily');
    expect(createTopics('gw-1', 'site/dc1').reportsDaily).toBe('site/dc1/gw-1/reports/daily');
  });

  it('accepts a multi-level prefix', () => {
    expect(createTopics('gw', 'site/dc1').deviceData('ups')).toBe('site/dc1/gw/devices/ups/data');
  });

  it.each(['a/b', 'a+b', 'a#', ''])('rejects the id %j', (id) => {
    expect(() => createTopics(id)).toThrow(/gateway id/);
    expect(() => createTopics('gw').deviceData(id)).toThrow(/device id/);
  });

  it.each(['', '/allbit', 'allbit/', 'a//b', 'a/+', '#'])('rejects the prefix %j', (prefix) => {
    expect(() => createTopics('gw', prefix)).toThrow(/prefix/);
  });

  it('names the offending character', () => {
    expect(() => assertTopicLevel('device id', 'pdu+1')).toThrow('device id "pdu+1" contains "+"');
  });
});
