import { describe, expect, it } from 'vitest';
import { buildDailyReport, renderReportMarkdown } from '../../../agent/report/index.js';
import { HOUR, event, hour, smallFixture } from './fixtures.js';

const EXPECTED = `# Daily operations report: DC1 plant gateway (gw-dc1), 2026-06-10

Window: 2026-06-10 00:00 (UTC+02:00) to 2026-06-11 00:00 (UTC+02:00), Europe/Berlin, 24 h. Generated 2026-06-11 00:05.
Data: 24 of 24 hours have data from at least one device (per device below).

## Needs attention

1. alarm cooling-tower-1.comm.Q (critical, cooling-tower-1 comm) is still active after 1 h 30 min (since 2026-06-10 22:30): cooling-tower-1 unreachable
2. alarm chiller-1.chw_supply_temp.H (high, chiller-1 chw_supply_temp) was active 6 h 12 min (2026-06-09 22:00 to 2026-06-10 04:12): Chilled water supply 8.4 °C above 8 °C
3. no data from cooling-tower-1 for 24 of 24 hours (the whole window)
4. no data from ups-1 for 5 of 24 hours (13:00–18:00)
5. chiller-1 kw_per_ton rose 17 % over the day (hourly average 0.600 kW/ton → 0.700 kW/ton)
6. ups-1 battery_health_pct fell 3 points over the day (hourly average 97.00 % → 94.00 %)
7. ups-1 output_kwh went backwards 1 time (counted as a reset to 0): check the meter or its configuration
8. PUE from energy was 1.78, 19 % higher than the previous 24 h (1.50)

## Alarms

- Raised: 2 (critical 1, high 0, medium 1, low 0)
- Cleared: 2 (critical 0, high 1, medium 1, low 0)
- Still active at the end of the window: 1

### Still active at the end of the window

| alarm | priority | device | tag | state | since | active for | value | message |
|---|---|---|---|---|---|---|---|---|
| cooling-tower-1.comm.Q | critical | cooling-tower-1 | comm | active-unack | 2026-06-10 22:30 | 1 h 30 min | — | cooling-tower-1 unreachable |

### Longest active

| alarm | priority | device | tag | from | to | active for | of it in this window |
|---|---|---|---|---|---|---|---|
| chiller-1.chw_supply_temp.H | high | chiller-1 | chw_supply_temp | 2026-06-09 22:00 | 2026-06-10 04:12 | 6 h 12 min | 4 h 12 min |
| cooling-tower-1.comm.Q | critical | cooling-tower-1 | comm | 2026-06-10 22:30 | still active | 1 h 30 min | 1 h 30 min |
| ups-1.load_pct.H | medium | ups-1 | load_pct | 2026-06-10 09:00 | 2026-06-10 09:20 | 20 min | 20 min |

### Raised in the window

| raised | alarm | priority | value | cleared | message |
|---|---|---|---|---|---|
| 2026-06-10 09:00 | ups-1.load_pct.H | medium | 82.00 % | 2026-06-10 09:20 | UPS load 82 % above 80 % |
| 2026-06-10 22:30 | cooling-tower-1.comm.Q | critical | — | not in window | cooling-tower-1 unreachable |

## Equipment health and KPIs

| device | tag | unit | first | last | min | max | average | change over the day | average vs previous 24 h | hours with data |
|---|---|---|---|---|---|---|---|---|---|---|
| chiller-1 | kw_per_ton | kW/ton | 0.600 | 0.700 | 0.600 | 0.700 | 0.650 | +0.100 kW/ton (+16.67 %) | +0.050 kW/ton (+8.33 %) | 24 of 24 |
| ups-1 | battery_health_pct | % | 97.00 | 94.00 | 94.00 | 97.00 | 95.62 | -3.00 points | -1.38 points | 19 of 24 |

Change over the day: average of the last hour with data minus that of the first.

## Energy per device

| device | tag | energy (kWh) | counter at start (kWh) | counter at end (kWh) | notes |
|---|---|---|---|---|---|
| chiller-1 | energy_kwh | 2400 | 3350 | 5750 | — |
| facility | incomer_kwh | 3355 | 22820 | 26175 | — |
| ups-1 | output_kwh | 1880 | 6880 | 280.0 | counter went backwards 1 time: counted as a reset to 0; no readings for 5 of 24 hours: the counter spans the gap |

## Facility KPIs

| KPI | value |
|---|---|
| IT energy | 1880 kWh |
| facility energy | 3355 kWh |
| PUE from energy (facility kWh ÷ IT kWh) | 1.78 |
| PUE from energy, previous 24 h | 1.50 |
| live PUE: average (min to max) | 1.60 (1.60 to 1.60) |

## Data coverage

| device | hours with data | missing (local time) |
|---|---|---|
| chiller-1 | 24 of 24 | — |
| cooling-tower-1 | 0 of 24 | the whole window |
| facility | 24 of 24 | — |
| ups-1 | 19 of 24 | 13:00–18:00 |
`;

describe('renderReportMarkdown', () => {
  it('renders the small fixture exactly: attention first, tables, units, local times', () => {
    expect(renderReportMarkdown(buildDailyReport(smallFixture()))).toBe(EXPECTED);
  });

  it('is deterministic whatever the order of the input', () => {
    const input = smallFixture();
    const shuffled = { ...input, stats: [...input.stats].reverse(), alarmEvents: [...input.alarmEvents].reverse(), healthTags: [...input.healthTags].reverse(), devices: [...input.devices].reverse() };
    expect(renderReportMarkdown(buildDailyReport(shuffled))).toBe(EXPECTED);
  });

  it('says so when nothing needs attention, and escapes pipes in messages', () => {
    const from = Date.UTC(2026, 0, 5, 6);
    const stats = Array.from({ length: 24 }, (_, i) => hour('pdu-1', 'load_kw', 'kW', from + i * HOUR, [40]));
    const md = renderReportMarkdown(
      buildDailyReport({
        gateway: { id: 'gw' },
        window: { fromMs: from, toMs: from + 24 * HOUR, date: '2026-01-05', timeZone: 'UTC' },
        generatedMs: from + 24 * HOUR,
        devices: ['pdu-1'],
        stats,
        alarmEvents: [event(from + HOUR, 'pdu-1.load_kw.H', 'raised', 'active-unack', 'low', { message: 'a | b' }), event(from + HOUR + 30 * 60_000, 'pdu-1.load_kw.H', 'returned', 'returned-unack', 'low')],
        alarmsBefore: [],
        healthTags: [],
      }),
    );
    expect(md).toContain('# Daily operations report: gw, 2026-01-05\n');
    expect(md).toContain('## Needs attention\n\nNothing crossed a threshold (thresholds: docs/reports.md).\n');
    expect(md).toContain('| 2026-01-05 07:00 | pdu-1.load_kw.H | low | 1.00 | 2026-01-05 07:30 | a \\| b |');
    expect(md).not.toContain('## Facility KPIs');
  });
});
