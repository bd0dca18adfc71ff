/** `prominence:SPEC[?tau=0.2&rm=logs|DIR]`: the prominence auction (Dubey et al., KDD 2024) over another rule (baselines/prominence.ts). */
import type { MechanismKind, InnerSpec } from './kind.ts';
import { numberParam, overInner, predictorFor, predictorLabel, rmParam, rmSuffix, opponentPromptOnly } from './opponent-ctr.ts';

export interface ProminenceSpec {
  kind: 'prominence';
  inner: InnerSpec;
  tau: number;
  rm?: string;
}

const DEFAULT_TAU = 0.2;

export const prominenceKind: MechanismKind<ProminenceSpec> = {
  kind: 'prominence',
  usage: `prominence:SPEC[?tau=${DEFAULT_TAU}&rm=logs|DIR]`,
  wrapperKeys: ['tau', 'rm'],
  parse(p) {
    const tau = numberParam(p, 'tau', 1e-6, 0.999999, DEFAULT_TAU);
    const spec: ProminenceSpec = { kind: 'prominence', inner: p.inner as InnerSpec, tau };
    const rm = rmParam(p);
    if (rm !== undefined) spec.rm = rm;
    return spec;
  },
  format: (s, formatInner) => `prominence:${formatInner(s.inner)}?tau=${s.tau}${rmSuffix(s.rm)}`,
  async resolve(spec, ctx) {
    const inner = await ctx.resolveInner(spec.inner);
    const { ProminenceRule } = await import('../../baselines/prominence.ts');
    return new ProminenceRule(inner, await predictorFor('prominence', spec.rm, ctx), { tau: spec.tau });
  },
  label: (s, ctx) => `Prominence auction (${s.tau === DEFAULT_TAU ? '' : `tau=${s.tau}, `}${predictorLabel(s.rm)})${overInner(s.inner, ctx.labelInner)}`,
  promptOnly: opponentPromptOnly,
};
