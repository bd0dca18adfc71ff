/**
 * Table 2 without the episodes in memory (issue #25): handing each query's episodes to onEpisodes
 * gives the same rows and the same episodes, in the same order, as keeping them; and the bounded
 * memo the exact rows share (lib/generations.ts) keeps the entries used last, as the lexical
 * encoder's vectors do (bounded, where they grew to 200,000).
 */
import { describe, expect, it } from 'vitest';
import { Generations } from '../lib/generations.ts';
import { LexicalEncoder } from '../simulation/text-encoder.ts';
import { TextFeatures } from '../training/pctr-features.ts';
import type { Episode } from '../simulation/episode.ts';
import { benchMechanisms } from '../evaluation/table2.ts';

describe('bench memory', () => {
  it('streams episodes to onEpisodes with the same rows and episodes as keeping them', async () => {
    const opts = { mechanism: 'embedded:pretrained,embedded:ceiling,mosaic:embedded:pretrained?n=3&rm=oracle', queries: 'test', limit: 6, user: 'embedded:parametric', candidates: 10, worldSeed: 0, seed: 1 };
    const kept = await benchMechanisms(opts);
    const streamed = new Map<string, Episode[]>();
    const calls: number[] = [];
    const s = await benchMechanisms({
      ...opts,
      onEpisodes: (m, spec, eps) => {
        calls.push(m);
        streamed.set(spec, [...(streamed.get(spec) ?? []), ...eps]);
      },
    });
    expect(s.rows).toEqual(kept.rows);
    expect([...s.episodes.values()].every((e) => e.length === 0)).toBe(true); // nothing kept
    expect(calls).toHaveLength(6 * 3); // one call per query and row
    for (const [spec, eps] of kept.episodes) {
      expect(eps).toHaveLength(6);
      expect(streamed.get(spec)).toEqual(eps);
    }
  }, 300_000);

  it('Generations keeps at most 2 x cap entries and the ones used last', () => {
    const g = new Generations<number, number>(3);
    for (let k = 0; k < 10; k++) {
      g.set(k, k * k);
      g.get(0); // used every time: never dropped
      expect(g.size).toBeLessThanOrEqual(6);
    }
    expect(g.get(0)).toBe(0);
    expect(g.get(9)).toBe(81);
    expect(g.get(1)).toBeUndefined(); // an old entry not used again is gone
  });

  it('the lexical encoder keeps at most 2 x its cap of vectors, and a dropped text encodes the same again', () => {
    const enc = new LexicalEncoder(64, 0.25, 3);
    const fresh = new LexicalEncoder(64, 0.25, 3);
    const texts = Array.from({ length: 20 }, (_, k) => `a yoga mat number ${k} for travel`);
    const first = texts.map((t) => enc.encodeOne(t));
    const size = (e: LexicalEncoder) => (e as unknown as { cache: { size: number } }).cache.size;
    expect(size(enc)).toBeLessThanOrEqual(6);
    // The default: a few thousand vectors, where the earlier version let 200,000 pile up (4 KB each).
    const byDefault = new LexicalEncoder();
    for (let k = 0; k < 10_000; k++) byDefault.encodeOne(`query ${k}`);
    expect(size(byDefault)).toBeLessThanOrEqual(8192);
    expect(enc.encodeOne(texts[0]!)).toEqual(first[0]); // dropped, computed again: the same vector
    expect(enc.encodeOne(texts[0]!)).toBe(enc.encodeOne(texts[0]!)); // kept now: the same object
    expect(first[7]).toEqual(fresh.encodeOne(texts[7]!));
  });

  it("a fitted pCTR model's text-feature cache, capped, stays small over many scoring calls", () => {
    const call = (f: TextFeatures, k: number) => {
      const ex = Array.from({ length: 5 }, (_, j) => ({ query: `query ${k}`, response: `response ${k}.${j} with an ad`, userId: 'U-1', adId: 'A-1' }));
      f.ensure(ex);
      return ex.map((e) => f.get(e.response));
    };
    const size = (f: TextFeatures) => (f as unknown as { cache: { size: number } }).cache.size;
    const capped = new TextFeatures(new LexicalEncoder(64), { seed: 1, textDim: 8, cacheMB: 256 });
    const open = new TextFeatures(new LexicalEncoder(64), { seed: 1, textDim: 8, cacheMB: 256 });
    capped.capCache(0.01); // 0.01 MB / (4 x 8 + 64 bytes) = 109 texts
    for (let k = 0; k < 200; k++) expect(call(capped, k)).toEqual(call(open, k)); // the same features
    expect(size(capped)).toBeLessThanOrEqual(109);
    expect(size(open)).toBe(200 * 6); // the control: uncapped, every text of every call is kept
  });
});
