import { describe, expect, it } from 'vitest';
import { describeStatus, qualityOfStatus, severityOf, statusHex } from '../../../../drivers/opcua/status.js';

/** Codes written from OPC 10000-6 Annex A (StatusCode.csv), not taken from the library under test. */
const s = (name: string, value: number) => ({ name, value });

describe('OPC UA status → quality', () => {
  it('Good and Good with info bits are good, without reason or detail', () => {
    expect(qualityOfStatus(s('Good', 0))).toEqual({ quality: 'good' });
    expect(qualityOfStatus(s('GoodClamped', 0x00300000))).toEqual({ quality: 'good' });
    expect(qualityOfStatus(s('Good#Overflow', 0x00000480))).toEqual({ quality: 'good' });
  });

  it('Uncertain is uncertain / device-status, with the name and hex code in the detail', () => {
    expect(qualityOfStatus(s('UncertainLastUsableValue', 0x40900000))).toEqual({
      quality: 'uncertain',
      reason: 'device-status',
      detail: 'UncertainLastUsableValue (0x40900000)',
    });
    expect(qualityOfStatus(s('UncertainInitialValue', 0x40920000))).toMatchObject({ quality: 'uncertain', detail: 'UncertainInitialValue (0x40920000)' });
  });

  it('Bad is bad / device-status unless the code says the node is unknown, the link is down or the request timed out', () => {
    const cases: Array<[string, number, string]> = [
      ['BadSensorFailure', 0x808c0000, 'device-status'],
      ['BadOutOfService', 0x808d0000, 'device-status'],
      ['BadDeviceFailure', 0x808b0000, 'device-status'],
      ['BadWaitingForInitialData', 0x80320000, 'device-status'],
      ['BadNodeIdUnknown', 0x80340000, 'not-found'],
      ['BadNodeIdInvalid', 0x80330000, 'not-found'],
      ['BadCommunicationError', 0x80050000, 'comm-lost'],
      ['BadNotConnected', 0x808a0000, 'comm-lost'],
      ['BadServerNotConnected', 0x800d0000, 'comm-lost'],
      ['BadNoCommunication', 0x80310000, 'comm-lost'],
      ['BadTimeout', 0x800a0000, 'timeout'],
    ];
    for (const [name, value, reason] of cases) {
      expect(qualityOfStatus(s(name, value)), name).toEqual({ quality: 'bad', reason, detail: `${name} (${statusHex(value)})` });
    }
    expect(qualityOfStatus(s('BadSensorFailure', 0x808c0000)).detail).toBe('BadSensorFailure (0x808C0000)');
  });

  it('chooses the reason without the info bits, and keeps them in the detail', () => {
    expect(qualityOfStatus(s('BadTimeout#Overflow', 0x800a0480))).toEqual({ quality: 'bad', reason: 'timeout', detail: 'BadTimeout#Overflow (0x800A0480)' });
    expect(qualityOfStatus(s('BadNodeIdUnknown#LimitLow', 0x80340100)).reason).toBe('not-found');
  });

  it('reads the severity from the top two bits (11 is bad too)', () => {
    expect(severityOf(0x00000000)).toBe('good');
    expect(severityOf(0x3fffffff)).toBe('good');
    expect(severityOf(0x40000000)).toBe('uncertain');
    expect(severityOf(0x80000000)).toBe('bad');
    expect(severityOf(0xc0000000)).toBe('bad');
    expect(qualityOfStatus(s('', 0xc0010000))).toEqual({ quality: 'bad', reason: 'device-status', detail: 'status 0xC0010000' });
  });

  it('formats the code as eight upper-case hex digits and falls back to the number for unnamed codes', () => {
    expect(statusHex(0)).toBe('0x00000000');
    expect(statusHex(0x801f0000)).toBe('0x801F0000');
    expect(describeStatus(s('Unknown', 0x81230000))).toBe('status 0x81230000');
  });

  it('uses the numbers node-opcua uses for the codes it singles out', async () => {
    const { StatusCodes } = await import('node-opcua-client');
    const singled: Record<string, string> = {
      BadNodeIdUnknown: 'not-found',
      BadNodeIdInvalid: 'not-found',
      BadCommunicationError: 'comm-lost',
      BadNotConnected: 'comm-lost',
      BadServerNotConnected: 'comm-lost',
      BadNoCommunication: 'comm-lost',
      BadTimeout: 'timeout',
    };
    for (const [name, reason] of Object.entries(singled)) {
      const code = StatusCodes[name as keyof typeof StatusCodes] as { value: number; name: string };
      expect(qualityOfStatus({ value: code.value, name: code.name }).reason, name).toBe(reason);
    }
    const uncertain = StatusCodes.UncertainLastUsableValue;
    expect(qualityOfStatus({ value: uncertain.value, name: uncertain.name }).detail).toBe('UncertainLastUsableValue (0x40900000)');
  });
});
