/**
 * The click predictor of the published-mechanism baselines (inject:, segment:, prominence:):
 * the prompt-only guess by default, `rm=logs` (the pCTR model fitted on the world's logged
 * clicks) or `rm=DIR` (a training run's last pCTR model), a model applied to the sentence the ad
 * would be shown in. Also their shared
 * parameter readers and label pieces.
 */
import type { ClickModel } from '../../mechanism/click-model.ts';
import type { ParseInput } from '../../mechanism/spec.ts';
import type { CtrPredictor } from '../../baselines/prompt-ctr.ts';

/** The rm= parameter: absent (prompt-only), "logs" (pCTR fitted on logged clicks) or a run directory. */
export function rmParam(p: ParseInput): string | undefined {
  const rm = p.params.get('rm');
  if (rm !== undefined && rm.trim() === '') p.fail('rm must be "logs" or a training run directory');
  return rm;
}

/** A number parameter within (lo, hi), or a usage error naming it. */
export function numberParam(p: ParseInput, key: string, lo: number, hi: number, fallback: number): number {
  const raw = p.params.get(key);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < lo || v > hi) p.fail(`${key} must be a number in [${lo}, ${hi}], got ${JSON.stringify(raw)}`);
  return v;
}

export const rmSuffix = (rm: string | undefined): string => (rm === undefined ? '' : `&rm=${encodeURIComponent(rm)}`);

/** What the label says about the predictor. */
export const predictorLabel = (rm: string | undefined): string => (rm === undefined ? 'prompt-only CTR' : rm === 'logs' ? 'pCTR from logs' : 'pCTR run');

/** " over X" unless the inner rule is the pretrained embedded Ad-LLM. */
export function overInner(inner: { kind: string; name?: unknown }, labelInner: (s: never) => string): string {
  return inner.kind === 'embedded' && inner.name === 'pretrained' ? '' : ` over ${labelInner(inner as never)}`;
}

/** A baseline reads only the prompt when its predictor is the prompt-only guess (no rm=) and its inner rule reads only the prompt. */
export function opponentPromptOnly(s: { rm?: string; inner: unknown }, ctx: { promptOnlyInner(inner: never): boolean }): boolean {
  return s.rm === undefined && ctx.promptOnlyInner(s.inner as never);
}

/**
 * The predictor of a spec: prompt-only (no rm=); `rm=logs`, the pCTR model fitted on the world's
 * logged clicks (evaluation/logged-predictor.ts, as mosaic: and gsp: use by default); or `rm=DIR`,
 * a training run's last pCTR model. A model is asked about the sentence the ad would be shown in.
 */
export async function predictorFor(kind: string, rm: string | undefined, ctx: { user?: ClickModel; worldSeed?: number } = {}): Promise<CtrPredictor> {
  const { promptCtr, pctrPredictor } = await import('../../baselines/prompt-ctr.ts');
  if (rm === undefined) return promptCtr();
  const { logsPredictor, runPctrModel } = await import('../logged-predictor.ts');
  const model = rm === 'logs' ? (await logsPredictor(ctx)).model : await runPctrModel(rm, `${kind} rm`);
  return pctrPredictor((examples) => model.predict(examples));
}
