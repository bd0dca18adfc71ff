import { describe, it, expect } from 'vitest';
import { loadCatalog } from '../mechanism/loaders.ts';
import { AD_ID_PATTERN } from '../mechanism/schemas.ts';
import { biddedAds, drawBids } from '../simulation/bids.ts';
import { INTERESTS } from '../simulation/world-vocabulary.ts';
import {
  EMBEDDED_CATALOG_PATH,
  categoriesForInterests,
  embeddedCatalog,
  embeddedWorld,
  findInterest,
  generateWorld,
  mentionsInterest,
} from '../simulation/world.ts';

describe('embedded catalog', () => {
  const catalog = loadCatalog(EMBEDDED_CATALOG_PATH);

  it('has 100 valid ads across at least 40 categories', () => {
    expect(catalog).toHaveLength(100);
    const categories = new Set(catalog.map((a) => a.category));
    expect(categories.size).toBeGreaterThanOrEqual(40);
    catalog.forEach((ad, k) => {
      expect(ad.id).toBe(`Ad-${String(k + 1).padStart(4, '0')}`);
      expect(ad.id).toMatch(AD_ID_PATTERN);
      expect(ad.category).toBeTruthy();
      expect(ad.description?.length ?? 0).toBeGreaterThan(10);
    });
  });

  it('has readable titles that survive the @Title@[Ad-ID] markup', () => {
    for (const ad of catalog) {
      expect(ad.title).not.toMatch(/[@[\]]/);
      expect(ad.title.length).toBeLessThanOrEqual(80);
      expect(ad.title).toBe(ad.title.trim());
      expect(ad.title).not.toMatch(/\s{2}/);
      expect(ad.title).not.toMatch(/\b(size|color)\s*:/i);
    }
    expect(new Set(catalog.map((a) => a.title)).size).toBe(100);
  });

  it('is tied to the interest vocabulary both ways', () => {
    const categories = new Set(catalog.map((a) => a.category!));
    const covered = new Set(INTERESTS.flatMap((i) => i.categories));
    expect([...categories].filter((c) => !covered.has(c))).toEqual([]);
    expect([...covered].filter((c) => !categories.has(c))).toEqual([]);
  });

  it('is what embeddedCatalog() returns', () => {
    expect(embeddedCatalog()).toEqual(catalog);
  });
});

