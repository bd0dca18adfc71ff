/**
 * Iterative Reward-Preference Optimization (IRPO, Algorithm 1), on the embedded world.
 *
 * The file reads top to bottom like the algorithm. Each epoch t:
 *   Phase 1 (reward model): deploy pi_{t-1}, sample rmSamples responses per training query with
 *     fresh bids, let the user click, and fit the pCTR model on that online data (psi_{t-1} -> psi_t).
 *   Phase 2 (LLM): with fresh bids again, sample dpoSamples responses per query from pi_{t-1},
 *     score each with R (Eq. 8) under psi_t, pair the best against every response more than
 *     deltaTh below it, and take DPO steps with pi_ref = pi_{t-1} (Eq. 6).
 *
 * Everything lands in the run directory, one phase at a time, so `--resume` picks up at the first
 * phase that has not finished: a crash loses nothing and no sample is drawn twice.
 *
 *   DIR/manifest.json                         config, seed, versions, status
 *   DIR/metrics.jsonl                         one line per finished epoch
 *   DIR/epoch-0/policy.json                   theta_0 (the pretrained policy; after --warm-start sft, the warm-started model)
 *   DIR/epoch-t/online/episodes.jsonl         phase 1 data (a resumable simulate run)
 *   DIR/epoch-t/pctr-fit.json                 how psi_t's fit went (in the epoch's metrics), written just before it
 *   DIR/epoch-t/pctr.json                     psi_t
 *   DIR/epoch-t/pairs.jsonl                   phase 2 preference pairs (TRL's prompt/chosen/rejected)
 *   DIR/epoch-t/policy.json                   theta_t, written last: its presence ends the epoch
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../lib/errors.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { buildAdPrompt } from '../mechanism/prompt.ts';
import { reward } from '../mechanism/reward.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import { spearman } from '../lib/stats.ts';
import type { AllocationRule, AuctionInput, Profile, Query } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy, FEATURES, NUM_FEATURES } from '../simulation/embedded-policy.ts';
import type { Episode } from '../simulation/episode.ts';
import { runSimulation } from '../simulation/run.ts';
import { lexicalEncoder } from '../simulation/text-encoder.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld, type World } from '../simulation/world.ts';
import { IrpoConfig } from './config.ts';
import { dpoUpdate, preferencePairs, type FeaturePair } from './dpo.ts';
import { externalUpdate, type ExternalPolicy } from './external.ts';
import { formatWarmStart } from './warm-start.ts';
import { heldOutQuery } from './pctr-quality.ts';
import { PctrModel } from './pctr.ts';
import type { PctrExample } from './pctr-features.ts';

export interface EpochMetrics {
  epoch: number;
  /** Phase 1 data, collected under pi_{t-1}: what the deployed policy earned. */
  revenue_per_query: number;
  reward_per_query: number;
  ads_per_response: number;
  format_errors_per_response: number;
  /** Spearman correlation between an exposed-or-not candidate's bid and its clicks, phase 1. */
  bid_click_rank_correlation: number;
  pctr_auc: number | null;
  pctr_log_loss: number | null;
  pctr_ece: number | null;
  /** Held-out mean prediction and click rate (calibration in the large). */
  pctr_mean_prediction?: number | null;
  pctr_click_rate?: number | null;
  /** The pCTR fit: passes run and kept (early stopping), Adam steps, validation log loss per pass, Platt scaling. */
  /** The pCTR fit, and the exposures and clicks it was fitted and validated on (absent in older runs). */
  pctr_fit?: { passes: number; kept: number; steps: number; validation_log_loss: number[]; calibration: { a: number; c: number } | null; fit_exposures?: number; fit_clicks?: number; validation_exposures?: number; validation_clicks?: number } | null;
  pairs: number;
  dpo_loss_before: number;
  dpo_loss_after: number;
  /** Share of the DPO step the step check kept (1, 1/2, 1/4 or 0); null without the check. */
  step_kept?: number | null;
  theta: Record<string, number>;
  seconds: { online: number; reward_model: number; pairs: number; dpo: number };
}

