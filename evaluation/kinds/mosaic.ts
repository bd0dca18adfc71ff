/** `mosaic:SPEC[?n=20&rm=oracle|DIR]`: MOSAIC's aggregation of n candidates of another rule. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { positiveInt } from '../../mechanism/spec.ts';
import type { MechanismSpec } from './index.ts';
import type { MechanismKind } from './kind.ts';

export interface MosaicSpec {
  kind: 'mosaic';
  inner: MechanismSpec;
  n: number;
  /** The reward model scoring the candidates: "oracle" (the user's click probabilities) or a training run's pCTR model. */
  rm?: string;
}

const DEFAULT_N = 20;

/** MOSAIC's reward model from a training run: the pCTR model of its last epoch. */
async function pctrCtr(dir: string) {
  const { PctrModel } = await import('../../training/pctr.ts');
  const { lexicalEncoder } = await import('../../simulation/text-encoder.ts');
  let e = 1;
  while (existsSync(join(dir, `epoch-${e + 1}`, 'pctr.json'))) e++;
  const file = join(dir, `epoch-${e}`, 'pctr.json');
  if (!existsSync(file)) throw new UsageError(`mosaic rm=${dir}: no pCTR model in that run (expected ${file})`);
  const model = PctrModel.load(file, lexicalEncoder());
  return async (input: { query: string; profile: { id: string } }, response: string, parsed: { exposures: { id: string }[] }) => {
    if (parsed.exposures.length === 0) return {};
    const p = model.predict(parsed.exposures.map((x) => ({ query: input.query, response, userId: input.profile.id, adId: x.id })));
    return Object.fromEntries(parsed.exposures.map((x, k) => [x.id, p[k]!]));
  };
}

export const mosaicKind: MechanismKind<MosaicSpec> = {
  kind: 'mosaic',
  usage: `mosaic:SPEC[?n=${DEFAULT_N}&rm=oracle|DIR]`,
  wrapperKeys: ['n', 'rm'],
  parse(p) {
    const inner = p.inner as MechanismSpec;
    const n = p.params.has('n') ? positiveInt(p, 'n', p.params.get('n')!) : DEFAULT_N;
    const rm = p.params.get('rm');
    if (rm !== undefined && rm.trim() === '') p.fail('rm must be "oracle" or a run directory');
    return rm === undefined ? { kind: 'mosaic', inner, n } : { kind: 'mosaic', inner, n, rm };
  },
  format: (s, formatInner) => `mosaic:${formatInner(s.inner)}?n=${s.n}${s.rm === undefined ? '' : `&rm=${encodeURIComponent(s.rm)}`}`,
  async resolve(spec, ctx) {
    const { wrapRule, oracleCtr } = await import('../../baselines/index.ts');
    const inner = await ctx.resolveInner(spec.inner);
    const { embeddedParts } = await import('../embedded-parts.ts');
    const user = ctx.user ?? embeddedParts(ctx.worldSeed).user;
    return wrapRule(spec, inner, { ctr: spec.rm === undefined || spec.rm === 'oracle' ? oracleCtr(user) : await pctrCtr(spec.rm) });
  },
  // MOSAIC over the pretrained model is the paper's MOSAIC row: no need to name the inner rule.
  label: (s, ctx) =>
    s.inner.kind === 'embedded' && s.inner.name === 'pretrained' ? `MOSAIC (n=${s.n})` : `MOSAIC (n=${s.n}) over ${ctx.labelInner(s.inner)}`,
};
