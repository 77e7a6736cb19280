/**
 * R-134a saturation pressure, fitted as ln(p) = A − B/T through the tabulated points at 0 °C
 * (293 kPa) and 40 °C (1017 kPa); within ~1 % between −5 and 55 °C. Pressures are absolute kPa.
 */
const A = 15.427;
const B = 2662.5;

export function saturationPressureKpa(tempC: number): number {
  return Math.exp(A - B / (tempC + 273.15));
}

export function saturationTempC(pressureKpa: number): number {
  return B / (A - Math.log(pressureKpa)) - 273.15;
}
