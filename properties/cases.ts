/**
 * Cases and their generator.
 *
 * A case is one auction drawn from the mechanism's own instance generator, a focal ad (the one
 * whose bid the check moves) and a target ROI for value-maximizer checks. fast-check generates
 * the planned cases (a fixed number, so the alpha accounting is fixed up front) and, after a
 * failure, shrinks the failing case towards a smaller auction: fewer ads, round bids.
 */
import fc from 'fast-check';
import { estimateItctr } from '../mechanism/itctr.ts';
import { Rng } from '../lib/rng.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { CaseSampler } from './sampling.ts';
import type { MechanismUnderTest, Observable } from './types.ts';

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

/**
 * Strata of the focal ad: planned cases alternate between the auction's most and least clicked
 * ad (per exposure), so a violation that shows only on rarely clicked ads (or only on often
 * clicked ones) is looked for in half of the cases.
 */
export type Stratum = 'often-clicked' | 'rarely-clicked';

export function stratumOf(index: number): Stratum {
  return index % 2 === 0 ? 'often-clicked' : 'rarely-clicked';
}

/** Responses a sampled pilot draws to rank the ads of an auction by click rate. */
export const PILOT_RESPONSES = 16;

/**
 * Choose the case's focal ad for its stratum, from a pilot at the auction's own bids: the ad with
 * the highest (often-clicked) or lowest (rarely-clicked) clicks per exposure among the ads the
 * pilot showed. Exact when the rule enumerates; else PILOT_RESPONSES responses on their own seed,
 * never reused by the tests (so the tests stay valid). When the pilot shows no ad, the generated
 * focal ad is kept. Sets `c.focal` in place: fast-check shrinks the same object, so smaller
 * variants keep the chosen ad. Returns the responses the pilot drew (sampled) and the ad's rate.
 */
export async function stratifyFocal(
  m: MechanismUnderTest,
  c: Case,
  stratum: Stratum,
  exact: boolean,
  observable: Observable,
  seed: number,
  concurrency: number,
): Promise<{ samples: number; click_rate: number | null }> {
  const ads = c.instance.ads;
  if (ads.length < 2) return { samples: 0, click_rate: null };
  let rates: (number | null)[];
  let samples = 0;
  if (exact) {
    const est = await estimateItctr(m.rule, c.instance, m.clicks, { exact: true });
    rates = est.map((e) => (e.exposure > 0 ? e.itctr / e.exposure : null));
  } else {
    const sampler = new CaseSampler(m, c.instance, c.focal, seed, concurrency, observable);
    const arm = (await sampler.draw([ads[c.focal]!.bid], PILOT_RESPONSES)).get(ads[c.focal]!.bid)!;
    samples = sampler.samples;
    rates = ads.map((_, k) => {
      const e = arm.e[k]!.reduce((a, b) => a + b, 0);
      return e > 0 ? arm.x[k]!.reduce((a, b) => a + b, 0) / e : null;
    });
  }
  let best = -1;
  rates.forEach((r, k) => {
    if (r === null) return;
    if (best < 0 || (stratum === 'often-clicked' ? r > rates[best]! : r < rates[best]!)) best = k;
  });
  if (best >= 0) c.focal = best;
  return { samples, click_rate: best >= 0 ? rates[best]! : null };
}
