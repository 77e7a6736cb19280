/** Outdoor conditions: a daily cycle (coolest ~03:00, warmest ~15:00) with slow weather noise. */
import { smoothNoise } from './noise.js';

export interface Weather {
  wetBulbC: number;
  dryBulbC: number;
}

export function weatherAt(seed: number, timeMs: number): Weather {
  const hour = ((timeMs / 3_600_000) % 24 + 24) % 24;
  const tS = timeMs / 1000;
  const daily = Math.sin((2 * Math.PI * (hour - 9)) / 24); // -1 at 03:00, +1 at 15:00
  const wetBulbC = 21 + 2.6 * daily + 0.35 * smoothNoise(seed, 41, tS, 1800);
  const dryBulbC = 27 + 5 * daily + 0.6 * smoothNoise(seed, 42, tS, 1800);
  return { wetBulbC, dryBulbC: Math.max(dryBulbC, wetBulbC + 0.5) };
}
