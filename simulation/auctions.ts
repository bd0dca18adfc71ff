/**
 * From a query to an auction: which candidate ads it gets and what they bid.
 *
 * Candidates: the paper hands the Ad-LLM its whole 100-ad list. The embedded world hands it k
 * (default 10): the ceil(k/2) ads that best match the question and the user's interests (title,
 * category and description, by the lexical encoder) and the rest drawn at random, so every auction
 * has plausible and implausible ads. The choice depends on the query alone, not on the run's seed.
 * Bids: uniform integers 1..100 per (query, ad), drawn afresh for every stage and epoch of a run
 * from its seed (paper, section 5.2.3).
 */
import { deriveSeed, Rng } from '../lib/rng.ts';
import type { Ad, AuctionInput, BiddedAd, Profile, Query } from '../mechanism/types.ts';
import { drawBid } from './bids.ts';
import { cosine, lexicalEncoder } from './text-encoder.ts';

export interface AuctionOptions {
  seed: number;
  /** Names the phase of a run whose bids are independent of the others ('simulate', 'rm', 'dpo', …). */
  stage: string;
  epoch: number;
  /** Candidates per auction; 0 means the whole catalog. */
  candidates: number;
}

const adVectors = new WeakMap<Ad, Float32Array>();

function adVector(ad: Ad): Float32Array {
  let v = adVectors.get(ad);
  if (!v) {
    v = lexicalEncoder().encodeOne(`${ad.title} ${ad.category ?? ''} ${ad.category ?? ''} ${ad.description ?? ''}`);
    adVectors.set(ad, v);
  }
  return v;
}

/** The candidate ads of a query (without bids), in catalog order. */
export function candidateAds(query: Query, profile: Profile, catalog: readonly Ad[], k: number): Ad[] {
  if (k <= 0 || k >= catalog.length) return catalog.slice();
  const enc = lexicalEncoder();
  const q = enc.encodeOne(query.text);
  const p = enc.encodeOne(profile.interests.join(' '));
  const scored = catalog.map((ad, j) => ({ j, s: 0.7 * cosine(adVector(ad), q) + 0.3 * cosine(adVector(ad), p) }));
  scored.sort((a, b) => b.s - a.s || a.j - b.j);
  const matched = Math.ceil(k / 2);
  const chosen = new Set(scored.slice(0, matched).map((x) => x.j));
  const rest = Rng.derive(deriveSeed(0, 'candidates'), query.id).shuffle(scored.slice(matched).map((x) => x.j));
  for (const j of rest) {
    if (chosen.size >= k) break;
    chosen.add(j);
  }
  return [...chosen].sort((a, b) => a - b).map((j) => catalog[j]!);
}

export function auctionInput(query: Query, profile: Profile, catalog: readonly Ad[], opts: AuctionOptions): AuctionInput {
  const ads: BiddedAd[] = candidateAds(query, profile, catalog, opts.candidates).map((ad) => ({
    id: ad.id,
    title: ad.title,
    bid: drawBid(opts.seed, opts.stage, opts.epoch, query.id, ad.id),
  }));
  return { query: query.text, profile, ads };
}
