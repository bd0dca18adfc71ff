/** `token:SPEC`: the token auction (Dütting et al., WWW 2024) over a rule that gives its response distribution (baselines/token.ts). */
import { UsageError } from '../../lib/errors.ts';
import type { MechanismKind, InnerSpec } from './kind.ts';
import { overInner } from './opponent-ctr.ts';

export interface TokenSpec {
  kind: 'token';
  inner: InnerSpec;
}

export const tokenKind: MechanismKind<TokenSpec> = {
  kind: 'token',
  usage: 'token:SPEC',
  wrapperKeys: [],
  parse: (p) => ({ kind: 'token', inner: p.inner as InnerSpec }),
  format: (s, formatInner) => `token:${formatInner(s.inner)}`,
  async resolve(spec, ctx) {
    const inner = await ctx.resolveInner(spec.inner);
    if (typeof inner.enumerate !== 'function') {
      throw new UsageError(`token:${inner.name}: the token auction aggregates the base rule's response distributions, and this rule gives none (no enumerate, no log-probabilities); use a base rule of the embedded world (embedded:, run:) or a module: rule with enumerate`);
    }
    const { TokenRule } = await import('../../baselines/token.ts');
    return new TokenRule(inner);
  },
  label: (s, ctx) => `Token auction (linear aggregation, no CTR model)${overInner(s.inner, ctx.labelInner)}`,
  // No click predictor: it reads only the prompt exactly when its inner rule does.
  promptOnly: (s, ctx) => ctx.promptOnlyInner(s.inner),
};
