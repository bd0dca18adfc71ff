/**
 * Text encoders that are not synchronous, end to end: the simulated user and the pCTR model both
 * read text through a `TextEncoder`, and the ONNX one computes vectors asynchronously.
 *
 * The first part needs no model: stand-in encoders with the ONNX encoder's contract (encodeSync
 * serves only what `encode` has already embedded) or with no encodeSync at all must give the user
 * and the pCTR model the same answers as the lexical encoder they wrap.
 *
 * The second part needs all-MiniLM-L6-v2 in .cache/models (`bash scripts/fetch-models.sh`) and is
 * skipped with a warning without it: a world whose user reads relevance semantically (the ONNX
 * encoder), the pretrained embedded Ad-LLM answering embedded test queries, and two pCTR models,
 * one fed lexical features and one fed ONNX features, compared on held-out queries.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse } from '../mechanism/parser.ts';
import { deriveSeed } from '../lib/rng.ts';
import type { ClickModel } from '../mechanism/click-model.ts';
import type { Query } from '../mechanism/types.ts';
import { manifest, modelCacheDir } from '../models/registry.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { runAuction, type Episode } from '../simulation/episode.ts';
import { OnnxEncoder } from '../simulation/onnx-encoder.ts';
import { lexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { PctrModel } from '../training/pctr.ts';
import { examplesFromEpisodes, type PctrExample } from '../training/pctr-features.ts';

const M = manifest().models;
const ENCODER_DIR = path.join(modelCacheDir(), M['all-minilm-l6-v2'].dir);
const HAVE_ENCODER = existsSync(path.join(ENCODER_DIR, 'model.onnx')) && existsSync(path.join(ENCODER_DIR, 'tokenizer.json'));
if (!HAVE_ENCODER) {
  console.warn(`encoder-pctr.test.ts: ${ENCODER_DIR}/model.onnx is missing; the semantic-user pCTR test is skipped (get it with: bash scripts/fetch-models.sh encoder)`);
}

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const queryById = new Map(world.queries.map((q) => [q.id, q]));
const policy = new EmbeddedPolicy();

/** The lexical encoder behind the ONNX encoder's contract: encodeSync throws for texts `encode` has not seen. */
class PartialSyncEncoder implements TextEncoder {
  readonly name = 'partial-sync-lexical';
  readonly dim = lexicalEncoder().dim;
  asyncCalls = 0;
  private readonly ready = new Set<string>();

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    this.asyncCalls++;
    await Promise.resolve(); // really asynchronous, like onnxruntime
    for (const t of texts) this.ready.add(t);
    return lexicalEncoder().encodeSync(texts);
  }

  encodeSync(texts: readonly string[]): Float32Array[] {
    const missing = texts.find((t) => !this.ready.has(t));
    if (missing !== undefined) throw new Error(`not embedded yet: ${missing}`);
    return lexicalEncoder().encodeSync(texts);
  }
}

/** No encodeSync at all. */
const asyncOnly = (): TextEncoder => ({ name: 'async-only-lexical', dim: lexicalEncoder().dim, encode: (texts) => lexicalEncoder().encode(texts) });

const inputOf = (q: Query) => auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'simulate', epoch: 0, candidates: 10 });

async function play(queries: readonly Query[], user: ClickModel, samples: number): Promise<Episode[]> {
  const rule = policy.rule();
  const out: Episode[] = [];
  for (const q of queries) out.push(...(await runAuction({ queryId: q.id, input: inputOf(q), rule, clicks: user, seed: 0, samples })));
  return out;
}

const examplesOf = (episodes: readonly Episode[]): PctrExample[] =>
  examplesFromEpisodes(
    episodes,
    (id) => queryById.get(id)!.profile_id,
    (id) => queryById.get(id)!.text,
  );

/**
 * AUC against click probabilities rather than drawn clicks: each exposure is a positive with weight
 * p and a negative with weight 1 - p (ties count one half). The simulated user's p is known, and
 * this takes the noise of the held-out coin flips out of a comparison of two models.
 */
