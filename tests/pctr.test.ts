import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../lib/rng.ts';
import { LexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';
import { adamStep, Dense, Param } from '../training/nn.ts';
import { PCTR_FORMAT, PctrConfig, PctrModel } from '../training/pctr.ts';
import { examplesFromEpisodes, type PctrExample } from '../training/pctr-features.ts';
import { auc, expectedCalibrationError, logLoss } from '../training/pctr-metrics.ts';

const encoder = new LexicalEncoder(256);
const dir = mkdtempSync(join(tmpdir(), 'pctr-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPICS = ['coffee', 'yoga', 'camera', 'hiking', 'guitar', 'garden', 'laptop', 'soup', 'bicycle', 'painting'];
const FILLER = 'simple steps routine weekly budget beginner friendly quality choose compare price brand store online daily habit plan ideas guide lesson'.split(' ');

/**
 * The synthetic click rule: the click log-odds are -2 + an ad effect (12 ads, -1.5..+1.5) + 4 when
 * the response talks about the query's topic. The match is only visible by comparing the two
 * texts, so the model must use phi(x) and phi(y) together, not the ids alone.
 */
function synthetic(n: number, seed: number, users = 20): { examples: PctrExample[]; logits: number[] } {
  const rng = new Rng(seed);
  const adEffect = Array.from({ length: 12 }, (_, k) => -1.5 + (3 * k) / 11);
  const examples: PctrExample[] = [];
  const logits: number[] = [];
  const fill = (m: number) => Array.from({ length: m }, () => rng.pick(FILLER)).join(' ');
  for (let k = 0; k < n; k++) {
    const qt = rng.int(0, TOPICS.length - 1);
    const match = rng.bernoulli(0.5);
    const rt = match ? qt : (qt + rng.int(1, TOPICS.length - 1)) % TOPICS.length;
    const a = rng.int(0, adEffect.length - 1);
    const query = `Any tips on ${TOPICS[qt]} for ${fill(1)}?`;
    const response = `${fill(2)} ${TOPICS[rt]} ${fill(2)} ${TOPICS[rt]} @Product ${a}@[Ad-${a}] ${fill(2)}`;
    const logit = -2 + adEffect[a]! + (match ? 4 : 0);
    logits.push(logit);
    const click = rng.bernoulli(1 / (1 + Math.exp(-logit))) ? 1 : 0;
    examples.push({ query, response, userId: `U-${rng.int(1, users)}`, adId: `Ad-${a}`, click });
  }
  return { examples, logits };
}

const labelsOf = (xs: readonly PctrExample[]) => xs.map((e) => e.click ?? 0);
const tiny = { userDim: 3, adDim: 2, hidden: [5, 4, 3], textDim: 6, seed: 7 };

describe('Dense kernels', () => {
  it('match naive loops, odd sizes included', () => {
    const rng = new Rng(5);
    for (const [I, O, rows, from, relu] of [
      [7, 5, 3, 2, true],
      [8, 4, 8, 0, false],
      [13, 1, 5, 4, false],
      [9, 6, 1, 0, true],
      [10, 3, 6, 10, true],
    ] as const) {
      const d = new Dense('t', I, O);
      d.initUniform(rng);
      const x = Float64Array.from({ length: rows * I }, () => rng.uniform() - 0.5);
      const y = new Float64Array(rows * O);
      d.forward(x, rows, y, relu);
      const dy = Float64Array.from({ length: rows * O }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform() - 0.5));
      const dx = new Float64Array(rows * I).fill(7);
      d.backward(x, dy, rows, dx, from);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < O; o++) {
          let s = d.b.value[o]!;
          for (let i = 0; i < I; i++) s += d.W.value[o * I + i]! * x[r * I + i]!;
          expect(y[r * O + o]).toBeCloseTo(relu && s < 0 ? 0 : s, 12);
        }
        for (let i = 0; i < I; i++) {
          if (i < from) {
            expect(dx[r * I + i]).toBe(7); // columns before dxFrom are left alone
            continue;
          }
          let s = 0;
          for (let o = 0; o < O; o++) s += dy[r * O + o]! * d.W.value[o * I + i]!;
          expect(dx[r * I + i]).toBeCloseTo(s, 12);
        }
      }
      for (let o = 0; o < O; o++) {
        let sb = 0;
        for (let r = 0; r < rows; r++) sb += dy[r * O + o]!;
        expect(d.b.grad[o]).toBeCloseTo(sb, 12);
        for (let i = 0; i < I; i++) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += dy[r * O + o]! * x[r * I + i]!;
          expect(d.W.grad[o * I + i]).toBeCloseTo(s, 12);
        }
      }
    }
  });

  it('Adam takes a first step of size lr against the gradient sign', () => {
    const p = new Param('p', 3);
    p.value.set([1, 2, 3]);
    p.grad.set([0.5, -2, 0]);
    adamStep([p], 1, { lr: 0.1 });
    expect(p.value[0]).toBeCloseTo(0.9, 6);
    expect(p.value[1]).toBeCloseTo(2.1, 6);
    expect(p.value[2]).toBe(3);
  });
});

