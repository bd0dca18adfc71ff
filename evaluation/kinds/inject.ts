/** `inject:SPEC[?rm=logs|DIR&inject=template|llm&reserve=R]`: generate-then-inject over another rule (baselines/inject.ts). */
import { UsageError } from '../../lib/errors.ts';
import type { MechanismKind, InnerSpec } from './kind.ts';
import { numberParam, overInner, predictorFor, predictorLabel, rmParam, rmSuffix, opponentPromptOnly } from './opponent-ctr.ts';

export interface InjectSpec {
  kind: 'inject';
  inner: InnerSpec;
  inject: 'template' | 'llm';
  /** Least eCPM; absent: the per-ad cost of Eq. 8. */
  reserve?: number;
  rm?: string;
}

export const injectKind: MechanismKind<InjectSpec> = {
  kind: 'inject',
  usage: 'inject:SPEC[?rm=logs|DIR&inject=template|llm&reserve=R]',
  wrapperKeys: ['rm', 'inject', 'reserve'],
  parse(p) {
    const mode = p.params.get('inject') ?? 'template';
    if (mode !== 'template' && mode !== 'llm') p.fail(`inject must be "template" or "llm", got ${JSON.stringify(mode)}`);
    const spec: InjectSpec = { kind: 'inject', inner: p.inner as InnerSpec, inject: mode as 'template' | 'llm' };
    if (p.params.has('reserve')) spec.reserve = numberParam(p, 'reserve', 0, 1e6, 0);
    const rm = rmParam(p);
    if (rm !== undefined) spec.rm = rm;
    return spec;
  },
  format: (s, formatInner) => `inject:${formatInner(s.inner)}?inject=${s.inject}${s.reserve === undefined ? '' : `&reserve=${s.reserve}`}${rmSuffix(s.rm)}`,
  async resolve(spec, ctx) {
    const inner = await ctx.resolveInner(spec.inner);
    if (spec.inject === 'llm' && typeof inner.enumerate === 'function') {
      throw new UsageError(`inject=llm: ${inner.name} renders fixed responses and cannot rewrite an answer; use inject=template, or a base rule that writes from a prompt (openai:, local:, module:)`);
    }
    const { InjectRule } = await import('../../baselines/inject.ts');
    return new InjectRule(inner, await predictorFor('inject', spec.rm, ctx), { inject: spec.inject, ...(spec.reserve === undefined ? {} : { reserve: spec.reserve }) });
  },
  label: (s, ctx) => `Inject${s.inject === 'llm' ? ', LLM rewrite' : ''} (${predictorLabel(s.rm)}${s.reserve === undefined ? '' : `, reserve ${s.reserve}`})${overInner(s.inner, ctx.labelInner)}`,
  promptOnly: opponentPromptOnly,
};
