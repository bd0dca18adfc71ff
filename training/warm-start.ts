/**
 * The format warm start (epoch 0 of `train --trainer external --warm-start sft`).
 *
 * IRPO learns from reward differences between responses. A small pretrained model that never writes
 * a valid `@Ad Title@[Ad-ID]` (SmolLM2-135M copies the prompt's example) gives every response the
 * same reward, so the first epoch has no pairs to learn from. The paper's pretrained Ad-LLM already
 * follows the format; this round makes ours do so too, before IRPO starts, and is reported as its
 * own row so the IRPO gain is measured on top of it.
 *
 * The targets teach the format, not an allocation: for each training auction, one plan drawn from
 * the embedded stand-in's pretrained distribution (theta = 0) among those whose markup is right,
 * rendered with the auction's real candidates. Nothing here reads the user's click model.
 *
 *   DIR/epoch-0/warm-start/sft.jsonl      {"prompt","completion"} per training auction
 *   DIR/epoch-0/warm-start/trainer.json   the external-trainer manifest, objective sft
 *   DIR/epoch-0/warm-start/adapter/       the adapter, loaded as ADAPTER_PREFIX + "0"
 *   DIR/epoch-0/policy.json               rewritten to name the warm-started model: it is pi_0
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSeed } from '../lib/rng.ts';
import { buildAdPrompt } from '../mechanism/prompt.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { EmbeddedPolicy, NUM_FEATURES } from '../simulation/embedded-policy.ts';
import { externalUpdate, type ExternalTrainerConfig } from './external.ts';

/** Draws from pi_0 per auction before giving up on a plan with ads and taking the no-ad answer. */
const DRAWS = 32;

/** One well-formed target answer per auction, from pi_0's plans whose markup is right. */
export function warmStartExamples(auctions: readonly { queryId: string; input: AuctionInput }[], seed: number): { prompt: string; completion: string; query_id: string; ads: number }[] {
  const policy = new EmbeddedPolicy();
  const theta0 = new Float64Array(NUM_FEATURES);
  return auctions.map(({ queryId, input }) => {
    const table = policy.table(input);
    const draws = policy.samplePlans(input, theta0, DRAWS, deriveSeed(seed, 'warm-start', queryId));
    // The first well-formed draw keeps pi_0's own mix of answers with and without ads; the
    // no-ad plan is always well formed, so a target exists for every auction.
    const j = draws.find((k) => table.plans[k]!.ok.every(Boolean)) ?? table.plans.findIndex((p) => p.ads.length === 0);
    const plan = table.plans[j]!;
    return { prompt: buildAdPrompt(input), completion: policy.render(input, plan, table), query_id: queryId, ads: plan.ads.length };
  });
}

/**
 * Run the warm start once (resumable: a finished one is found by its adapter's policy file) and
 * return the saved pi_0 that names the warm-started model.
 */
export async function formatWarmStart(args: {
  out: string;
  auctions: readonly { queryId: string; input: AuctionInput }[];
  seed: number;
  external: ExternalTrainerConfig;
  base: { baseURL: string; params: Record<string, string>; model: string };
  beta: number;
}): Promise<{ epoch: 0; baseURL: string; params: Record<string, string>; model: string; adapter: string; examples: number }> {
  const dir = join(args.out, 'epoch-0', 'warm-start');
  mkdirSync(dir, { recursive: true });
  const done = join(dir, 'policy.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8'));
  const examples = warmStartExamples(args.auctions, args.seed);
  const file = join(dir, 'sft.jsonl');
  writeFileSync(file, `${examples.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const r = await externalUpdate(args.external, {
    epoch: 0,
    dir,
    pairsFile: file,
    previous: { epoch: 0, model: args.base.model, adapter: null },
    beta: args.beta,
    baseURL: args.base.baseURL,
    objective: 'sft',
  });
  const saved = { epoch: 0 as const, baseURL: args.base.baseURL, params: args.base.params, model: r.policy.model, adapter: r.policy.adapter!, examples: examples.length };
  writeFileSync(`${done}.tmp`, `${JSON.stringify(saved)}\n`);
  renameSync(`${done}.tmp`, done);
  return saved;
}