describe('gradients', () => {
  it('match central finite differences for every parameter group (relative error < 1e-4)', () => {
    const model = PctrModel.create(tiny, encoder);
    const rng = new Rng(11);
    const examples = synthetic(24, 3, 4).examples;
    const loss = () => model.lossAndGradients(examples);
    loss(); // registers the ids, so every row below exists
    // The output bias starts at 0 and the weights are small; move them so no group sits at a
    // degenerate point (e.g. every gradient of a group tiny).
    const groups = model.parameters();
    expect(groups.map((p) => p.name)).toEqual([
      'user_embedding',
      'ad_embedding',
      'fc1.weight',
      'fc1.bias',
      'fc2.weight',
      'fc2.bias',
      'fc3.weight',
      'fc3.bias',
      'out.weight',
      'out.bias',
    ]);
    for (const p of groups) for (let k = 0; k < p.size; k++) p.value[k]! += 0.3 * (rng.uniform() - 0.5);
    const base = loss();
    expect(Number.isFinite(base)).toBe(true);
    const analytic = groups.map((p) => p.grad.slice());
    const h = 1e-6;
    let checked = 0;
    groups.forEach((p, g) => {
      // Embedding row 0 is the unknown row, unused here: check rows of known ids only.
      const dim = p.name === 'user_embedding' ? tiny.userDim : p.name === 'ad_embedding' ? tiny.adDim : 0;
      const from = dim;
      for (let t = 0; t < 4; t++) {
        const k = rng.int(from, p.size - 1);
        const keep = p.value[k]!;
        p.value[k] = keep + h;
        const up = loss();
        p.value[k] = keep - h;
        const down = loss();
        p.value[k] = keep;
        const numeric = (up - down) / (2 * h);
        const a = analytic[g]![k]!;
        const scale = Math.max(Math.abs(a), Math.abs(numeric));
        if (scale < 1e-7) continue; // a ReLU-dead unit: both ~0, nothing to compare
        expect(Math.abs(a - numeric) / scale, `${p.name}[${k}]: analytic ${a}, numeric ${numeric}`).toBeLessThan(1e-4);
        checked++;
      }
    });
    expect(checked).toBeGreaterThanOrEqual(30);
  });

  it('report the same loss as the predictions', () => {
    const model = PctrModel.create(tiny, encoder);
    const examples = synthetic(50, 4, 5).examples;
    const l = model.lossAndGradients(examples);
    expect(l).toBeCloseTo(logLoss(model.predict(examples), labelsOf(examples)), 10);
  });
});

