/**
 * Bids for the simulated auctions (candidate sets are chosen in auctions.ts).
 *
 * Bids (paper, section 5.2.3): every candidate ad of a query gets a bid drawn uniformly from the
 * integers 1..100, drawn afresh for each training epoch and for each stage (reward-model update,
 * LLM update, evaluation), so the Ad-LLM cannot memorise a fixed bid profile. Each bid comes from
 * its own seeded stream keyed by (stage, epoch, query, ad): it does not depend on which other ads
 * are candidates or in what order they are listed, and any single bid can be recomputed alone.
 */
import { Rng } from '../lib/rng.ts';
import type { Ad, BiddedAd } from '../mechanism/types.ts';

export const BID_MIN = 1;
export const BID_MAX = 100;

/** One bid, uniform on the integers 1..100. */
export function drawBid(seed: number, stage: string, epoch: number, queryId: string, adId: string): number {
  return Rng.derive(seed, 'bid', stage, epoch, queryId, adId).int(BID_MIN, BID_MAX);
}

/** The bids of the given ads for one query at one (stage, epoch), keyed by ad id. */
export function drawBids(seed: number, stage: string, epoch: number, queryId: string, adIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of adIds) out.set(id, drawBid(seed, stage, epoch, queryId, id));
  return out;
}

/** Candidate ads with their bids, in the order given: the `ads` of an auction input. */
export function biddedAds(ads: readonly Ad[], bids: ReadonlyMap<string, number>): BiddedAd[] {
  return ads.map((a) => {
    const bid = bids.get(a.id);
    if (bid === undefined) throw new Error(`no bid drawn for ${a.id}`);
    return { id: a.id, title: a.title, bid };
  });
}
