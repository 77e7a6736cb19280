/**
 * The plant's units as OPC UA EngineeringUnits: EUInformation with UNECE Recommendation 20 common
 * codes (OPC 10000-8 §5.6.3), as node-opcua's `makeEUInformation` encodes them.
 */
import { makeEUInformation, standardUnits } from 'node-opcua-data-access';
import { EUInformation } from 'node-opcua-types';

const UNECE = {
  '°C': standardUnits.degree_celsius,
  K: standardUnits.kelvin,
  kPa: standardUnits.kilopascal,
  kW: standardUnits.kilowatt,
  A: standardUnits.ampere,
  '%': standardUnits.percent,
  V: standardUnits.volt,
  Hz: standardUnits.hertz,
  min: standardUnits.minute,
  h: makeEUInformation('HUR', 'h', 'hour'),
  'mm/s': makeEUInformation('C16', 'mm/s', 'millimetre per second'),
  L: makeEUInformation('LTR', 'l', 'litre'),
  kVA: makeEUInformation('KVA', 'kVA', 'kilovolt - ampere'),
  Wh: makeEUInformation('WHR', 'W·h', 'watt hour'),
  kWh: makeEUInformation('KWH', 'kW·h', 'kilowatt hour'),
  '': makeEUInformation('C62', '1', 'one (dimensionless)'),
} satisfies Record<string, EUInformation>;

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'kW/TR': 'kilowatt of input power per ton of refrigeration (3.517 kW of cooling)',
};

/**
 * EngineeringUnits of a unit as written in the vendor map. A unit UNECE has no code for (kW/TR)
 * gets unitId -1 ("no unit id available", OPC 10000-8) in the simulator's own namespace.
 */
export function engineeringUnitsOf(unit: string, namespaceUri: string): EUInformation {
  const known = (UNECE as Record<string, EUInformation>)[unit];
  if (known) return new EUInformation(known); // a copy per variable: node-opcua keeps the object as the value
  return new EUInformation({ namespaceUri, unitId: -1, displayName: { text: unit }, description: { text: DESCRIPTIONS[unit] ?? unit } });
}