describe('metrics', () => {
  it('AUC equals the brute-force pairwise count, ties counting half', () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(2, 200);
      // Scores on a coarse grid so that ties are frequent.
      const s = Array.from({ length: n }, () => Math.round(rng.uniform() * 10) / 10);
      const y = Array.from({ length: n }, () => (rng.bernoulli(0.3) ? 1 : 0));
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (y[i] !== 1 || y[j] !== 0) continue;
          den++;
          num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
        }
      }
      const got = auc(s, y);
      if (den === 0) expect(got).toBeNaN();
      else expect(got).toBeCloseTo(num / den, 12);
    }
    expect(auc([0.1, 0.9], [0, 1])).toBe(1);
    expect(auc([0.5, 0.5, 0.5], [0, 1, 1])).toBe(0.5);
  });

  it('ECE is ~0 on a perfectly calibrated set and large on a miscalibrated one', () => {
    const rng = new Rng(5);
    const n = 200_000;
    const p = new Float64Array(n);
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      p[k] = rng.uniform();
      y[k] = rng.bernoulli(p[k]!) ? 1 : 0;
    }
    expect(expectedCalibrationError(p, y)).toBeLessThan(0.01);
    expect(expectedCalibrationError([0.9, 0.9, 0.9], [0, 0, 0])).toBeCloseTo(0.9, 12);
    // Two bins, each calibrated on its own.
    expect(expectedCalibrationError([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75], [1, 0, 0, 0, 1, 1, 1, 0])).toBeCloseTo(0, 12);
  });

  it('log loss of a constant predictor is the label entropy', () => {
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.log(2), 12);
  });
});

