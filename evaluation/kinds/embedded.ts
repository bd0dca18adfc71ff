/** `embedded:NAME`: the embedded Ad-LLM before training, and the exact references computed from it. */
import type { ClickModel } from '../../mechanism/click-model.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import { didYouMean } from '../../mechanism/spec.ts';
import type { MechanismKind } from './kind.ts';

export interface EmbeddedSpec {
  kind: 'embedded';
  name: string;
}

/** Each embedded rule and its Table 2 label; the oracle references (they read the user's click model) say so. */
const RULES: Record<string, string> = {
  pretrained: 'Pretrained LLM',
  never: 'Never insert (null)',
  optimal: 'Exact KL optimum (beta = 0.1) (oracle)',
  ceiling: 'Per-query best response (ceiling) (oracle)',
  'best-in-class': 'Best in the policy class (oracle)',
};
const NAMES = Object.keys(RULES);

/** The rules that read only the prompt; the others read the user's click model (judges' references). */
const PROMPT_ONLY = new Set(['pretrained', 'never']);

/** `embedded:best-in-class` per (user, world seed, starting points): fitted once per process. */
const bestInClassMemo = new WeakMap<ClickModel, Map<string, Promise<AllocationRule>>>();

export const embeddedKind: MechanismKind<EmbeddedSpec> = {
  kind: 'embedded',
  usage: `embedded:${NAMES.join('|')}`,
  parse({ rest, fail }) {
    if (!/^[a-z][a-z0-9-]*$/.test(rest)) fail(`expected one of ${NAMES.map((n) => `embedded:${n}`).join(', ')}`);
    if (!(rest in RULES)) fail(`unknown embedded rule ${JSON.stringify(rest)}${didYouMean(rest, NAMES)} (expected ${NAMES.join(', ')})`);
    return { kind: 'embedded', name: rest };
  },
  format: (s) => `embedded:${s.name}`,
  async resolve(spec, ctx) {
    const { embeddedParts } = await import('../embedded-parts.ts');
    const { policy, user: worldUser } = embeddedParts(ctx.worldSeed);
    const user = ctx.user ?? worldUser;
    const { bestInClass, CeilingRule, OptimalRule } = await import('../../simulation/optimal.ts');
    if (spec.name === 'pretrained') return policy.rule();
    if (spec.name === 'never') {
      const { neverInsertRule } = await import('../../simulation/embedded-policy.ts');
      return neverInsertRule(policy);
    }
    if (spec.name === 'optimal') return new OptimalRule(policy, user);
    if (spec.name === 'ceiling') return new CeilingRule(policy, user);
    let perSeed = bestInClassMemo.get(user);
    if (!perSeed) bestInClassMemo.set(user, (perSeed = new Map()));
    const ws = ctx.worldSeed ?? 0;
    const starts = ctx.classStarts ?? [];
    const { embeddedWorld } = await import('../../simulation/world.ts');
    // Fitted on a bench's own auctions when it passes them (not memoized: a bench resolves once).
    if (ctx.classAuctions) return (await bestInClass(policy, user, embeddedWorld(ws), { starts, auctions: ctx.classAuctions })).rule;
    const key = JSON.stringify([ws, starts.map((t) => Array.from(t))]);
    let rule = perSeed.get(key);
    if (!rule) {
      rule = bestInClass(policy, user, embeddedWorld(ws), { starts }).then((r) => r.rule);
      perSeed.set(key, rule);
    }
    return rule;
  },
  label: (s) => RULES[s.name] ?? `embedded:${s.name}`,
  promptOnly: (s) => PROMPT_ONLY.has(s.name),
};
