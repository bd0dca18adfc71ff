/**
 * Pieces of the one-line evidence that verify prints beside a verdict. Each property renders its
 * own counterexample (its `evidence`); these are the parts they share, so that every property
 * shows a curve the same way: itctr beside the exposure it comes from.
 */

/** A number rounded for reading, or '?' when the evidence does not hold one. */
export function num(x: unknown, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 10 ** digits) / 10 ** digits) : '?';
}

/** itctr as sampled evidence gives it (an arm summary with `itctr`) or as exact evidence does (a number). */
function itctrOf(x: unknown): string {
  if (typeof x === 'number') return num(x);
  if (x && typeof x === 'object' && 'itctr' in x) return num((x as { itctr: unknown }).itctr);
  return '?';
}

/** "itctr a -> b (exposure p -> q)": the allocation beside what it earns. */
export function curveStep(ev: Record<string, unknown>): string {
  const itctr = listOf(ev.itctr) ?? [];
  const exp = listOf(ev.exposure) ?? [];
  const e = exp.length === 2 ? ` (exposure ${num(exp[0])} -> ${num(exp[1])})` : '';
  return `itctr ${itctrOf(itctr[0])} -> ${itctrOf(itctr[1])}${e}`;
}

/** "Ad-0001: " when the evidence names its focal ad, else ''. */
export function focalPrefix(ev: Record<string, unknown>): string {
  return typeof ev.focal === 'string' ? `${ev.focal}: ` : '';
}

/** A field that should be a list, or undefined when it is not one. */
export function listOf(x: unknown): unknown[] | undefined {
  return Array.isArray(x) ? (x as unknown[]) : undefined;
}
