/**
 * The Wilson score interval of a pass rate (95% by default): unlike the normal approximation
 * it stays inside [0, 1] and means something for 0 of 3 or 3 of 3, which is where small
 * groups of an evaluation live.
 */
export function wilson(passed: number, total: number, z = 1.959964): { rate: number; low: number; high: number } | null {
  if (total <= 0) return null;
  const p = passed / total;
  const z2 = z * z;
  const denom = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denom;
  // At 0 or all passed the bound is exactly 0 or 1 (the sum rounds a hair short).
  return { rate: p, low: passed === 0 ? 0 : Math.max(0, centre - half), high: passed === total ? 1 : Math.min(1, centre + half) };
}
