/**
 * `report:` → the daily operations report's resolved settings: the time zone checked (default:
 * the edge box's own), the folder resolved against the config file, and every "device.tag" the
 * report reads checked against the devices (calculated ones included). Defaults follow the
 * calculated devices: their outputs are the health trends, the first facility calculation's
 * energy counters give the day's PUE.
 */
import type { TagRef } from '../agent/core/calculation.js';
import { assertTimeZone } from '../agent/core/zoned-time.js';
import type { DeviceSpec } from '../agent/core/device.js';
import type { ConfigIssue } from './issues.js';
import type { Config } from './schema.js';

export interface ResolvedReportConfig {
  enabled: boolean;
  time: string;
  timeZone: string;
  dir: string;
  keepDays: number;
  maxCatchUpDays: number;
  retentionDays: number;
  healthTags: TagRef[];
  facility?: { itEnergy: TagRef[]; facilityEnergy: TagRef[]; pue?: TagRef };
}

export function resolveReport(r: Config['report'], devices: readonly DeviceSpec[], dir: string, issues: ConfigIssue[]): ResolvedReportConfig {
  const timeZone = r.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    assertTimeZone(timeZone);
  } catch {
    issues.push({ path: 'report.timeZone', message: `unknown time zone "${timeZone}" (expected an IANA name such as Europe/Berlin, America/New_York or UTC)` });
  }
  const ref = (text: string, at: string): TagRef | undefined => {
    const [device, tag] = text.split('.') as [string, string];
    const spec = devices.find((d) => d.id === device);
    if (!spec) issues.push({ path: at, message: `no device "${device}"` });
    else if (!spec.tags.some((t) => t.name === tag)) issues.push({ path: at, message: `device ${device} has no tag "${tag}"` });
    else return { device, tag };
    return undefined;
  };
  const refs = (list: readonly string[], at: string): TagRef[] => list.flatMap((text, i) => ref(text, `${at}[${i}]`) ?? []);

  const calculated = devices.filter((d) => d.connection.protocol === 'calc');
  const healthTags = r.healthTags
    ? refs(r.healthTags, 'report.healthTags')
    : calculated.flatMap((d) => d.tags.filter((t) => t.unit !== 'kWh').map((t) => ({ device: d.id, tag: t.name })));
  let facility: ResolvedReportConfig['facility'];
  if (r.facility) {
    const pue = r.facility.pue === undefined ? undefined : ref(r.facility.pue, 'report.facility.pue');
    facility = { itEnergy: refs(r.facility.itEnergy, 'report.facility.itEnergy'), facilityEnergy: refs(r.facility.facilityEnergy, 'report.facility.facilityEnergy'), ...(pue ? { pue } : {}) };
  } else {
    const site = calculated.find((d) => d.connection.protocol === 'calc' && d.connection.calculation.model === 'facility');
    if (site) facility = { itEnergy: [{ device: site.id, tag: 'it_energy_kwh' }], facilityEnergy: [{ device: site.id, tag: 'facility_energy_kwh' }], pue: { device: site.id, tag: 'pue' } };
  }
  return {
    enabled: r.enabled,
    time: r.time,
    timeZone,
    dir,
    keepDays: r.keepDays,
    maxCatchUpDays: r.maxCatchUpDays,
    retentionDays: r.retentionDays,
    healthTags,
    ...(facility ? { facility } : {}),
  };
}
