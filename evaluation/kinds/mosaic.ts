/** `mosaic:SPEC[?n=20&rm=logs|oracle|DIR]`: MOSAIC's aggregation of n candidates of another rule. */
import { basename } from 'node:path';
import { positiveInt } from '../../mechanism/spec.ts';
import type { MechanismKind, InnerSpec } from './kind.ts';

export interface MosaicSpec {
  kind: 'mosaic';
  inner: InnerSpec;
  n: number;
  /**
   * The reward model scoring the candidates: absent or "logs", a pCTR model fitted on the world's
   * logged clicks (training/logged-pctr.ts); a training run's pCTR model (DIR); or "oracle", the
   * user's true click probabilities (an upper reference, labelled so).
   */
  rm?: string;
}

const DEFAULT_N = 20;

/** What the label says of the reward model. */
function rmLabel(rm: string | undefined): string {
  if (rm === undefined || rm === 'logs') return 'pCTR from logs';
  if (rm === 'oracle') return 'oracle';
  return `pCTR of ${basename(rm.replace(/\/+$/, '')) || rm}`;
}

export const mosaicKind: MechanismKind<MosaicSpec> = {
  kind: 'mosaic',
  usage: `mosaic:SPEC[?n=${DEFAULT_N}&rm=logs|oracle|DIR]`,
  wrapperKeys: ['n', 'rm'],
  parse(p) {
    const inner = p.inner as InnerSpec;
    const n = p.params.has('n') ? positiveInt(p, 'n', p.params.get('n')!) : DEFAULT_N;
    const rm = p.params.get('rm');
    if (rm !== undefined && rm.trim() === '') p.fail('rm must be "logs", "oracle" or a run directory');
    return rm === undefined ? { kind: 'mosaic', inner, n } : { kind: 'mosaic', inner, n, rm };
  },
  format: (s, formatInner) => `mosaic:${formatInner(s.inner)}?n=${s.n}${s.rm === undefined ? '' : `&rm=${encodeURIComponent(s.rm)}`}`,
  async resolve(spec, ctx) {
    const { wrapRule, oracleCtr } = await import('../../baselines/index.ts');
    const { pctrCtrFunction } = await import('../../training/logged-pctr.ts');
    const { logsPredictor, runPctrModel } = await import('../logged-predictor.ts');
    const inner = await ctx.resolveInner(spec.inner);
    if (spec.rm === 'oracle') {
      // The oracle reference asks for the user by name; nothing else here reads it.
      const { embeddedParts } = await import('../embedded-parts.ts');
      return wrapRule(spec, inner, { ctr: oracleCtr(ctx.user ?? embeddedParts(ctx.worldSeed).user) });
    }
    const model = spec.rm === undefined || spec.rm === 'logs' ? (await logsPredictor(ctx)).model : await runPctrModel(spec.rm, 'mosaic rm');
    return wrapRule(spec, inner, { ctr: pctrCtrFunction(model) });
  },
  // MOSAIC over the pretrained model is the paper's MOSAIC row: no need to name the inner rule.
  label: (s, ctx) => {
    const head = s.rm === 'oracle' ? `MOSAIC (n=${s.n}) (oracle)` : `MOSAIC (n=${s.n}, ${rmLabel(s.rm)})`;
    return s.inner.kind === 'embedded' && s.inner.name === 'pretrained' ? head : `${head} over ${ctx.labelInner(s.inner)}`;
  },
};
