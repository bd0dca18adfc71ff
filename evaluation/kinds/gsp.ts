/** `gsp:SPEC[?k=1]`: the pre-generation position auction (GSP) over another rule. */
import { positiveInt } from '../../mechanism/spec.ts';
import type { MechanismSpec } from './index.ts';
import type { MechanismKind } from './kind.ts';

export interface GspSpec {
  kind: 'gsp';
  inner: MechanismSpec;
  k: number;
}

const DEFAULT_K = 1;

export const gspKind: MechanismKind<GspSpec> = {
  kind: 'gsp',
  usage: `gsp:SPEC[?k=${DEFAULT_K}]`,
  wrapperKeys: ['k'],
  parse(p) {
    const k = p.params.has('k') ? positiveInt(p, 'k', p.params.get('k')!) : DEFAULT_K;
    return { kind: 'gsp', inner: p.inner as MechanismSpec, k };
  },
  format: (s, formatInner) => `gsp:${formatInner(s.inner)}?k=${s.k}`,
  async resolve(spec, ctx) {
    const { wrapRule } = await import('../../baselines/index.ts');
    return wrapRule(spec, await ctx.resolveInner(spec.inner));
  },
  label: (s, ctx) => `GSP (k=${s.k}) over ${ctx.labelInner(s.inner)}`,
};
