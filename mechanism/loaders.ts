/**
 * Loaders for the contract's input files (catalog, profiles, queries, auctions, the `--ads` file of
 * `parse`), each validated record by record by lib/jsonl.ts against the schemas in schemas.ts.
 */
import { InputError } from '../lib/errors.ts';
import { parseJsonArray, readJsonl, readText } from '../lib/jsonl.ts';
import { adRef, auctionLine, catalogLine, profileLine, queryLine } from './schemas.ts';
import type { Ad, AuctionInput, Profile, Query } from './types.ts';

export function loadCatalog(file: string): Ad[] {
  return readJsonl(file, catalogLine, { uniqueBy: 'id' }).map(({ value }) => {
    const ad: Ad = { id: value.id, title: value.title };
    if (value.description !== undefined) ad.description = value.description;
    if (value.category !== undefined) ad.category = value.category;
    return ad;
  });
}

export function loadProfiles(file: string): Profile[] {
  return readJsonl(file, profileLine, { uniqueBy: 'id' }).map(({ value }) => ({ id: value.id, info: value.info, interests: value.interests }));
}

/** Queries; when profiles are given, every `profile_id` must name one of them. */
export function loadQueries(file: string, profiles?: readonly Profile[]): Query[] {
  const known = profiles ? new Set(profiles.map((p) => p.id)) : undefined;
  return readJsonl(file, queryLine, { uniqueBy: 'id' }).map(({ value, line }) => {
    if (known && !known.has(value.profile_id)) {
      throw new InputError(file, line, 'profile_id', `no profile with id ${JSON.stringify(value.profile_id)}`);
    }
    return { id: value.id, profile_id: value.profile_id, text: value.text, split: value.split };
  });
}

/** Auctions, one per line; ad ids must not repeat within an auction. */
export function loadAuctions(file: string): (AuctionInput & { id?: string })[] {
  return readJsonl(file, auctionLine).map(({ value, line }) => {
    const ids = new Set<string>();
    value.ads.forEach((ad, k) => {
      if (ids.has(ad.id)) throw new InputError(file, line, `ads[${k}].id`, `duplicate ad id ${JSON.stringify(ad.id)}`);
      ids.add(ad.id);
    });
    const auction: AuctionInput & { id?: string } = {
      query: value.query,
      profile: { id: value.profile.id, info: value.profile.info, interests: value.profile.interests },
      ads: value.ads.map((a) => ({ id: a.id, title: a.title, bid: a.bid })),
    };
    if (value.id !== undefined) auction.id = value.id;
    return auction;
  });
}

/** The `--ads` file of `parse`: ids unique, each with a title. */
export function loadAdRefs(file: string): { id: string; title: string }[] {
  return parseJsonArray(readText(file), file, adRef, { uniqueBy: 'id' }).map((a) => ({ id: a.id, title: a.title }));
}
