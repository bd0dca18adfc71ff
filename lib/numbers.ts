/** Number helpers shared by every layer: the one rounding rule and the one token estimate. */

/** `x` rounded to `digits` decimals (half away from zero on the scaled value); non-finite values pass through. */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Rough token count of a text: about four characters per token in English. */
export function approxTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}
