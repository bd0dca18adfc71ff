/**
 * The click predictor of the published-mechanism baselines (inject:, segment:, prominence:):
 * the prompt-only guess by default, or `rm=DIR`, the pCTR model of a training run's last epoch
 * (as mosaic: loads it), applied to the sentence the ad would be shown in. Also their shared
 * parameter readers and label pieces.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import type { ParseInput } from '../../mechanism/spec.ts';
import type { CtrPredictor } from '../../baselines/prompt-ctr.ts';

/** The rm= parameter: absent (prompt-only) or a run directory. */
export function rmParam(p: ParseInput): string | undefined {
  const rm = p.params.get('rm');
  if (rm !== undefined && rm.trim() === '') p.fail('rm must be a training run directory');
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
export const predictorLabel = (rm: string | undefined): string => (rm === undefined ? 'prompt-only CTR' : 'pCTR run');

/** " over X" unless the inner rule is the pretrained embedded Ad-LLM. */
export function overInner(inner: { kind: string; name?: unknown }, labelInner: (s: never) => string): string {
  return inner.kind === 'embedded' && inner.name === 'pretrained' ? '' : ` over ${labelInner(inner as never)}`;
}

/** A baseline reads only the prompt when its predictor is the prompt-only guess (no rm=) and its inner rule reads only the prompt. */
export function opponentPromptOnly(s: { rm?: string; inner: unknown }, ctx: { promptOnlyInner(inner: never): boolean }): boolean {
  return s.rm === undefined && ctx.promptOnlyInner(s.inner as never);
}

/** The predictor of a spec: prompt-only, or the run's pCTR model on the ad's sentence. */
export async function predictorFor(kind: string, rm: string | undefined): Promise<CtrPredictor> {
  const { promptCtr, pctrPredictor } = await import('../../baselines/prompt-ctr.ts');
  if (rm === undefined) return promptCtr();
  const { PctrModel } = await import('../../training/pctr.ts');
  const { lexicalEncoder } = await import('../../simulation/text-encoder.ts');
  let e = 1;
  while (existsSync(join(rm, `epoch-${e + 1}`, 'pctr.json'))) e++;
  const file = join(rm, `epoch-${e}`, 'pctr.json');
  if (!existsSync(file)) throw new UsageError(`${kind} rm=${rm}: no pCTR model in that run (expected ${file})`);
  const model = PctrModel.load(file, lexicalEncoder());
  return pctrPredictor((examples) => model.predict(examples));
}