function softAuc(scores: ArrayLike<number>, p: readonly number[]): number {
  const order = Array.from({ length: scores.length }, (_, k) => k).sort((a, b) => scores[a]! - scores[b]!);
  let negBelow = 0;
  let pos = 0;
  let pairs = 0;
  for (let k = 0; k < order.length; ) {
    let j = k;
    let tiePos = 0;
    let tieNeg = 0;
    for (; j < order.length && scores[order[j]!] === scores[order[k]!]; j++) {
      tiePos += p[order[j]!]!;
      tieNeg += 1 - p[order[j]!]!;
    }
    pairs += tiePos * (negBelow + tieNeg / 2);
    negBelow += tieNeg;
    pos += tiePos;
    k = j;
  }
  return pairs / (pos * negBelow);
}

describe('encoders without a complete encodeSync (no model needed)', () => {
  const queries = world.queries.filter((q) => q.split === 'test').slice(0, 40);

  it('the parametric user clicks exactly as with the lexical encoder it wraps', async () => {
    const reference = await play(queries, new ParametricUser(), 4);
    const partial = new PartialSyncEncoder();
    // A partial encoder falls back to encode for what it lacks; an async-only one always uses it.
    expect(await play(queries, new ParametricUser({}, partial), 4)).toEqual(reference);
    expect(partial.asyncCalls).toBeGreaterThan(0);
    expect(await play(queries, new ParametricUser({}, asyncOnly()), 4)).toEqual(reference);
    expect(reference.some((e) => e.clicks.length > 0)).toBe(true);
  });

  it('the pCTR model needs prepare first, then predicts as with the lexical encoder', async () => {
    const examples = examplesOf(await play(queries.slice(0, 10), new ParametricUser(), 4));
    const cfg = { seed: 3, epochs: 2, hidden: [16, 8], textDim: 32 };
    const partial = PctrModel.create(cfg, new PartialSyncEncoder());
    expect(() => partial.fit(examples)).toThrow(/await model\.prepare\(examples\)/);
    expect(() => partial.predict(examples)).toThrow(/await model\.prepare\(examples\)/);
    await partial.prepare(examples);
    const lexical = PctrModel.create(cfg, lexicalEncoder());
    expect(partial.fit(examples).losses).toEqual(lexical.fit(examples).losses);
    expect(partial.predict(examples)).toEqual(lexical.predict(examples));
    expect(partial.evaluate(examples)).toEqual(lexical.evaluate(examples));
  });
});