describe('PctrModel', () => {
  it('has the paper defaults', () => {
    const cfg = PctrConfig.parse({});
    expect(cfg).toMatchObject({ userDim: 64, adDim: 32, hidden: [128, 64, 32], lr: 1e-3, batchSize: 256, epochs: 2, weightDecay: 0, textDim: 128 });
    const m = PctrModel.create({}, encoder);
    expect(m.inputDim).toBe(2 * 128 + 64 + 32);
    expect(() => PctrConfig.parse({ hiddenDims: [3] })).toThrow();
  });

  it('learns a click rule that needs both the ad id and the query-response match', () => {
    const train = synthetic(5000, 1).examples;
    const test = synthetic(2000, 101);
    const model = PctrModel.create({ seed: 1 }, encoder);
    const fit = model.fit(train, { epochs: 8 });
    expect(fit.losses).toHaveLength(8);
    expect(fit.losses.at(-1)!).toBeLessThan(fit.losses[0]!);
    expect(fit.examplesPerSecond).toBeGreaterThan(0);
    const ev = model.evaluate(test.examples);
    const bayes = auc(test.logits, labelsOf(test.examples));
    const trainRate = train.filter((e) => e.click === 1).length / train.length;
    const constant = logLoss(new Float64Array(test.examples.length).fill(trainRate), labelsOf(test.examples));
    console.log(
      `pctr learning: held-out AUC ${ev.auc.toFixed(3)} (Bayes ${bayes.toFixed(3)}), log loss ${ev.logLoss.toFixed(3)} vs constant ${constant.toFixed(3)}, ECE ${ev.ece.toFixed(3)}, ${Math.round(fit.examplesPerSecond)} examples/s`,
    );
    expect(ev.n).toBe(2000);
    expect(ev.auc).toBeGreaterThan(0.8);
    expect(ev.logLoss).toBeLessThan(constant);
    expect(Math.abs(ev.meanPrediction - ev.positiveRate)).toBeLessThan(0.1);
  });

  it('is deterministic for a seed', () => {
    const data = synthetic(600, 8).examples;
    const run = (seed: number) => {
      const m = PctrModel.create({ ...tiny, hidden: [16, 8], seed }, encoder);
      m.fit(data, { epochs: 2 });
      return m.predict(data);
    };
    const a = run(3);
    expect(run(3)).toEqual(a);
    expect(run(4)).not.toEqual(a);
  });

  it('round-trips through save/load with identical predictions and optimizer state', () => {
    const data = synthetic(800, 9).examples;
    const m = PctrModel.create({ hidden: [16, 8], textDim: 32, seed: 2 }, encoder);
    m.fit(data, { epochs: 1 });
    const path = join(dir, 'ck', 'pctr.json');
    m.save(path);
    const back = PctrModel.load(path, encoder);
    expect(back.predict(data)).toEqual(m.predict(data));
    expect(back.users).toEqual(m.users);
    expect(back.ads).toEqual(m.ads);
    expect(back.stepCount).toBe(m.stepCount);
    // Resuming from the checkpoint continues exactly as the uninterrupted model does.
    m.fit(data, { epochs: 1 });
    back.fit(data, { epochs: 1 });
    expect(back.predict(data)).toEqual(m.predict(data));
    // JSON.stringify uses toJSON.
    const viaJson = PctrModel.fromJSON(JSON.parse(JSON.stringify(m)), encoder);
    expect(viaJson.predict(data)).toEqual(m.predict(data));
    // A slim save drops Adam's moments but keeps the weights.
    m.save(path, { optimizer: false });
    const slim = JSON.parse(readFileSync(path, 'utf8'));
    expect(slim.format).toBe(PCTR_FORMAT);
    expect(slim.optimizer).toBeUndefined();
    expect(PctrModel.load(path, encoder).predict(data)).toEqual(m.predict(data));
  });

  it('refuses another version, another format and another encoder with clear errors', () => {
    const m = PctrModel.create(tiny, encoder);
    const json = m.toJSON();
    expect(() => PctrModel.fromJSON({ ...json, version: 2 }, encoder)).toThrow(/version 2 is not supported.*version 1/);
    expect(() => PctrModel.fromJSON({ ...json, format: 'other' }, encoder)).toThrow(/not a pCTR checkpoint/);
    expect(() => PctrModel.fromJSON(json, new LexicalEncoder(128))).toThrow(/text encoder/);
    const path = join(dir, 'v2.json');
    writeFileSync(path, JSON.stringify({ ...json, version: 2 }));
    expect(() => PctrModel.load(path, encoder)).toThrow(/v2\.json: pCTR checkpoint version 2 is not supported/);
    const broken = { ...json, params: { ...json.params, 'fc1.weight': 'AAAA' } };
    expect(() => PctrModel.fromJSON(broken, encoder)).toThrow(/fc1\.weight/);
  });

  it('grows its vocabulary for ids first seen in a later fit; unseen ids share the unknown row', () => {
    const m = PctrModel.create({ ...tiny, hidden: [8] }, encoder);
    const base = synthetic(300, 12, 3).examples; // users U-1..U-3
    m.fit(base, { epochs: 1 });
    expect(m.users).toHaveLength(3);
    const firstUsers = [...m.users];
    const before = m.predict(base);
    const probe = { ...base[0]!, userId: 'U-new' };
    const unseenA = m.predict([probe, { ...probe, userId: 'U-other' }]);
    expect(unseenA[0]).toBe(unseenA[1]); // both map to the unknown row
    const later = synthetic(300, 13, 5).examples.map((e) => ({ ...e, userId: e.userId === 'U-5' ? 'U-new' : e.userId, adId: e.adId === 'Ad-0' ? 'Ad-new' : e.adId }));
    m.fit(later, { epochs: 1 });
    // Old ids keep their rows (in order of first appearance); new ones are appended.
    expect(m.users.slice(0, 3)).toEqual(firstUsers);
    expect([...m.users].sort()).toEqual(['U-1', 'U-2', 'U-3', 'U-4', 'U-new']);
    expect(m.ads).toContain('Ad-new');
    const after = m.predict(base);
    expect(after.every(Number.isFinite)).toBe(true);
    expect(after).not.toEqual(before); // trained further
    const seen = m.predict([probe, { ...probe, userId: 'U-other' }]);
    expect(seen[0]).not.toBe(seen[1]); // U-new has its own row now
  });

  it('initFrom continues from the previous weights without touching them', () => {
    const d1 = synthetic(500, 14).examples;
    const d2 = synthetic(500, 15).examples;
    const prev = PctrModel.create({ ...tiny, hidden: [8] }, encoder);
    prev.fit(d1, { epochs: 1 });
    const prevPred = prev.predict(d2);
    const next = PctrModel.initFrom(prev);
    expect(next.predict(d2)).toEqual(prevPred);
    next.fit(d2, { epochs: 1 });
    expect(prev.predict(d2)).toEqual(prevPred);
    expect(next.predict(d2)).not.toEqual(prevPred);
    // The same as fitting the previous model in place.
    prev.fit(d2, { epochs: 1 });
    expect(prev.predict(d2)).toEqual(next.predict(d2));
    const slower = PctrModel.initFrom(prev, { lr: 1e-4 });
    expect(slower.config.lr).toBe(1e-4);
    // A per-call seed gives the same batches whatever the model's history.
    const a = PctrModel.initFrom(prev);
    const b = PctrModel.initFrom(prev);
    b.fit(d1, { epochs: 1 });
    const c = PctrModel.initFrom(prev);
    a.fit(d2, { epochs: 1, seed: 99 });
    c.fit(d2, { epochs: 1, seed: 99 });
    expect(a.predict(d2)).toEqual(c.predict(d2));
  });

  it('trains the unknown row only under idDropout', () => {
    const data = synthetic(400, 16).examples;
    const plain = PctrModel.create({ ...tiny, hidden: [8] }, encoder);
    plain.fit(data, { epochs: 1 });
    expect(Array.from(plain.parameters()[0]!.value.subarray(0, tiny.userDim))).toEqual([0, 0, 0]);
    const drop = PctrModel.create({ ...tiny, hidden: [8], idDropout: 0.2 }, encoder);
    drop.fit(data, { epochs: 1 });
    expect(Array.from(drop.parameters()[0]!.value.subarray(0, tiny.userDim)).some((v) => v !== 0)).toBe(true);
  });

  it('needs labels to fit and evaluate', () => {
    const m = PctrModel.create(tiny, encoder);
    const ex: PctrExample = { query: 'q', response: 'r', userId: 'U-1', adId: 'Ad-1' };
    expect(() => m.fit([ex])).toThrow(/click label/);
    expect(() => m.evaluate([ex])).toThrow(/click label/);
    expect(m.predict([ex])).toHaveLength(1);
    expect(m.predict([])).toHaveLength(0);
    expect(m.fit([]).losses).toEqual([]);
  });

  it('works with an async-only encoder after prepare', async () => {
    const asyncOnly: TextEncoder = { name: 'async-lexical', dim: 256, encode: (texts) => encoder.encode(texts) };
    const m = PctrModel.create(tiny, asyncOnly);
    const data = synthetic(20, 17).examples;
    expect(() => m.predict(data)).toThrow(/await model.prepare/);
    await m.prepare(data);
    const viaAsync = m.predict(data);
    const viaSync = PctrModel.create(tiny, encoder).predict(data);
    expect(viaAsync).toEqual(viaSync);
  });

  it('without projection feeds the encoder output as it is', () => {
    const m = PctrModel.create({ ...tiny, textDim: null }, encoder);
    expect(m.textDim).toBe(256);
    expect(m.predict(synthetic(5, 18).examples).every((p) => p > 0 && p < 1)).toBe(true);
  });
});

