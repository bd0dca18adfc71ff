/**
 * Does a pCTR model fed a semantic encoder predict a semantic user's clicks better? An experiment,
 * not a speed benchmark (so it is not a *.bench.ts and `npm run bench` leaves it out).
 *
 * The pretrained embedded Ad-LLM answers embedded test queries (6 samples each); the parametric
 * user reads relevance through either all-MiniLM-L6-v2 (ONNX) or the lexical encoder and clicks.
 * For each user and each of several query splits (~30% of queries held out), two pCTR models with
 * the same config and seed are fitted, one on lexical features and one on ONNX features, and their
 * held-out AUCs compared. The lexical user is the control: if the ONNX-fed model wins because its
 * semantics match the user's, the advantage should shrink or turn around there. The AUC of the
 * user's own click probabilities on the same held-out set is printed as the ceiling.
 *
 * Needs `bash scripts/fetch-models.sh encoder`. Embeddings are cached on disk (.cache/embeddings by
 * default): the first full run embeds ~13k responses (minutes on 2 cores), later runs read them.
 *
 * Run: npx tsx benchmarks/encoder-pctr.ts [--queries 3000] [--offset 0] [--samples 6] [--splits 4] [--quick]
 *      [--configs null,128] [--cache-dir DIR] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deriveSeed } from '../lib/rng.ts';
import type { Query } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { runAuction, type Episode } from '../simulation/episode.ts';
import { DEFAULT_EMBEDDING_CACHE_DIR, OnnxEncoder } from '../simulation/onnx-encoder.ts';
import { lexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { PctrModel } from '../training/pctr.ts';
import { examplesFromEpisodes, type PctrExample } from '../training/pctr-features.ts';
import { auc } from '../training/pctr-metrics.ts';

const { values: args } = parseArgs({
  options: {
    queries: { type: 'string' },
    samples: { type: 'string' },
    splits: { type: 'string' },
    offset: { type: 'string' },
    configs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'cache-dir': { type: 'string' },
    json: { type: 'string' },
  },
});
const QUERIES = Number(args.queries ?? (args.quick ? 600 : 3000));
const SAMPLES = Number(args.samples ?? 6);
const SPLITS = Number(args.splits ?? (args.quick ? 2 : 4));
/** Skip this many test queries first: another subset of the same size. */
const OFFSET = Number(args.offset ?? 0);
/** textDim of each pCTR config compared: null (encoder output as it is) and/or a projection width. */
const TEXT_DIMS = (args.configs ?? 'null,128').split(',').map((s) => (s.trim() === 'null' ? null : Number(s)));

/**
 * AUC against the user's own click probabilities instead of the drawn clicks: every exposure counts
 * as a positive with weight p and as a negative with weight 1 - p. In a simulation p is known, and
 * this removes the coin flips of the held-out labels from the comparison (not those of training).
 */
function softAuc(scores: ArrayLike<number>, p: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, k) => k).sort((a, b) => scores[a]! - scores[b]!);
  let negBelow = 0;
  let pairs = 0;
  let pos = 0;
  for (let k = 0; k < order.length; ) {
    let j = k;
    let tiePos = 0;
    let tieNeg = 0;
    while (j < order.length && scores[order[j]!] === scores[order[k]!]) {
      tiePos += p[order[j]!]!;
      tieNeg += 1 - p[order[j]!]!;
      j++;
    }
    pairs += tiePos * (negBelow + tieNeg / 2);
    negBelow += tieNeg;
    pos += tiePos;
    k = j;
  }
  return pairs / (pos * negBelow);
}

const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const queryById = new Map(world.queries.map((q) => [q.id, q]));
const queries = world.queries.filter((q) => q.split === 'test').slice(OFFSET, OFFSET + QUERIES);
const inputOf = (q: Query) => auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'simulate', epoch: 0, candidates: 10 });
const inputs = queries.map(inputOf);

const onnx = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: args['cache-dir'] ?? DEFAULT_EMBEDDING_CACHE_DIR });
await onnx.encode([...new Set(inputs.flatMap((i) => [i.query, ...i.profile.interests, ...i.ads.map((a) => a.title)]))]);
log(`${queries.length} queries; user texts embedded`);

const rule = new EmbeddedPolicy().rule();
async function play(user: ParametricUser): Promise<Episode[]> {
  const out: Episode[] = [];
  for (let k = 0; k < queries.length; k++) {
    out.push(...(await runAuction({ queryId: queries[k]!.id, input: inputs[k]!, rule, clicks: user, seed: 0, samples: SAMPLES })));
  }
  return out;
}

