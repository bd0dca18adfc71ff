/**
 * The baselines' default predictor: a pCTR model learned from logged clicks, never read from the
 * user (issue #28). MOSAIC scores its candidates with it and GSP ranks its ads with it, as a
 * platform would with the click model it trained on its own history.
 *
 * The logs are what the platform saw before any mechanism of the bench ran: the pretrained Ad-LLM
 * (the logging policy) answering the first `queries` training queries of the world, `samples`
 * responses each with their own bids (stage 'logs'), and the clicks the user drew on them. Only
 * the 0/1 clicks of the logged episodes reach the model (their click probabilities, rewards and
 * expected revenues are dropped before fitting); the simulation that draws the clicks is the one
 * place the user is read, as in `simulate`. The model is the one IRPO fits (training/pctr.ts):
 * the same network, encoder, context features, early stopping on 10% of the logged responses and
 * Platt calibration on them, fitted once per (user, world seed, configuration) in a process.
 *
 * GSP decides before a response exists, so it asks the same model about the ad shown alone: the
 * canonical response `insertion(ad)` (the ad's title and id as the only text), for the query and
 * user of the auction (`preGenerationCtr`).
 */
import { insertion } from '../mechanism/format.ts';
import type { ClickModel } from '../mechanism/click-model.ts';
import type { AllocationRule, AuctionInput, BiddedAd } from '../mechanism/types.ts';
import { deriveSeed } from '../lib/rng.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { runAuction } from '../simulation/episode.ts';
import { lexicalEncoder } from '../simulation/text-encoder.ts';
import type { Ad, Profile, Query } from '../mechanism/types.ts';
import type { PctrExample } from './pctr-features.ts';
import { PctrModel } from './pctr.ts';

export interface LogsConfig {
  /** Training queries of the world that were logged (the first ones of the split). */
  queries: number;
  /** Responses of the logging policy per query, each with its clicks. */
  samples: number;
  /** Candidate ads per logged auction. */
  candidates: number;
  /** Seed of the logged bids, responses and clicks, and of the fit. */
  seed: number;
}

export const DEFAULT_LOGS: LogsConfig = { queries: 1000, samples: 4, candidates: 10, seed: 0 };

export interface LoggedPctr {
  model: PctrModel;
  /** What the model was fitted on, for labels and reports. */
  logs: LogsConfig & { episodes: number; exposures: number; clicks: number };
}

/** The logged exposures, one example per valid exposure, labelled with the drawn click only. */
export async function logExamples(
  user: ClickModel,
  logger: AllocationRule,
  world: { queries: readonly Query[]; profiles: readonly Profile[]; catalog: readonly Ad[] },
  cfg: LogsConfig,
  /** Called every 32 logged queries: the caller frees what it caches per auction (plan tables). */
  release: () => void = () => {},
): Promise<{ examples: PctrExample[]; episodes: number; validation: (e: PctrExample, k: number) => boolean }> {
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const train = world.queries.filter((q) => q.split === 'train').slice(0, cfg.queries);
  const examples: PctrExample[] = [];
  const responseOf: number[] = [];
  let episodes = 0;
  for (const [k, q] of train.entries()) {
    if (k % 32 === 31) release();
    const input = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: cfg.seed, stage: 'logs', epoch: 0, candidates: cfg.candidates });
    const eps = await runAuction({ queryId: q.id, input, rule: logger, clicks: user, seed: cfg.seed, samples: cfg.samples, stage: 'logs', epoch: 0 });
    for (const e of eps) {
      // Only what a log holds: the query, the user's id, the response, which ads it showed and
      // which of them were clicked.
      for (const x of e.exposures) {
        examples.push({ query: q.text, response: e.response, userId: q.profile_id, adId: x.id, click: e.clicks.includes(x.id) ? 1 : 0 });
        responseOf.push(episodes);
      }
      episodes++;
    }
  }
  // A tenth of the logged responses (whole responses, seeded) stop the fit early and calibrate it.
  const validation = (_e: PctrExample, k: number) => deriveSeed(cfg.seed, 'logs-validation', responseOf[k]!) / 2 ** 32 < 0.1;
  return { examples, episodes, validation };
}

/** Fit the pCTR model on the logs, as IRPO fits it on its online data. */
export async function fitLoggedPctr(
  user: ClickModel,
  logger: AllocationRule,
  world: { queries: readonly Query[]; profiles: readonly Profile[]; catalog: readonly Ad[] },
  cfg: LogsConfig = DEFAULT_LOGS,
  release: () => void = () => {},
): Promise<LoggedPctr> {
  const { examples, episodes, validation } = await logExamples(user, logger, world, cfg, release);
  release();
  const fitSet = examples.filter((e, k) => !validation(e, k));
  const valSet = examples.filter((e, k) => validation(e, k));
  const model = PctrModel.create({ seed: deriveSeed(cfg.seed, 'logs-pctr'), epochs: 4, textDim: 128, contextFeatures: true }, lexicalEncoder());
  await model.prepare(fitSet);
  await model.prepare(valSet);
  model.fit(fitSet, { seed: deriveSeed(cfg.seed, 'logs-pctr-fit'), minSteps: 100, validation: valSet });
  if (valSet.length > 0) model.calibrate(valSet);
  // From here on it scores responses auction by auction, and a response's features are reused only
  // within its auction: a small cache (about 7,000 texts) instead of 256 MB of every response a long
  // bench scores (issue #25).
  model.capTextCache(4);
  const clicks = examples.reduce((s, e) => s + (e.click ?? 0), 0);
  return { model, logs: { ...cfg, episodes, exposures: examples.length, clicks } };
}

/** One fit per (user, world seed, logs configuration) in a process; every baseline shares it. */
const memo = new WeakMap<ClickModel, Map<string, Promise<LoggedPctr>>>();

export function loggedPctr(
  user: ClickModel,
  worldSeed: number,
  logger: () => AllocationRule,
  world: () => { queries: readonly Query[]; profiles: readonly Profile[]; catalog: readonly Ad[] },
  cfg: LogsConfig = DEFAULT_LOGS,
  release: () => void = () => {},
): Promise<LoggedPctr> {
  let byKey = memo.get(user);
  if (!byKey) memo.set(user, (byKey = new Map()));
  const key = JSON.stringify([worldSeed, cfg]);
  let hit = byKey.get(key);
  if (!hit) {
    hit = fitLoggedPctr(user, logger(), world(), cfg, release);
    byKey.set(key, hit);
    hit.catch(() => byKey.delete(key));
  }
  return hit;
}

/** Click probabilities of a response's exposures under a pCTR model (MOSAIC's reward model). */
export function pctrCtrFunction(model: PctrModel) {
  return async (input: AuctionInput, response: string, parsed: { exposures: readonly { id: string }[] }): Promise<Record<string, number>> => {
    if (parsed.exposures.length === 0) return {};
    const p = model.predict(parsed.exposures.map((x) => ({ query: input.query, response, userId: input.profile.id, adId: x.id })));
    return Object.fromEntries(parsed.exposures.map((x, k) => [x.id, p[k]!]));
  };
}

/** GSP's pre-generation quality: the model's click probability of the ad shown alone. */
export function preGenerationCtr(model: PctrModel): (input: AuctionInput, ad: BiddedAd) => number {
  return (input, ad) => model.predict([{ query: input.query, response: insertion(ad), userId: input.profile.id, adId: ad.id }])[0]!;
}
