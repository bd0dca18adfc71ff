/**
 * From spec strings to running parts: `-m SPEC` to an allocation rule, `--user SPEC` to a click
 * model. Kinds whose implementation has not landed say so with a usage error (exit 2).
 */
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClickModel } from '../mechanism/click-model.ts';
import { UsageError } from '../mechanism/errors.ts';
import { formatSpec, parseSpec, type MechanismSpec } from '../mechanism/spec.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { bestInClass, CeilingRule, OptimalRule } from '../simulation/optimal.ts';
import { ParametricUser } from '../simulation/user-model.ts';

/** The embedded world's shared parts: one policy (plan tables are cached) and one user per world seed. */
const embedded = new Map<number, { policy: EmbeddedPolicy; user: ParametricUser }>();
let sharedPolicy: EmbeddedPolicy | undefined;
export function embeddedParts(worldSeed = 0) {
  let parts = embedded.get(worldSeed);
  if (!parts) {
    parts = { policy: (sharedPolicy ??= new EmbeddedPolicy()), user: new ParametricUser({ worldSeed }) };
    embedded.set(worldSeed, parts);
  }
  return parts;
}

/** `embedded:best-in-class` per (user, world seed, starting points): fitted once per process. */
const bestInClassMemo = new WeakMap<ClickModel, Map<string, Promise<AllocationRule>>>();