export interface IrpoOptions {
  out: string;
  config: IrpoConfig;
  seed: number;
  resume?: boolean;
  versions?: Record<string, string>;
  onPhase?: (epoch: number, phase: string) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
/** Write via a temporary file and rename, so a crash never leaves half a checkpoint. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

export function policyPath(dir: string, epoch: number): string {
  return join(dir, `epoch-${epoch}`, 'policy.json');
}

/** A checkpointed policy: theta of the embedded Ad-LLM, or the served model of an external run. */
export type SavedPolicy = { kind: 'embedded'; epoch: number; theta: Float64Array } | { kind: 'external'; epoch: number; baseURL: string; params: Record<string, string>; model: string; adapter: string | null };

export function loadPolicy(dir: string, epoch?: number): SavedPolicy {
  let e = epoch;
  if (e === undefined) {
    e = 0;
    while (existsSync(policyPath(dir, e + 1))) e++;
  }
  const file = policyPath(dir, e);
  if (!existsSync(file)) throw new UsageError(`${dir}: no trained policy for epoch ${e} (expected ${file})`);
  const json = readJson<{ theta?: number[]; model?: string; adapter?: string | null; baseURL?: string; params?: Record<string, string> }>(file);
  if (json.model !== undefined) return { kind: 'external', epoch: e, baseURL: json.baseURL!, params: json.params ?? {}, model: json.model, adapter: json.adapter ?? null };
  return { kind: 'embedded', epoch: e, theta: Float64Array.from(json.theta ?? []) };
}

export function loadTheta(dir: string, epoch?: number): { theta: Float64Array; epoch: number } {
  const p = loadPolicy(dir, epoch);
  if (p.kind !== 'embedded') throw new UsageError(`${dir}: epoch ${p.epoch} is a model served by an endpoint, not the embedded policy`);
  return { theta: p.theta, epoch: p.epoch };
}

/** The allocation rule of a saved policy. */
export async function policyRule(p: SavedPolicy, policy: EmbeddedPolicy, name: string): Promise<AllocationRule> {
  if (p.kind === 'embedded') return policy.rule(p.theta, name);
  const { openAIConfigFromParams } = await import('../models/backends/openai-config.ts');
  const { createOpenAIRule } = await import('../models/backends/openai-rule.ts');
  const { adaptToEndpoint } = await import('../models/backends/served-limits.ts');
  return createOpenAIRule(openAIConfigFromParams(p.baseURL, await adaptToEndpoint(p.baseURL, { ...p.params, model: p.model, name })));
}

export async function trainIrpo(opts: IrpoOptions): Promise<EpochMetrics[]> {
  const { out, config: cfg, seed } = opts;
  const external = cfg.trainer === 'external' ? cfg.external : undefined;
  if (cfg.trainer === 'external' && !external) throw new UsageError('--trainer external needs --ad-llm, --trainer-command and --base-model; see training/README.md');
  const { splitOpenAISpec } = await import('../models/backends/openai-config.ts');
  const endpoint = external ? splitOpenAISpec(external.adLlm) : undefined;

  // ---- The run directory: start fresh, or resume the same configuration. ----------------------
  mkdirSync(out, { recursive: true });
  const manifestPath = join(out, 'manifest.json');
  const manifest = { kind: 'train', algorithm: 'IRPO', seed, config: cfg, versions: opts.versions ?? {}, features: FEATURES };
  if (existsSync(manifestPath)) {
    if (!opts.resume) throw new UsageError(`${out} already holds a run: pass --resume to continue it, or choose another --out`);
    const old = readJson<typeof manifest>(manifestPath);
    if (JSON.stringify({ s: old.seed, c: old.config }) !== JSON.stringify({ s: seed, c: cfg })) {
      throw new UsageError(`${manifestPath}: cannot resume: its manifest has a different configuration`);
    }
  }
  writeAtomic(manifestPath, `${JSON.stringify({ ...manifest, status: 'running' }, null, 2)}\n`);

  // ---- The world: training queries, the embedded Ad-LLM pi_0, the simulated user. --------------
  const world: World = embeddedWorld(cfg.worldSeed);
  const profiles = new Map<string, Profile>(world.profiles.map((p) => [p.id, p]));
  const train: Query[] = world.queries.filter((q) => q.split === 'train').slice(0, cfg.trainQueries);
  const policy = new EmbeddedPolicy();
  const user = new ParametricUser({ worldSeed: cfg.worldSeed });
  const auctionsOf = (queries: readonly Query[], stage: string, epoch: number) =>
    queries.map((q) => ({ queryId: q.id, input: auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed, stage, epoch, candidates: cfg.candidates }) }));
  const auctionsFor = (stage: string, epoch: number) => auctionsOf(train, stage, epoch);

  // theta_0 = 0 is the pretrained model (or the endpoint's base model); it is saved so `run:DIR@0` names it.
  mkdirSync(join(out, 'epoch-0'), { recursive: true });
  if (!existsSync(policyPath(out, 0))) {
    const p0 =
      endpoint
        ? { epoch: 0, baseURL: endpoint.baseURL, params: endpoint.params, model: endpoint.params.model ?? external!.baseModel, adapter: null }
        : { epoch: 0, theta: new Array(NUM_FEATURES).fill(0), features: FEATURES };
    writeAtomic(policyPath(out, 0), `${JSON.stringify(p0)}\n`);
  }
  // The format warm start (training/warm-start.ts): a supervised round on well-formed answers
  // before IRPO, for a model that never writes the insertion markup on its own. Its model becomes
  // pi_0, so `run:DIR@0` is "SmolLM2 + format warm start" and every epoch's gain is on top of it.
  if (external && endpoint && external.warmStart === 'sft') {
    const p0 = loadPolicy(out, 0);
    if (p0.kind === 'external' && p0.adapter === null) {
      opts.onPhase?.(0, 'format warm start (sft)');
      const warm = await formatWarmStart({ out, auctions: auctionsOf(world.queries.filter((q) => q.split === 'train').slice(0, external.warmStartQueries ?? cfg.trainQueries), 'warm-start', 0), seed, external, base: { baseURL: p0.baseURL, params: p0.params, model: p0.model }, beta: cfg.dpo.beta });
      writeAtomic(policyPath(out, 0), `${JSON.stringify({ epoch: 0, baseURL: warm.baseURL, params: warm.params, model: warm.model, adapter: warm.adapter, warm_start: 'sft', base_model: p0.model })}\n`);
    }
  }

  const metricsPath = join(out, 'metrics.jsonl');
  const metrics: EpochMetrics[] = existsSync(metricsPath)
    ? readFileSync(metricsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as EpochMetrics)
    : [];
  let pctr: PctrModel | null = null;
  // The pCTR model's frozen encoder; an ONNX one embeds asynchronously, so texts are prepared first.
  const { createEncoder } = await import('../simulation/onnx-encoder.ts');
  const fitsPctr = cfg.reward !== 'oracle';
  const pctrEncoder = fitsPctr ? await createEncoder(cfg.pctrEncoder) : lexicalEncoder();

  /**
   * The step check (not in Algorithm 1; see training/README.md). The expected reward of a policy
   * is estimated under the epoch's reward model (psi_t, or the true clicks for the Oracle; never
   * the user's model for a pCTR run) on `stepCheck` training queries with their own bids, by
   * sampling 8 responses per query with common random numbers. The full step theta_t is kept if
   * its gain over theta_{t-1}, paired query by query, is at least `stepCheckMargin` standard
   * errors above zero (a step that merely does not lose is as likely noise as progress); otherwise
   * half of it, then a quarter, else none. With few or noisy preference pairs Adam still takes
   * full-size steps in whatever direction their gradient points, and this keeps such a step from
   * undoing earlier epochs.
   */
  async function checkStep(from: Float64Array, to: Float64Array, t: number): Promise<{ theta: Float64Array; kept: number }> {
    const items = auctionsFor('step-check', t).slice(0, cfg.stepCheck);
    const score = async (theta: Float64Array) => {
      const perQuery: number[] = [];
      for (const { queryId, input } of items) {
        const table = policy.table(input);
        const plans = policy.samplePlans(input, theta, 8, deriveSeed(seed, 'step-check', t, queryId));
        const texts = plans.map((j) => policy.render(input, table.plans[j]!, table));
        const r = await scoreResponses(input, texts, queryId, userOf.get(queryId)!, fitsPctr ? pctr : null, user, cfg);
        perQuery.push(r.reduce((a, b) => a + b, 0) / r.length);
      }
      return perQuery;
    };
    const base = await score(from);
    for (const kept of [1, 0.5, 0.25]) {
      const theta = from.map((x, d) => x + kept * (to[d]! - x));
      const cand = await score(theta);
      if (clearsNoise(cand.map((x, k) => x - base[k]!), cfg.stepCheckMargin)) return { theta, kept };
    }
    return { theta: Float64Array.from(from), kept: 0 };
  }
  const userOf = new Map(train.map((q) => [q.id, q.profile_id]));

  for (let t = 1; t <= cfg.epochs; t++) {
    const dir = join(out, `epoch-${t}`);
    if (existsSync(policyPath(out, t)) && metrics.some((m) => m.epoch === t)) continue; // finished earlier
    mkdirSync(dir, { recursive: true });
    const previous = loadPolicy(out, t - 1);
    const thetaPrev = previous.kind === 'embedded' ? previous.theta : new Float64Array(NUM_FEATURES);
    const rule = await policyRule(previous, policy, `irpo@${t - 1}`);
    const seconds = { online: 0, reward_model: 0, pairs: 0, dpo: 0 };

    // ---- Phase 1a: deploy pi_{t-1} and collect the online data D_on (fresh bids, stage 'rm'). --
    opts.onPhase?.(t, 'online data');
    let t0 = performance.now();
    const online = auctionsFor('rm', t);
    await runSimulation({
      out: join(dir, 'online'),
      items: online,
      resume: true, // the sub-run is ours: always continue it
      concurrency: previous.kind === 'external' ? 8 : 1,
      episode: { rule, clicks: user, seed, samples: cfg.rmSamples, stage: 'rm', epoch: t },
      manifest: { kind: 'irpo-online', seed, config: { epoch: t, samples: cfg.rmSamples, queries: online.length, candidates: cfg.candidates }, versions: {} },
      onProgress: (d, n) => opts.onProgress?.('online', d, n),
    });
    const episodes = readFileSync(join(dir, 'online', 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Episode);
    seconds.online = (performance.now() - t0) / 1000;

    // ---- Phase 1b: fit the pCTR model psi_t on D_on, starting from psi_{t-1}. -----------------
    // A share of the queries is held out to measure the model (AUC, log loss, calibration).
    opts.onPhase?.(t, 'reward model');
    t0 = performance.now();
    const queryText = new Map(train.map((q) => [q.id, q.text]));
    const isHeldOut = heldOutQuery(seed, cfg.heldOutShare);
    let pctrEval: { auc: number; logLoss: number; ece: number; meanPrediction: number; positiveRate: number } | null = null;
    let pctrFit: EpochMetrics['pctr_fit'] = null;
    // pctrDataShare < 1 keeps only that share of the (non-held-out) queries' logs for fitting.
    const inFitShare = (qid: string) => cfg.pctrDataShare >= 1 || deriveSeed(seed, 'pctr-share', qid) / 2 ** 32 < cfg.pctrDataShare;
    if (fitsPctr) {
      const pctrFile = join(dir, 'pctr.json');
      const prevFile = join(out, `epoch-${t - 1}`, 'pctr.json');
      // The fit's summary is written before the model, so a resume that finds the model finds it too
      // and the epoch's metrics are those of a run never stopped.
      const fitFile = join(dir, 'pctr-fit.json');
      if (existsSync(pctrFile)) {
        pctr = PctrModel.load(pctrFile, pctrEncoder);
        if (existsSync(fitFile)) pctrFit = JSON.parse(readFileSync(fitFile, 'utf8')) as EpochMetrics['pctr_fit'];
      } else {
        pctr = existsSync(prevFile)
          ? PctrModel.load(prevFile, pctrEncoder)
          : PctrModel.create({ seed: deriveSeed(seed, 'pctr'), epochs: cfg.pctrEpochs, textDim: cfg.pctrTextDim, contextFeatures: cfg.pctrContext }, pctrEncoder);
        // Algorithm 1 fits psi_t on this epoch's data, starting from psi_{t-1}; 'all' also replays
        // the earlier epochs' logs, so the model does not drift toward the newest policy's habits.
        const history: Episode[] = cfg.pctrHistory === 'all' ? [] : episodes;
        if (cfg.pctrHistory === 'all') {
          for (let e = 1; e <= t; e++) {
            const f = join(out, `epoch-${e}`, 'online', 'episodes.jsonl');
            history.push(...readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Episode));
          }
        }
        // A share of the fitting queries' responses (not whole queries: psi_t scores new responses
        // to these same queries) is held out to stop the fit early and to calibrate it.
        const inValidation = (e: Episode) => deriveSeed(seed, 'pctr-validation', e.query_id, e.epoch ?? t, e.sample) / 2 ** 32 < cfg.pctrValidationShare;
        const keep = (q: string) => !isHeldOut(q) && inFitShare(q);
        const fitSet = onlineExamples(history.filter((e) => !inValidation(e)), userOf, queryText, keep);
        const valSet = onlineExamples(history.filter(inValidation), userOf, queryText, keep);
        // The control: the same exposures with their clicks permuted among them (validation ones
        // too), so the model can learn the click rate but nothing about which exposure gets clicked.
        if (cfg.reward === 'shuffled') {
          const all = [...fitSet, ...valSet];
          shuffleClicks(all, deriveSeed(seed, 'shuffle-clicks', t));
        }
        await pctr.prepare(fitSet);
        await pctr.prepare(valSet);
        const fit = pctr.fit(fitSet, { seed: deriveSeed(seed, 'pctr-fit', t), minSteps: cfg.pctrMinSteps, validation: valSet });
        const cal = cfg.pctrCalibration && valSet.length > 0 ? pctr.calibrate(valSet) : null;
        const clicksIn = (xs: readonly PctrExample[]) => xs.reduce((n, x) => n + (x.click ?? 0), 0);
        const seen = { fit_exposures: fitSet.length, fit_clicks: clicksIn(fitSet), validation_exposures: valSet.length, validation_clicks: clicksIn(valSet) };
        pctrFit = { passes: fit.losses.length, kept: fit.keptEpochs, steps: fit.steps, validation_log_loss: fit.validationLosses, calibration: cal ? { a: cal.a, c: cal.c } : null, ...seen };
        writeAtomic(fitFile, `${JSON.stringify(pctrFit)}\n`);
        pctr.save(pctrFile);
      }
      const held = onlineExamples(episodes, userOf, queryText, isHeldOut);
      if (held.length > 0) {
        await pctr.prepare(held);
        const ev = pctr.evaluate(held);
        pctrEval = { auc: ev.auc, logLoss: ev.logLoss, ece: ev.ece, meanPrediction: ev.meanPrediction, positiveRate: ev.positiveRate };
      }
    }
    seconds.reward_model = (performance.now() - t0) / 1000;

    // ---- Phase 2a: sample dpoSamples responses per query from pi_{t-1} with fresh bids, score
    // them with R under psi_t (or the true click probabilities for the Oracle), build pairs. ----
    opts.onPhase?.(t, 'preference pairs');
    t0 = performance.now();
    const pairsFile = join(dir, 'pairs.jsonl');
    const featurePairs: FeaturePair[] = [];
    const lines: string[] = [];
    const offline = auctionsFor('dpo', t);
    // An endpoint is asked for the next queries' samples while this one is scored (as many in
    // flight as phase 1 runs auctions), so a batching server (vLLM) sees concurrent requests; each
    // query's seed is its own, so the texts do not depend on the order they arrive in.
    const ahead = previous.kind === 'external' ? 8 : 1;
    const inFlight = new Map<number, Promise<string[]>>();
    const askFor = (k: number): Promise<string[]> => {
      const { queryId, input } = offline[k]!;
      const p = rule.sample(input, cfg.dpoSamples, { seed: deriveSeed(seed, 'dpo-sample', t, queryId) });
      p.catch(() => undefined); // awaited below in order; a failure surfaces there
      return p;
    };
    for (let k = 0; k < offline.length; k++) {
      const { queryId, input } = offline[k]!;
      // The embedded policy samples plans (so each response has its features); an endpoint samples text.
      const sampleSeed = deriveSeed(seed, 'dpo-sample', t, queryId);
      const table = previous.kind === 'embedded' ? policy.table(input) : null;
      const feats = table ? policy.features(input, table) : null;
      const plans = table ? policy.samplePlans(input, thetaPrev, cfg.dpoSamples, sampleSeed) : [];
      if (!table) for (let j = k; j < Math.min(offline.length, k + ahead); j++) if (!inFlight.has(j)) inFlight.set(j, askFor(j));
      const texts = table ? plans.map((j) => policy.render(input, table.plans[j]!, table)) : await inFlight.get(k)!;
      inFlight.delete(k);
      const rewards = await scoreResponses(input, texts, queryId, userOf.get(queryId)!, fitsPctr ? pctr : null, user, cfg);
      const pair = preferencePairs(rewards, cfg.deltaTh);
      if (pair) {
        const prompt = buildAdPrompt(input);
        for (const l of pair.losers) {
          if (feats) {
            const diff = new Float64Array(NUM_FEATURES);
            for (let d = 0; d < NUM_FEATURES; d++) diff[d] = feats[plans[pair.winner]! * NUM_FEATURES + d]! - feats[plans[l]! * NUM_FEATURES + d]!;
            featurePairs.push({ diff });
          }
          lines.push(JSON.stringify({ prompt, chosen: texts[pair.winner], rejected: texts[l], query_id: queryId, reward_chosen: rewards[pair.winner], reward_rejected: rewards[l] }));
        }
      }
      if (k % 200 === 0) opts.onProgress?.('pairs', k, offline.length);
    }
    writeAtomic(pairsFile, lines.length ? `${lines.join('\n')}\n` : '');
    seconds.pairs = (performance.now() - t0) / 1000;

    // ---- Phase 2b: DPO with pi_ref = pi_{t-1}: exact steps on theta, or the external trainer. ---
    opts.onPhase?.(t, 'DPO update');
    t0 = performance.now();
    let upd: { theta: Float64Array; lossBefore: number; lossAfter: number };
    let stepKept: number | null = null;
    let saved: Record<string, unknown>;
    if (previous.kind === 'external') {
      const r = await externalUpdate(external!, {
        epoch: t,
        dir,
        pairsFile,
        previous: { epoch: t - 1, model: previous.model, adapter: previous.adapter } satisfies ExternalPolicy,
        beta: cfg.dpo.beta,
        baseURL: previous.baseURL,
      });
      upd = { theta: thetaPrev, lossBefore: r.lossBefore, lossAfter: r.lossAfter };
      saved = { epoch: t, baseURL: previous.baseURL, params: previous.params, model: r.policy.model, adapter: r.policy.adapter };
    } else {
      upd = dpoUpdate(thetaPrev, featurePairs, cfg.dpo, deriveSeed(seed, 'dpo', t));
      // The step check: the DPO step is kept only as far as the reward model says it helps.
      if (cfg.stepCheck > 0) {
        const check = await checkStep(thetaPrev, upd.theta, t);
        upd = { ...upd, theta: check.theta };
        stepKept = check.kept;
      }
      saved = { epoch: t, theta: Array.from(upd.theta), features: FEATURES };
    }
    seconds.dpo = (performance.now() - t0) / 1000;

    // ---- Epoch metrics (of the online data under pi_{t-1}) and the checkpoint that ends the epoch.
    const perQuery = new Map<string, { rev: number; rew: number; n: number }>();
    const bids: number[] = [];
    const clicks: number[] = [];
    for (const e of episodes) {
      const q = perQuery.get(e.query_id) ?? { rev: 0, rew: 0, n: 0 };
      q.rev += e.revenue;
      q.rew += e.reward;
      q.n++;
      perQuery.set(e.query_id, q);
      for (const [id, b] of Object.entries(e.bids)) {
        bids.push(b);
        clicks.push(e.clicks.includes(id) ? 1 : 0);
      }
    }
    const mean = (f: (q: { rev: number; rew: number; n: number }) => number) => [...perQuery.values()].reduce((s, q) => s + f(q), 0) / Math.max(1, perQuery.size);
    const m: EpochMetrics = {
      epoch: t,
      revenue_per_query: mean((q) => q.rev / q.n),
      reward_per_query: mean((q) => q.rew / q.n),
      ads_per_response: episodes.reduce((s, e) => s + e.exposures.length, 0) / episodes.length,
      format_errors_per_response: episodes.reduce((s, e) => s + e.format_errors.length, 0) / episodes.length,
      bid_click_rank_correlation: spearman(bids, clicks),
      pctr_auc: pctrEval?.auc ?? null,
      pctr_log_loss: pctrEval?.logLoss ?? null,
      pctr_ece: pctrEval?.ece ?? null,
      pctr_mean_prediction: pctrEval?.meanPrediction ?? null,
      pctr_click_rate: pctrEval?.positiveRate ?? null,
      pctr_fit: pctrFit,
      pairs: lines.length,
      dpo_loss_before: upd.lossBefore,
      dpo_loss_after: upd.lossAfter,
      step_kept: stepKept,
      theta: previous.kind === 'embedded' ? Object.fromEntries(FEATURES.map((f, d) => [f, upd.theta[d]!])) : {},
      seconds,
    };
    writeAtomic(policyPath(out, t), `${JSON.stringify(saved)}\n`);
    const others = metrics.filter((x) => x.epoch !== t);
    metrics.length = 0;
    metrics.push(...others, m);
    metrics.sort((a, b) => a.epoch - b.epoch);
    writeAtomic(metricsPath, metrics.map((x) => JSON.stringify(x)).join('\n') + '\n');
  }

  writeAtomic(manifestPath, `${JSON.stringify({ ...manifest, status: 'complete' }, null, 2)}\n`);
  return metrics;
}

