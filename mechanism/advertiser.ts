/**
 * Advertisers (paper, Defs. 3.3 and 3.4) and what they get from an allocation and a payment.
 * itctr is the probability that the ad is exposed and clicked; payment is the expected payment.
 */
import type { Advertiser, UtilityMaximizer, ValueMaximizer } from './types.ts';

/** u_i = v_i * itctr_i - p_i for a utility maximizer; v_i * itctr_i for a value maximizer. */
export function objective(adv: Advertiser, itctr: number, payment: number): number {
  return adv.kind === 'utility' ? adv.value * itctr - payment : adv.value * itctr;
}

/** The ROI constraint of a value maximizer, v * itctr >= tau * p (always true for a UM). */
export function roiFeasible(adv: Advertiser, itctr: number, payment: number, tol = 1e-9): boolean {
  return adv.kind === 'utility' || adv.value * itctr + tol >= adv.targetRoi * payment;
}

/** Individual rationality: expected payment at most expected value (utility >= 0). */
export function individuallyRational(adv: Advertiser, itctr: number, payment: number, tol = 1e-9): boolean {
  return payment <= adv.value * itctr + tol;
}

/**
 * The bid the theory predicts to be optimal under first-price per click with the optimal allocation:
 * v / tau for a value maximizer (Thm. 4.5). A utility maximizer shades below v; v is the
 * truthful report used as the starting point of best-response search.
 */
export function truthfulBid(adv: Advertiser): number {
  return adv.kind === 'value' ? adv.value / adv.targetRoi : adv.value;
}

export function utilityMaximizer(adId: string, value: number): UtilityMaximizer {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`value per click must be finite and >= 0, got ${value}`);
  return { kind: 'utility', adId, value };
}

export function valueMaximizer(adId: string, value: number, targetRoi: number): ValueMaximizer {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`value per click must be finite and >= 0, got ${value}`);
  if (!(targetRoi > 0) || !Number.isFinite(targetRoi)) throw new RangeError(`target ROI must be finite and > 0, got ${targetRoi}`);
  return { kind: 'value', adId, value, targetRoi };
}