describe('early stopping and calibration', () => {
  const logit = (p: number) => Math.log(p / (1 - p));
  const sig = (z: number) => 1 / (1 + Math.exp(-z));

  it('keeps the pass with the lowest validation log loss and stops after `patience` worse passes', () => {
    // Few examples, many users and a high learning rate: the model starts memorizing soon.
    const data = synthetic(400, 21, 200).examples;
    const validation = synthetic(400, 22, 200).examples;
    const m = PctrModel.create({ ...tiny, hidden: [16, 8], lr: 0.02, seed: 5 }, encoder);
    const fit = m.fit(data, { epochs: 40, validation, patience: 3 });
    const losses = fit.validationLosses;
    expect(losses).toHaveLength(fit.losses.length + 1); // before the first pass, then after each
    const best = losses.indexOf(Math.min(...losses));
    expect(fit.keptEpochs).toBe(best);
    expect(fit.losses.length).toBeLessThan(40); // it stopped early...
    expect(fit.losses.length - best).toBe(3); // ...three passes after the best one
    // The weights of the best pass are the ones kept.
    expect(logLoss(m.predict(validation), labelsOf(validation))).toBeCloseTo(losses[best]!, 12);
    expect(losses.at(-1)!).toBeGreaterThan(losses[best]!);
  });

  it('takes more passes over few examples when asked for a number of steps', () => {
    const data = synthetic(100, 23).examples; // one batch of 256 holds them all: one step a pass
    const m = PctrModel.create({ ...tiny, hidden: [8] }, encoder);
    const fit = m.fit(data, { epochs: 2, minSteps: 7 });
    expect(fit.steps).toBe(7);
    expect(fit.losses).toHaveLength(7);
    expect(fit.keptEpochs).toBe(7);
    expect(m.fit(data, { epochs: 2 }).steps).toBe(2);
  });

  it('Platt scaling recovers a known distortion, survives a checkpoint and is dropped by the next fit', () => {
    const base = synthetic(3000, 24).examples;
    const m = PctrModel.create({ ...tiny, hidden: [16, 8], seed: 6 }, encoder);
    m.fit(base, { epochs: 3 });
    // Clicks drawn from sigmoid(2.5 logit(p) - 0.7) of the model's own predictions p: the model is
    // squeezed toward the mean by a factor 2.5 and biased; the scaling has to undo exactly that.
    const held = synthetic(30000, 25).examples;
    const raw = m.predict(held);
    const rng = new Rng(26);
    const relabelled = held.map((e, k) => ({ ...e, click: (rng.bernoulli(sig(2.5 * logit(raw[k]!) - 0.7)) ? 1 : 0) as 0 | 1 }));
    const before = expectedCalibrationError(raw, labelsOf(relabelled));
    const cal = m.calibrate(relabelled)!;
    expect(Math.abs(cal.a - 2.5)).toBeLessThan(0.2);
    expect(Math.abs(cal.c + 0.7)).toBeLessThan(0.2);
    const after = expectedCalibrationError(m.predict(relabelled), labelsOf(relabelled));
    expect(after).toBeLessThan(before / 3);
    const path = join(dir, 'calibrated.json');
    m.save(path);
    const back = PctrModel.load(path, encoder);
    expect(back.calibration).toEqual(m.calibration);
    expect(back.predict(held)).toEqual(m.predict(held));
    expect(PctrModel.initFrom(m).predict(held)).toEqual(m.predict(held));
    m.fit(base, { epochs: 1 });
    expect(m.calibration).toBeNull();
    // Without a click (or without a non-click) there is nothing to fit.
    expect(m.calibrate(held.map((e) => ({ ...e, click: 0 as const })))).toBeNull();
    expect(m.calibration).toBeNull();
  });

  it('a small prior keeps a few dozen clicks from moving the scaling far', () => {
    const base = synthetic(2000, 27).examples;
    const m = PctrModel.create({ ...tiny, hidden: [16, 8], seed: 8 }, encoder);
    m.fit(base, { epochs: 3 });
    const few = synthetic(60, 28).examples;
    const cal = m.calibrate(few, 2)!;
    const loose = m.calibrate(few, 1e-6)!;
    expect(Math.abs(cal.a - 1) + Math.abs(cal.c)).toBeLessThan(Math.abs(loose.a - 1) + Math.abs(loose.c));
  });
});