/**
 * The shuffled-click control: permute the click labels across the examples (in place), keeping
 * every exposure and the number of clicks, so a model fitted on them can learn the click rate and
 * nothing about which exposure is clicked.
 */
export function shuffleClicks(examples: PctrExample[], seed: number): void {
  const clicks = new Rng(seed).shuffle(examples.map((x) => x.click!));
  examples.forEach((x, k) => (x.click = clicks[k]!));
}

/** One labelled example per valid exposure of the online data (Eq. 4 sums over exposed ads). */
function onlineExamples(episodes: readonly Episode[], userOf: Map<string, string>, queryText: Map<string, string>, keep: (queryId: string) => boolean): PctrExample[] {
  const out: PctrExample[] = [];
  for (const e of episodes) {
    if (!keep(e.query_id)) continue;
    for (const x of e.exposures) {
      out.push({ query: queryText.get(e.query_id)!, response: e.response, userId: userOf.get(e.query_id)!, adId: x.id, click: e.clicks.includes(x.id) ? 1 : 0 });
    }
  }
  return out;
}

/** R (Eq. 8) of each response under the pCTR model, or under the user's true probabilities. */
/**
 * Whether paired gains are at least `margin` standard errors above zero (with margin 0: their mean
 * is not negative, the check as first written).
 */