interface Row {
  user: string;
  textDim: number | null;
  split: number;
  train: number;
  test: number;
  ceiling: number;
  lexical: number;
  onnx: number;
  softLexical: number;
  softOnnx: number;
}
const rows: Row[] = [];
const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);

for (const userEncoder of [onnx, lexicalEncoder()] as TextEncoder[]) {
  const episodes = await play(new ParametricUser({}, userEncoder));
  // The policy does not depend on the user, so both users see the same responses: embedded once.
  await onnx.encode([...new Set(episodes.filter((e) => e.exposures.length > 0).map((e) => e.response))]);
  log(`user ${userEncoder.name}: ${episodes.length} episodes; responses embedded`);
  const trueP = new Map<string, number>();
  const key = (query: string, response: string, adId: string) => `${query}\u0001${response}\u0001${adId}`;
  for (const e of episodes) for (const [id, p] of Object.entries(e.ctr)) trueP.set(key(queryById.get(e.query_id)!.text, e.response, id), p);
  const examplesOf = (eps: Episode[]): PctrExample[] =>
    examplesFromEpisodes(
      eps,
      (id) => queryById.get(id)!.profile_id,
      (id) => queryById.get(id)!.text,
    );
  for (let split = 0; split < SPLITS; split++) {
    const held = (id: string) => deriveSeed(split, 'encoder-pctr/split', id) % 10 < 3;
    const trainEx = examplesOf(episodes.filter((e) => !held(e.query_id)));
    const testEx = examplesOf(episodes.filter((e) => held(e.query_id)));
    const labels = testEx.map((e) => e.click ?? 0);
    const truth = testEx.map((e) => trueP.get(key(e.query, e.response, e.adId)) ?? 0);
    const ceiling = auc(truth, labels);
    for (const textDim of TEXT_DIMS) {
      const got: Record<string, number> = {};
      const soft: Record<string, number> = {};
      for (const enc of [lexicalEncoder(), onnx] as TextEncoder[]) {
        const model = PctrModel.create({ seed: 0, epochs: 6, textDim }, enc);
        await model.prepare([...trainEx, ...testEx]);
        model.fit(trainEx);
        got[enc === onnx ? 'onnx' : 'lexical'] = model.evaluate(testEx).auc;
        soft[enc === onnx ? 'onnx' : 'lexical'] = softAuc(model.predict(testEx), truth);
      }
      const row: Row = { user: userEncoder.name, textDim, split, train: trainEx.length, test: testEx.length, ceiling, lexical: got.lexical!, onnx: got.onnx!, softLexical: soft.lexical!, softOnnx: soft.onnx! };
      rows.push(row);
      log(
        `user ${row.user.padEnd(22)} textDim ${String(textDim).padEnd(4)} split ${split}: ${row.train} train / ${row.test} held out; ` +
          `AUC lexical ${row.lexical.toFixed(4)}  onnx ${row.onnx.toFixed(4)}  diff ${signed(row.onnx - row.lexical)}  (ceiling ${ceiling.toFixed(4)}); ` +
          `soft AUC lexical ${row.softLexical.toFixed(4)}  onnx ${row.softOnnx.toFixed(4)}  diff ${signed(row.softOnnx - row.softLexical)}`,
      );
    }
  }
}

console.log('\nsummary (onnx-fed minus lexical-fed held-out AUC, on drawn clicks and on the user probabilities):');
for (const user of [onnx.name, 'lexical']) {
  for (const textDim of TEXT_DIMS) {
    const rs = rows.filter((r) => r.user === user && r.textDim === textDim);
    const summary = (diffs: number[]) =>
      `mean ${signed(diffs.reduce((s, x) => s + x, 0) / diffs.length)}, onnx higher in ${diffs.filter((d) => d > 0).length}/${diffs.length} splits`;
    console.log(
      `  user ${user.padEnd(22)} textDim ${String(textDim).padEnd(4)}: AUC ${summary(rs.map((r) => r.onnx - r.lexical))}; soft AUC ${summary(rs.map((r) => r.softOnnx - r.softLexical))}`,
    );
  }
}
if (args.json) writeFileSync(args.json, `${JSON.stringify({ queries: QUERIES, offset: OFFSET, samples: SAMPLES, rows }, null, 2)}\n`);
await onnx.close();