describe('generateWorld', () => {
  const world = generateWorld({ seed: 0 });

  it('matches the paper: 3000 profiles, 15000 queries, 12000 train / 3000 test', () => {
    expect(world.catalog).toHaveLength(100);
    expect(world.profiles).toHaveLength(3000);
    expect(world.queries).toHaveLength(15000);
    expect(world.queries.filter((q) => q.split === 'train')).toHaveLength(12000);
    expect(world.queries.filter((q) => q.split === 'test')).toHaveLength(3000);
  });

  it('is identical for the same seed and different for another seed', () => {
    expect(generateWorld({ seed: 0 })).toEqual(world);
    const other = generateWorld({ seed: 1 });
    expect(other.profiles).not.toEqual(world.profiles);
    expect(other.queries.map((q) => q.text)).not.toEqual(world.queries.map((q) => q.text));
    expect(other.queries.map((q) => q.split)).not.toEqual(world.queries.map((q) => q.split));
  });

  it('has unique, well-formed ids and every query has its profile', () => {
    const profileIds = world.profiles.map((p) => p.id);
    expect(new Set(profileIds).size).toBe(profileIds.length);
    profileIds.forEach((id, k) => expect(id).toBe(`U-${String(k + 1).padStart(4, '0')}`));
    const queryIds = world.queries.map((q) => q.id);
    expect(new Set(queryIds).size).toBe(queryIds.length);
    queryIds.forEach((id, k) => expect(id).toBe(`Q-${String(k + 1).padStart(5, '0')}`));
    const known = new Set(profileIds);
    for (const q of world.queries) expect(known.has(q.profile_id)).toBe(true);
  });

  it('gives each profile basic information and 2-4 known interests', () => {
    for (const p of world.profiles) {
      expect(p.info).toMatch(/^A (woman|man|person) in (her|his|their) .+ who .+; .+; lives in .+\.$/);
      expect(p.interests.length).toBeGreaterThanOrEqual(2);
      expect(p.interests.length).toBeLessThanOrEqual(4);
      expect(new Set(p.interests).size).toBe(p.interests.length);
      for (const i of p.interests) expect(findInterest(i)).toBeDefined();
    }
    // The vocabulary is used broadly, not collapsed onto a few interests.
    const used = new Set(world.profiles.flatMap((p) => p.interests));
    expect(used.size).toBe(INTERESTS.length);
  });

  it('asks five distinct questions per profile', () => {
    const byProfile = new Map<string, string[]>();
    for (const q of world.queries) byProfile.set(q.profile_id, [...(byProfile.get(q.profile_id) ?? []), q.text]);
    for (const texts of byProfile.values()) {
      expect(texts).toHaveLength(5);
      expect(new Set(texts).size).toBe(5);
    }
  });

  it('writes plain, complete questions with every slot filled', () => {
    for (const q of world.queries) {
      expect(q.text).not.toMatch(/[{}]/);
      expect(q.text).toBe(q.text.trim());
      expect(q.text).toMatch(/^[A-Z]/);
      expect(q.text).toMatch(/[?.!"]$/);
      expect(q.text).not.toMatch(/\s{2}|\bundefined\b/);
    }
    // Varied: thousands of distinct texts, not a handful of templates.
    expect(new Set(world.queries.map((q) => q.text)).size).toBeGreaterThan(5000);
  });

  it("ties most queries to the asker's interests, and leaves some with nothing to sell", () => {
    const profiles = new Map(world.profiles.map((p) => [p.id, p]));
    let mentioning = 0;
    for (const q of world.queries) {
      const p = profiles.get(q.profile_id)!;
      const categories = [...categoriesForInterests(p.interests)].map((c) => c.toLowerCase());
      if (p.interests.some((i) => mentionsInterest(q.text, i)) || categories.some((c) => q.text.toLowerCase().includes(c))) mentioning++;
    }
    const share = mentioning / world.queries.length;
    expect(share).toBeGreaterThanOrEqual(0.7);
    // Questions such as "Why is the sky blue?" (where inserting no ad is right) are part of the mix.
    expect(share).toBeLessThan(0.95);
  });

  it('keeps profile k the same however many profiles are generated', () => {
    const small = generateWorld({ seed: 5, profiles: 10 });
    const large = generateWorld({ seed: 5, profiles: 40 });
    expect(large.profiles.slice(0, 10)).toEqual(small.profiles);
    const texts = (w: typeof small) => w.queries.filter((q) => Number(q.profile_id.slice(2)) <= 10).map((q) => [q.id, q.profile_id, q.text]);
    expect(texts(large)).toEqual(texts(small));
  });

  it('splits by query with an exact test count for any size', () => {
    const w = generateWorld({ seed: 2, profiles: 7, queriesPerProfile: 3, testShare: 0.25 });
    expect(w.queries).toHaveLength(21);
    expect(w.queries.filter((q) => q.split === 'test')).toHaveLength(5);
    expect(generateWorld({ seed: 2, profiles: 4, testShare: 0 }).queries.every((q) => q.split === 'train')).toBe(true);
    expect(() => generateWorld({ seed: 2, profiles: 4, testShare: 1.5 })).toThrow(RangeError);
  });

  it('memoizes embeddedWorld per seed', () => {
    const a = embeddedWorld(0);
    expect(embeddedWorld(0)).toBe(a);
    expect(a).toEqual(world);
    expect(embeddedWorld(1)).not.toBe(a);
  });
});

describe('bids', () => {
  const ids = embeddedCatalog().map((a) => a.id);

  it('draws integers 1..100, reproducibly', () => {
    const bids = drawBids(0, 'reward', 1, 'Q-00001', ids);
    expect([...bids.keys()]).toEqual(ids);
    for (const b of bids.values()) {
      expect(Number.isInteger(b)).toBe(true);
      expect(b).toBeGreaterThanOrEqual(1);
      expect(b).toBeLessThanOrEqual(100);
    }
    expect(drawBids(0, 'reward', 1, 'Q-00001', ids)).toEqual(bids);
  });

  it('redraws per epoch, per stage, per query and per seed', () => {
    const base = [...drawBids(0, 'reward', 1, 'Q-00001', ids).values()];
    expect([...drawBids(0, 'reward', 2, 'Q-00001', ids).values()]).not.toEqual(base);
    expect([...drawBids(0, 'llm', 1, 'Q-00001', ids).values()]).not.toEqual(base);
    expect([...drawBids(0, 'reward', 1, 'Q-00002', ids).values()]).not.toEqual(base);
    expect([...drawBids(1, 'reward', 1, 'Q-00001', ids).values()]).not.toEqual(base);
  });

  it("gives an ad the same bid whatever the other candidates are", () => {
    const all = drawBids(3, 'eval', 0, 'Q-00042', ids);
    const some = drawBids(3, 'eval', 0, 'Q-00042', [ids[40]!, ids[7]!]);
    expect(some.get(ids[7]!)).toBe(all.get(ids[7]!));
    expect(some.get(ids[40]!)).toBe(all.get(ids[40]!));
  });

  it('is close to uniform on 1..100', () => {
    const counts = new Array<number>(101).fill(0);
    let sum = 0;
    let n = 0;
    for (let q = 0; q < 200; q++) {
      for (const b of drawBids(11, 'eval', 0, `Q-${q}`, ids).values()) {
        counts[b]!++;
        sum += b;
        n++;
      }
    }
    expect(Math.abs(sum / n - 50.5)).toBeLessThan(1);
    expect(counts.slice(1).every((c) => c > 100)).toBe(true);
  });

  it('pairs ads with their bids for an auction', () => {
    const ads = embeddedCatalog().slice(0, 3);
    const bids = drawBids(0, 'eval', 0, 'Q-00009', ads.map((a) => a.id));
    expect(biddedAds(ads, bids)).toEqual(ads.map((a) => ({ id: a.id, title: a.title, bid: bids.get(a.id) })));
    expect(() => biddedAds(ads, new Map())).toThrow(/no bid/);
  });
});