export async function resolveUser(spec: string, opts: { worldSeed?: number } = {}): Promise<ClickModel> {
  if (spec === 'embedded:parametric' || spec === 'embedded') return embeddedParts(opts.worldSeed).user;
  // embedded:parametric?encoder=onnx:all-minilm-l6-v2: the same user judging relevance through
  // another text encoder (semantic similarity instead of shared words).
  const withEncoder = /^embedded:parametric\?encoder=(.+)$/.exec(spec);
  if (withEncoder) {
    const { createEncoder } = await import('../simulation/onnx-encoder.ts');
    try {
      return new ParametricUser({ worldSeed: opts.worldSeed ?? 0 }, await createEncoder(decodeURIComponent(withEncoder[1]!)));
    } catch (e) {
      throw new UsageError(`user spec ${JSON.stringify(spec)}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    }
  }
  if (spec.startsWith('local:')) return (await import('../simulation/backends/local.ts')).createLocalJudgeClickModel(spec);
  if (spec.startsWith('openai:')) {
    const { createJudgeClickModel, parseJudgeSpec } = await import('../simulation/judge.ts');
    return createJudgeClickModel(parseJudgeSpec(spec));
  }
  throw new UsageError(`bad user spec ${JSON.stringify(spec)}: expected embedded:parametric[?encoder=onnx:all-minilm-l6-v2], openai:URL?model=NAME or local:NAME|PATH.gguf`);
}

async function loadModule(path: string, spec: string): Promise<AllocationRule> {
  const file = resolvePath(path);
  if (!existsSync(file)) throw new UsageError(`bad mechanism spec ${JSON.stringify(spec)}: no such file ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`${file}: cannot load the module (${(e as Error).message.split('\n')[0]})`);
  }
  const rule = mod.default as Partial<AllocationRule> | undefined;
  if (!rule || typeof rule.sample !== 'function') throw new UsageError(`${file}: the default export must be an allocation rule with a sample(input, n, opts) method`);
  const payment = rule.payment;
  if (payment !== undefined && payment !== 'first-price-click' && payment !== 'first-price-impression') {
    throw new UsageError(`${file}: field "payment": must be "first-price-click" or "first-price-impression"`);
  }
  const name = typeof rule.name === 'string' && rule.name.trim() !== '' ? rule.name : `module:${path}`;
  const out: AllocationRule = { name, sample: rule.sample.bind(rule) };
  if (payment !== undefined) out.payment = payment;
  if (typeof rule.enumerate === 'function') out.enumerate = rule.enumerate.bind(rule);
  return out;
}

/** MOSAIC's reward model from a training run: the pCTR model of its last epoch. */
async function pctrCtr(dir: string) {
  const { existsSync: exists } = await import('node:fs');
  const { join } = await import('node:path');
  const { PctrModel } = await import('../training/pctr.ts');
  const { lexicalEncoder } = await import('../simulation/text-encoder.ts');
  let e = 1;
  while (exists(join(dir, `epoch-${e + 1}`, 'pctr.json'))) e++;
  const file = join(dir, `epoch-${e}`, 'pctr.json');
  if (!exists(file)) throw new UsageError(`mosaic rm=${dir}: no pCTR model in that run (expected ${file})`);
  const model = PctrModel.load(file, lexicalEncoder());
  return async (input: { query: string; profile: { id: string } }, response: string, parsed: { exposures: { id: string }[] }) => {
    if (parsed.exposures.length === 0) return {};
    const p = model.predict(parsed.exposures.map((x) => ({ query: input.query, response, userId: input.profile.id, adId: x.id })));
    return Object.fromEntries(parsed.exposures.map((x, k) => [x.id, p[k]!]));
  };
}

export async function resolveRule(
  specText: string,
  opts: { user?: ClickModel; worldSeed?: number; /** Extra starting thetas of best-in-class's ascent (rules of the same class on the bench). */ classStarts?: readonly ArrayLike<number>[] } = {},
): Promise<AllocationRule> {
  const spec: MechanismSpec = parseSpec(specText);
  switch (spec.kind) {
    case 'embedded': {
      const { policy, user: worldUser } = embeddedParts(opts.worldSeed);
      const user = opts.user ?? worldUser;
      if (spec.name === 'pretrained') return policy.rule();
      if (spec.name === 'optimal') return new OptimalRule(policy, user);
      if (spec.name === 'ceiling') return new CeilingRule(policy, user);
      if (spec.name === 'best-in-class') {
        let perSeed = bestInClassMemo.get(user);
        if (!perSeed) bestInClassMemo.set(user, (perSeed = new Map()));
        const ws = opts.worldSeed ?? 0;
        const starts = opts.classStarts ?? [];
        const key = JSON.stringify([ws, starts.map((t) => Array.from(t))]);
        let rule = perSeed.get(key);
        if (!rule) {
          const { embeddedWorld } = await import('../simulation/world.ts');
          rule = bestInClass(policy, user, embeddedWorld(ws), { starts }).then((r) => r.rule);
          perSeed.set(key, rule);
        }
        return rule;
      }
      throw new UsageError(`bad mechanism spec ${JSON.stringify(specText)}: unknown embedded rule "${spec.name}" (expected pretrained, optimal, ceiling or best-in-class)`);
    }
    case 'openai': {
      const { createOpenAIRule, openAIConfigFromParams } = await import('../simulation/backends/openai.ts');
      return createOpenAIRule(openAIConfigFromParams(spec.baseURL, spec.params));
    }
    case 'module':
      return loadModule(spec.path, specText);
    case 'local':
      return (await import('../simulation/backends/local.ts')).createLocalRule(`local:${spec.model}`);
    case 'mosaic':
    case 'gsp': {
      const { wrapRule, oracleCtr } = await import('../baselines/index.ts');
      const inner = await resolveRule(formatSpec(spec.inner), opts);
      if (spec.kind === 'gsp') return wrapRule(spec, inner);
      const user = opts.user ?? embeddedParts(opts.worldSeed).user;
      return wrapRule(spec, inner, { ctr: spec.rm === undefined || spec.rm === 'oracle' ? oracleCtr(user) : await pctrCtr(spec.rm) });
    }
    case 'run': {
      const { loadPolicy, policyRule } = await import('../training/irpo.ts');
      (await import('../simulation/run-files.ts')).checkRunPolicy(spec.dir, spec.epoch);
      const saved = loadPolicy(spec.dir, spec.epoch);
      return policyRule(saved, embeddedParts().policy, `run:${spec.dir}@${saved.epoch}`);
    }
    default: {
      const unknown: never = spec;
      throw new UsageError(`mechanism ${JSON.stringify(unknown)}: unknown kind`);
    }
  }
}

/**
 * A mechanism as the property checks see it: the rule, the user who clicks, the payment rule and
 * a generator of auctions. Auctions come from the embedded world's test queries: 2 to 10 of a
 * query's candidate ads, with fresh integer bids in 1..100 from the checks' own random stream.
 */
export async function resolveMechanismUnderTest(specText: string, opts: { user?: string; worldSeed?: number } = {}) {
  const { paymentOf } = await import('../mechanism/settlement.ts');
  const { candidateAds } = await import('../simulation/auctions.ts');
  const { embeddedWorld } = await import('../simulation/world.ts');
  const clicks = await resolveUser(opts.user ?? 'embedded:parametric', { worldSeed: opts.worldSeed ?? 0 });
  const rule = await resolveRule(specText, { user: clicks, worldSeed: opts.worldSeed ?? 0 });
  const world = embeddedWorld(opts.worldSeed ?? 0);
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const test = world.queries.filter((q) => q.split === 'test');
  return {
    name: rule.name,
    rule,
    clicks,
    payment: paymentOf(rule),
    instances: (rng: { int(a: number, b: number): number; shuffle<T>(x: readonly T[]): T[] }) => {
      const q = test[rng.int(0, test.length - 1)]!;
      const profile = profiles.get(q.profile_id)!;
      const k = rng.int(2, 10);
      const ads = rng.shuffle(candidateAds(q, profile, world.catalog, 10)).slice(0, k);
      return { query: q.text, profile, ads: ads.map((a) => ({ id: a.id, title: a.title, bid: rng.int(1, 100) })) };
    },
  };
}
