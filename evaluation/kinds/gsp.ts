/** `gsp:SPEC[?k=1&quality=logs|oracle|DIR]`: the pre-generation position auction (GSP) over another rule. */
import { basename } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { positiveInt } from '../../mechanism/spec.ts';
import type { MechanismKind, InnerSpec } from './kind.ts';

export interface GspSpec {
  kind: 'gsp';
  inner: InnerSpec;
  k: number;
  /**
   * The quality (pre-generation pCTR) ads are ranked with: absent or "logs", the pCTR model fitted
   * on the world's logged clicks, asked about the ad shown alone; a training run's pCTR model (DIR),
   * asked the same; or "oracle", the simulated user's own pre-response click logit (an upper
   * reference, labelled so).
   */
  quality?: string;
}

const DEFAULT_K = 1;

export const gspKind: MechanismKind<GspSpec> = {
  kind: 'gsp',
  usage: `gsp:SPEC[?k=${DEFAULT_K}&quality=logs|oracle|DIR]`,
  wrapperKeys: ['k', 'quality'],
  parse(p) {
    const k = p.params.has('k') ? positiveInt(p, 'k', p.params.get('k')!) : DEFAULT_K;
    const quality = p.params.get('quality');
    if (quality !== undefined && quality.trim() === '') p.fail('quality must be "logs", "oracle" or a run directory');
    const spec: GspSpec = { kind: 'gsp', inner: p.inner as InnerSpec, k };
    if (quality !== undefined) spec.quality = quality;
    return spec;
  },
  format: (s, formatInner) => `gsp:${formatInner(s.inner)}?k=${s.k}${s.quality === undefined ? '' : `&quality=${encodeURIComponent(s.quality)}`}`,
  async resolve(spec, ctx) {
    const { wrapRule, oracleQuality } = await import('../../baselines/index.ts');
    const inner = await ctx.resolveInner(spec.inner);
    if (spec.quality === 'oracle') {
      // The oracle reference asks for the user by name; it needs the parametric user's weights.
      const { embeddedParts } = await import('../embedded-parts.ts');
      const user = ctx.user ?? embeddedParts(ctx.worldSeed).user;
      const u = user as unknown as Partial<Parameters<typeof oracleQuality>[0]>;
      if (typeof u.latentLogit !== 'function' || typeof u.config?.bias !== 'number') {
        throw new UsageError(`gsp quality=oracle reads the embedded parametric user's own weights; the user ${user.name} has none (use quality=logs or quality=DIR)`);
      }
      return wrapRule(spec, inner, { quality: oracleQuality(u as Parameters<typeof oracleQuality>[0]) });
    }
    const { preGenerationCtr } = await import('../../training/logged-pctr.ts');
    const { logsPredictor, runPctrModel } = await import('../logged-predictor.ts');
    const model = spec.quality === undefined || spec.quality === 'logs' ? (await logsPredictor(ctx)).model : await runPctrModel(spec.quality, 'gsp quality');
    return wrapRule(spec, inner, { quality: preGenerationCtr(model) });
  },
  label: (s, ctx) => {
    const q = s.quality === undefined || s.quality === 'logs' ? ', pCTR from logs)' : s.quality === 'oracle' ? ') (oracle)' : `, pCTR of ${basename(s.quality.replace(/\/+$/, '')) || s.quality})`;
    return `GSP (k=${s.k}${q} over ${ctx.labelInner(s.inner)}`;
  },
};
