/**
 * Throughput of the pCTR reward model (training/pctr.ts): Adam steps at the paper's batch of 256,
 * batched inference, and whole fits on synthetic online data the size of IRPO's presets.
 *
 * The data imitate what IRPO logs: queries of ~12 words, responses of ~120 words with one or two
 * ad insertions (1.4 exposures per response on average), 10 responses per query, 3,000 users and
 * 100 ads. Texts go through the 1024-dim lexical encoder (the paper's encoder also outputs 1024
 * dims) and the fixed projection to 128 dims, as IRPO's default configuration does.
 *
 * Run: npx tsx benchmarks/pctr.bench.ts
 */
import os from 'node:os';
import { Rng } from '../lib/rng.ts';
import { LexicalEncoder } from '../simulation/text-encoder.ts';
import { PctrModel } from '../training/pctr.ts';
import type { PctrExample } from '../training/pctr-features.ts';
import { runTasks, writeResult } from './lib.ts';
import { round } from '../lib/numbers.ts';

const WORDS = (
  'coffee espresso beans grinder roast morning routine yoga mat stretch breathing hiking trail boots waterproof jacket camera lens ' +
  'tripod photo garden soil compost seeds tomato guitar strings chords practice laptop battery screen keyboard budget travel ' +
  'backpack tent sleeping bag stove recipe soup broth vegetables spices protein snack energy focus sleep habit weekly plan ' +
  'beginner friendly quality compare price brand store online daily lesson guide tips comfortable durable lightweight compact'
).split(' ');

const SAMPLES = 10;

/** `queries` queries x 10 responses, each response exposing 1 ad (60%) or 2 ads (40%). */
function onlineData(queries: number, seed: number): PctrExample[] {
  const rng = new Rng(seed);
  const words = (n: number) => Array.from({ length: n }, () => rng.pick(WORDS)).join(' ');
  const out: PctrExample[] = [];
  for (let q = 0; q < queries; q++) {
    const query = `${words(11)}?`;
    const userId = `U-${String(rng.int(1, 3000)).padStart(4, '0')}`;
    for (let m = 0; m < SAMPLES; m++) {
      const ads = rng.bernoulli(0.4) ? 2 : 1;
      const ids = Array.from({ length: ads }, () => `Ad-${String(rng.int(1, 100)).padStart(4, '0')}`);
      const response = `${words(60)} @Product ${ids[0]}@[${ids[0]}] ${words(60)}${ids[1] ? ` @Product ${ids[1]}@[${ids[1]}]` : ''}`;
      for (const adId of new Set(ids)) out.push({ query, response, userId, adId, click: rng.bernoulli(0.08) ? 1 : 0 });
    }
  }
  return out;
}


/** One fit of the paper's model (default config: 2 epochs, batch 256, textDim 128) on fresh data. */
function presetFit(name: string, queries: number, seed: number) {
  const data = onlineData(queries, seed);
  // A fresh encoder so that encoding time is measured, not the encoder's cache from a prior run.
  const model = PctrModel.create({ seed }, new LexicalEncoder());
  const fit = model.fit(data);
  const t0 = performance.now();
  model.predict(data);
  const predictSeconds = (performance.now() - t0) / 1000;
  const passes = data.length * model.config.epochs;
  const uniqueTexts = new Set(data.flatMap((e) => [e.query, e.response])).size;
  const row = {
    name,
    queries,
    examples: data.length,
    unique_texts: uniqueTexts,
    epochs: model.config.epochs,
    fit_seconds: round(fit.seconds, 2),
    encode_seconds: round(fit.encodeSeconds, 2),
    train_examples_per_s: round(passes / (fit.seconds - fit.encodeSeconds), 0),
    fit_examples_per_s: round(fit.examplesPerSecond, 0),
    predict_examples_per_s: round(data.length / predictSeconds, 0),
    final_loss: round(fit.losses.at(-1)!, 4),
  };
  console.log(row);
  return row;
}

// Throughput on a shared machine depends on what else runs: record the load around the run.
const loadBefore = os.loadavg()[0]!;

// ---- Per-step and per-call figures (tinybench). ---------------------------------------------
const pool = onlineData(200, 1); // ~2,800 examples
const batch = pool.slice(0, 256);
const stepModel = PctrModel.create({ seed: 1 }, new LexicalEncoder());
stepModel.fit(pool, { epochs: 1 }); // caches the text features and the vocabulary
const response = pool.slice(0, 2);

const tasks = await runTasks({
  'fit: one Adam step on a batch of 256 (textDim 128, MLP 128-64-32, features cached)': () => stepModel.fit(batch, { epochs: 1 }),
  'predict: 256 examples (features cached)': () => stepModel.predict(batch),
  'predict: one response with 2 exposed ads (features cached)': () => stepModel.predict(response),
});
const step = tasks[0]!;
const pred = tasks[1]!;
const stepExamplesPerS = 256 / (step.median_ms / 1000);
const predExamplesPerS = 256 / (pred.median_ms / 1000);

// Without the projection: the MLP reads the 1024-dim features directly (first layer ~6x larger).
const wide = PctrModel.create({ seed: 1, textDim: null }, new LexicalEncoder());
wide.fit(pool, { epochs: 1 });
const wideFit = wide.fit(pool, { epochs: 2 });

// ---- Preset-sized fits. --------------------------------------------------------------------------
const tiny = presetFit('tiny preset (~20k examples)', 1430, 2);
// The paper preset is 12k queries (~168k examples); a quarter of it is timed and the time scaled
// by 4. Training time is linear in the example count; encoding time is linear in the unique texts.
const quarter = presetFit('paper preset, one quarter (3k queries)', 3000, 3);
const paperExamples = quarter.examples * 4;
const paperProjectedSeconds = quarter.fit_seconds * 4;

const notes = [
  `Training: ${round(stepExamplesPerS, 0)} examples/s in steady state (median Adam step on a batch of 256, text features cached), ${round(predExamplesPerS, 0)} examples/s for inference.`,
  `Without the projection (textDim null, 1024-dim features into the MLP): ${round(wideFit.examplesPerSecond, 0)} examples/s for fit.`,
  `Tiny preset: ${tiny.examples} examples x ${tiny.epochs} epochs in ${tiny.fit_seconds} s (text encoding of ${tiny.unique_texts} texts: ${tiny.encode_seconds} s).`,
  `Paper preset: ${quarter.examples} examples (a quarter of 12k queries x 10 samples x ~1.4 exposures) fit in ${quarter.fit_seconds} s; ` +
    `projected for ${paperExamples} examples: ~${round(paperProjectedSeconds, 0)} s per IRPO epoch (4x the quarter; measured, not run at full size, to keep the lexical encoder's 1024-dim cache in memory bounds).`,
  'Synthetic data: ~12-word queries, ~120-word responses, 3,000 users, 100 ads; LexicalEncoder(1024) then the fixed random projection to 128 dims.',
  `1-minute load average ${round(loadBefore, 1)} before and ${round(os.loadavg()[0]!, 1)} after the run on ${os.cpus().length} cores: single-threaded figures shrink when the load exceeds the core count.`,
];
for (const n of notes) console.log(n);

writeResult({
  suite: 'pctr',
  tasks,
  targets: [],
  notes,
  extra: {
    steady_state_train_examples_per_s: round(stepExamplesPerS, 0),
    inference_examples_per_s: round(predExamplesPerS, 0),
    no_projection_fit_examples_per_s: round(wideFit.examplesPerSecond, 0),
    presets: [tiny, quarter],
    paper_preset_projected: { examples: paperExamples, fit_seconds: round(paperProjectedSeconds, 1) },
  },
});
