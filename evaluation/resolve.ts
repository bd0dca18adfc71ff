/**
 * From specs to running parts: `-m SPEC` to an allocation rule, `--user SPEC` to a click model,
 * and both together to the mechanism the property checks test. A spec given as text is parsed here
 * once; the kinds themselves are in evaluation/kinds/ and evaluation/users/.
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import { withRounds } from '../lib/rounds.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import type { ResolveContext } from './kinds/kind.ts';
import { parseSpec, resolveSpec, type MechanismSpec } from './kinds/index.ts';
import { parseUserSpec, resolveUserSpec, type UserSpec } from './users/index.ts';

export async function resolveUser(spec: UserSpec | string, opts: { worldSeed?: number } = {}): Promise<ClickModel> {
  return resolveUserSpec(typeof spec === 'string' ? parseUserSpec(spec) : spec, opts);
}

export async function resolveRule(
  spec: MechanismSpec | string,
  opts: Omit<ResolveContext, 'resolveInner'> = {},
): Promise<AllocationRule> {
  return resolveSpec(typeof spec === 'string' ? parseSpec(spec) : spec, opts);
}

/**
 * The rule with rounds for endpoint calls that still fail after their retries (lib/rounds.ts), so
 * a long `verify` outlasts a flaky endpoint as `simulate` does. Every other member is the rule's own.
 */
function survivingRounds(rule: AllocationRule): AllocationRule {
  const own: Partial<AllocationRule> = { sample: (input, n, o) => withRounds(() => rule.sample(input, n, o)) };
  if (rule.samplePriced) {
    const priced = rule.samplePriced.bind(rule);
    own.samplePriced = (input, n, o) => withRounds(() => priced(input, n, o));
  }
  if (rule.enumerate) {
    const enumerate = rule.enumerate.bind(rule);
    own.enumerate = (input) => withRounds(() => enumerate(input));
  }
  // Every other method runs on the rule itself (its state and private fields stay its own).
  return new Proxy(rule, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop as keyof AllocationRule];
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * A mechanism as the property checks see it: the rule, the user who clicks, the payment rule and
 * a generator of auctions. Auctions come from the embedded world's test queries: 2 to 10 of a
 * query's candidate ads, with fresh integer bids in 1..100 from the checks' own random stream.
 */
export async function resolveMechanismUnderTest(spec: MechanismSpec | string, opts: { user?: UserSpec | string; worldSeed?: number } = {}) {
  const { paymentOf } = await import('../mechanism/settlement.ts');
  const { candidateAds } = await import('../simulation/auctions.ts');
  const { embeddedWorld } = await import('../simulation/world.ts');
  const clicks = await resolveUser(opts.user ?? 'embedded:parametric', { worldSeed: opts.worldSeed ?? 0 });
  const rule = survivingRounds(await resolveRule(spec, { user: clicks, worldSeed: opts.worldSeed ?? 0 }));
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
