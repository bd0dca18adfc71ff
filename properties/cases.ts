/**
 * Cases and their generator.
 *
 * A case is one auction drawn from the mechanism's own instance generator, a focal ad (the one
 * whose bid the check moves) and a target ROI for value-maximizer checks. fast-check generates
 * the planned cases (a fixed number, so the alpha accounting is fixed up front) and, after a
 * failure, shrinks the failing case towards a smaller auction: fewer ads, round bids.
 */
import fc from 'fast-check';
import { Rng } from '../mechanism/rng.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import type { MechanismUnderTest } from './types.ts';

export interface Case {
  instance: AuctionInput;
  /** Index of the focal ad in instance.ads. */
  focal: number;
  /** Target ROI of the focal advertiser when it is a value maximizer (1, 1.25, …, 2). */
  tau: number;
}

const TAUS = [1, 1.25, 1.5, 1.75, 2];

function validate(input: AuctionInput, name: string): void {
  const n = input.ads.length;
  if (n < 1) throw new RangeError(`${name}: the instance generator returned an auction without ads`);
  for (const a of input.ads) {
    if (!(Number.isFinite(a.bid) && a.bid >= 0)) throw new RangeError(`${name}: instance bid ${a.bid} of ${a.id} is not a finite non-negative number`);
  }
}

/** A round bid near b (a multiple of 10, at least 1), used to shrink towards simpler numbers. */
function roundBid(b: number): number {
  return Math.max(1, Math.round(b / 10) * 10);
}

/** Smaller variants of a case, most drastic first: drop an ad, then round a bid. */
export function* shrinkCase(c: Case): Generator<Case> {
  const ads = c.instance.ads;
  if (ads.length > 2) {
    for (let k = ads.length - 1; k >= 0; k--) {
      if (k === c.focal) continue;
      yield {
        ...c,
        instance: { ...c.instance, ads: ads.filter((_, j) => j !== k) },
        focal: k < c.focal ? c.focal - 1 : c.focal,
      };
    }
  }
  for (let k = 0; k < ads.length; k++) {
    const b = ads[k]!.bid;
    const r = roundBid(b);
    if (r === b) continue;
    yield { ...c, instance: { ...c.instance, ads: ads.map((a, j) => (j === k ? { ...a, bid: r } : a)) } };
  }
  if (c.tau !== 1) yield { ...c, tau: 1 };
}

class CaseArbitrary extends fc.Arbitrary<Case> {
  constructor(private readonly m: MechanismUnderTest) {
    super();
  }

  generate(mrng: fc.Random): fc.Value<Case> {
    const instance = this.m.instances(new Rng(mrng.nextInt(0, 0x7fffffff)));
    validate(instance, this.m.name);
    const focal = mrng.nextInt(0, instance.ads.length - 1);
    const tau = TAUS[mrng.nextInt(0, TAUS.length - 1)]!;
    return new fc.Value({ instance, focal, tau }, undefined);
  }

  canShrinkWithoutContext(_value: unknown): _value is Case {
    return false;
  }

  shrink(value: Case): fc.Stream<fc.Value<Case>> {
    return fc.stream(shrinkCase(value)).map((c) => new fc.Value(c, undefined));
  }
}

export function caseArbitrary(m: MechanismUnderTest): fc.Arbitrary<Case> {
  return new CaseArbitrary(m);
}