describe('examplesFromEpisodes', () => {
  it('makes one labelled example per valid exposure', () => {
    const episodes = [
      { query_id: 'Q-1', response: 'r1', exposures: [{ id: 'Ad-1', title: 'A' }, { id: 'Ad-2', title: 'B' }], clicks: ['Ad-2'] },
      { query_id: 'Q-2', response: 'r2', exposures: [], clicks: [] },
      { query_id: 'Q-2', response: 'r3', exposures: [{ id: 'Ad-3', title: 'C' }, { id: 'Ad-3', title: 'C' }], clicks: ['Ad-9'] },
    ];
    const profile = { 'Q-1': 'U-1', 'Q-2': 'U-2' } as Record<string, string>;
    const text = { 'Q-1': 'first?', 'Q-2': 'second?' } as Record<string, string>;
    const ex = examplesFromEpisodes(episodes, (q) => profile[q]!, (q) => text[q]!);
    expect(ex).toEqual([
      { query: 'first?', response: 'r1', userId: 'U-1', adId: 'Ad-1', click: 0 },
      { query: 'first?', response: 'r1', userId: 'U-1', adId: 'Ad-2', click: 1 },
      { query: 'second?', response: 'r3', userId: 'U-2', adId: 'Ad-3', click: 0 },
    ]);
  });
});