describe.skipIf(!HAVE_ENCODER)('a user who reads relevance semantically (ONNX all-MiniLM-L6-v2)', () => {
  // 600 test queries x 6 samples: about 4,700 labelled exposures. Each distinct text is run through
  // the model once (about 2,600 responses and the user's texts: about a minute on 2 cores), then
  // comes from the on-disk cache (.cache/embeddings): ~75 s for this file the first time, ~12 s after.
  const QUERIES = 600;
  const SAMPLES = 6;
  const queries = world.queries.filter((q) => q.split === 'test').slice(0, QUERIES);
  // Split by query with a seeded hash, ~30% held out: a held-out query was never seen in training.
  const heldOut = new Set(queries.filter((q) => deriveSeed(0, 'encoder-pctr/split', q.id) % 10 < 3).map((q) => q.id));
  let onnx: OnnxEncoder;
  let episodes: Episode[];
  let train: PctrExample[];
  let test: PctrExample[];

  beforeAll(async () => {
    onnx = await OnnxEncoder.create('all-minilm-l6-v2');
    // Everything the user will read, in one call, so the model runs on full batches of similar
    // lengths instead of a few texts per episode.
    const inputs = queries.map(inputOf);
    await onnx.encode([...new Set(inputs.flatMap((i) => [i.query, ...i.profile.interests, ...i.ads.map((a) => a.title)]))]);
    episodes = await play(queries, new ParametricUser({}, onnx), SAMPLES);
    // Same for the pCTR model's texts: queries are already in, responses are the bulk.
    await onnx.encode([...new Set(episodes.filter((e) => e.exposures.length > 0).map((e) => e.response))]);
    train = examplesOf(episodes.filter((e) => !heldOut.has(e.query_id)));
    test = examplesOf(episodes.filter((e) => heldOut.has(e.query_id)));
  }, 300_000);
  afterAll(async () => {
    await onnx?.close();
  });

  it('works on texts the encoder has never embedded (no cache, nothing encoded before)', async () => {
    const fresh = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: null });
    try {
      const ep = episodes.find((e) => e.exposures.length >= 2)!;
      const input = inputOf(queryById.get(ep.query_id)!);
      const ctx = { input, response: ep.response, parsed: parseResponse(ep.response, input.ads) };
      const got = await new ParametricUser({}, fresh).clickProbabilities(ctx);
      expect(fresh.stats().computed).toBeGreaterThan(0);
      // Same vectors up to float rounding of another batch's padding.
      for (const [id, p] of Object.entries(ep.ctr)) expect(got[id]).toBeCloseTo(p, 5);
    } finally {
      await fresh.close();
    }
  });

  it('its clicks teach a pCTR model fed ONNX features better than one fed lexical features', async () => {
    const positives = (xs: PctrExample[]) => xs.filter((e) => e.click === 1).length;
    expect(train.length).toBeGreaterThan(2500);
    expect(positives(test)).toBeGreaterThan(100);
    const trueP = new Map<string, number>();
    for (const e of episodes) for (const [id, p] of Object.entries(e.ctr)) trueP.set(`${queryById.get(e.query_id)!.text}\u0001${e.response}\u0001${id}`, p);
    const truth = test.map((e) => trueP.get(`${e.query}\u0001${e.response}\u0001${e.adId}`)!);
    expect(truth.every((p) => p !== undefined)).toBe(true);
    // Same config and seed; textDim null feeds each encoder's vectors as they are (384 dims are
    // already small, and a projection would blur the comparison of the encoders).
    const cfg = { seed: 0, epochs: 6, textDim: null };
    const auc: Record<string, number> = {};
    const soft: Record<string, number> = {};
    for (const encoder of [lexicalEncoder(), onnx] as TextEncoder[]) {
      const model = PctrModel.create(cfg, encoder);
      // Required for the ONNX encoder (see PctrModel.prepare); a no-op cost for the lexical one.
      await model.prepare([...train, ...test]);
      model.fit(train);
      auc[encoder.name] = model.evaluate(test).auc;
      soft[encoder.name] = softAuc(model.predict(test), truth);
    }
    const [lex, sem] = [auc.lexical!, auc[onnx.name]!];
    const [softLex, softSem] = [soft.lexical!, soft[onnx.name]!];
    console.log(
      `encoder-pctr: ${train.length} train / ${test.length} held-out exposures (${positives(test)} clicked). Held-out AUC: ` +
        `lexical ${lex.toFixed(4)}, ${onnx.name} ${sem.toFixed(4)} (${(sem - lex).toFixed(4)}); against the user's probabilities: ` +
        `lexical ${softLex.toFixed(4)}, ${onnx.name} ${softSem.toFixed(4)} (${(softSem - softLex).toFixed(4)})`,
    );
    // Both learn something about queries they never saw.
    expect(lex).toBeGreaterThan(0.56);
    expect(sem).toBeGreaterThan(0.56);
    // The claim is tested on the soft AUC. On drawn clicks, ~200 held-out positives give the AUC a
    // standard error near 0.02, twice the ONNX-fed model's edge (~0.01): over other 600-query
    // subsets the sign of the difference comes out either way, and only with ~16k training
    // exposures (benchmarks/encoder-pctr.ts) is the ONNX-fed model higher on every split. Scoring
    // against the user's own probabilities removes the coin flips of the labels, and there the
    // ONNX-fed model came out higher on 9 of 10 splits of five 600-query subsets, by 0.009 on
    // average; with a user who reads relevance lexically (the control) it came out 0.003 lower.
    expect(softSem).toBeGreaterThan(softLex);
    // On drawn clicks, not materially worse: a misaligned or stale feature would cost far more.
    expect(sem).toBeGreaterThan(lex - 0.03);
  });
});
