/**
 * Checks a command makes before it starts work, so bad flags and damaged run directories end in
 * one line and exit 2 at once, not in a stack trace minutes later.
 */
import { UsageError } from '../lib/errors.ts';
import { makeDirs } from '../lib/fs.ts';
import { checkTrainDir } from '../simulation/run-files.ts';
import { lockRunDir } from '../simulation/run-lock.ts';

export interface TrainFlags {
  out: string;
  trainer: 'embedded' | 'external';
  reward: string;
  adLlm?: string;
  trainerCommand?: string;
  baseModel?: string;
  reload: string;
  encoder: string;
  resume?: boolean;
}

/** `train`'s flags and run directory; returns the release of the directory's lock. */
export async function preflightTrain(opts: TrainFlags): Promise<() => void> {
  if (opts.trainer === 'external') {
    if (opts.adLlm !== undefined && !opts.adLlm.trim().startsWith('openai:')) {
      throw new UsageError(`--ad-llm must be an openai: spec (openai:URL?model=BASE), got ${JSON.stringify(opts.adLlm)}`);
    }
    if (opts.adLlm !== undefined) (await import('../evaluation/kinds/index.ts')).parseSpec(opts.adLlm);
    if (opts.trainerCommand !== undefined && opts.trainerCommand.trim() === '') throw new UsageError('--trainer-command must not be empty');
    if (opts.baseModel !== undefined && opts.baseModel.trim() === '') throw new UsageError('--base-model must not be empty');
    if (!/^(vllm-lora|none|command:.+)$/.test(opts.reload)) {
      throw new UsageError(`--reload must be vllm-lora, none or command:CMD, got ${JSON.stringify(opts.reload)}`);
    }
  }
  const enc = opts.encoder.trim();
  if (enc !== 'lexical' && !/^onnx:.+/.test(enc)) {
    throw new UsageError(`--encoder: unknown encoder ${JSON.stringify(opts.encoder)}; expected lexical or onnx:all-minilm-l6-v2 (after bash scripts/fetch-models.sh)`);
  }
  if (enc !== 'lexical' && opts.reward === 'pctr') {
    const { createEncoder } = await import('../simulation/onnx-encoder.ts');
    try {
      await createEncoder(enc);
    } catch (e) {
      throw new UsageError(`--encoder ${enc}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  makeDirs(opts.out, '--out');
  const unlock = lockRunDir(opts.out);
  if (opts.resume) {
    try {
      checkTrainDir(opts.out);
    } catch (e) {
      unlock();
      throw e;
    }
  }
  return unlock;
}