export function clearsNoise(gains: readonly number[], margin: number): boolean {
  const n = gains.length;
  if (n === 0) return true; // nothing to check on: the step as Algorithm 1 takes it
  const mean = gains.reduce((a, b) => a + b, 0) / n;
  if (margin === 0) return mean >= 0;
  if (n < 2) return false;
  const sd = Math.sqrt(gains.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return mean > 0 && mean >= (margin * sd) / Math.sqrt(n);
}

async function scoreResponses(
  input: AuctionInput,
  texts: readonly string[],
  _queryId: string,
  userId: string,
  pctr: PctrModel | null,
  user: ParametricUser,
  cfg: IrpoConfig,
): Promise<number[]> {
  const parser = new ResponseParser(input.ads);
  const parsed = texts.map((t) => parser.parse(t));
  if (pctr === null) {
    const out: number[] = [];
    for (let m = 0; m < texts.length; m++) {
      const ctr = await user.clickProbabilities({ input, response: texts[m]!, parsed: parsed[m]! });
      out.push(reward(parsed[m]!, input.ads, ctr, cfg.rewardConfig).reward);
    }
    return out;
  }
  const examples: PctrExample[] = [];
  parsed.forEach((p, m) => p.exposures.forEach((e) => examples.push({ query: input.query, response: texts[m]!, userId, adId: e.id })));
  if (examples.length > 0) await pctr.prepare(examples);
  const pred = examples.length > 0 ? pctr.predict(examples) : new Float64Array(0);
  let k = 0;
  return parsed.map((p) => {
    const ctr: Record<string, number> = {};
    for (const e of p.exposures) ctr[e.id] = pred[k++]!;
    return reward(p, input.ads, ctr, cfg.rewardConfig).reward;
  });
}
