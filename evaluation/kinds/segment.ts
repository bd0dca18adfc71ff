/** `segment:SPEC[?segments=1&rm=logs|DIR]`: the segment auction (Hajiaghayi et al., NeurIPS 2024) over another rule (baselines/segment.ts). */
import { positiveInt } from '../../mechanism/spec.ts';
import type { MechanismKind, InnerSpec } from './kind.ts';
import { overInner, predictorFor, predictorLabel, rmParam, rmSuffix, opponentPromptOnly } from './opponent-ctr.ts';

export interface SegmentSpec {
  kind: 'segment';
  inner: InnerSpec;
  segments: number;
  rm?: string;
}

export const segmentKind: MechanismKind<SegmentSpec> = {
  kind: 'segment',
  usage: 'segment:SPEC[?segments=1&rm=logs|DIR]',
  wrapperKeys: ['segments', 'rm'],
  parse(p) {
    const segments = p.params.has('segments') ? positiveInt(p, 'segments', p.params.get('segments')!) : 1;
    if (segments > 8) p.fail(`segments must be at most 8, got ${segments}`);
    const spec: SegmentSpec = { kind: 'segment', inner: p.inner as InnerSpec, segments };
    const rm = rmParam(p);
    if (rm !== undefined) spec.rm = rm;
    return spec;
  },
  format: (s, formatInner) => `segment:${formatInner(s.inner)}?segments=${s.segments}${rmSuffix(s.rm)}`,
  async resolve(spec, ctx) {
    const inner = await ctx.resolveInner(spec.inner);
    const { SegmentRule } = await import('../../baselines/segment.ts');
    return new SegmentRule(inner, await predictorFor('segment', spec.rm, ctx), { segments: spec.segments });
  },
  label: (s, ctx) => `Segment auction (${s.segments === 1 ? '' : `K=${s.segments}, `}${predictorLabel(s.rm)})${overInner(s.inner, ctx.labelInner)}`,
  promptOnly: opponentPromptOnly,
};
