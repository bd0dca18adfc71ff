/** `local:NAME|PATH.gguf[?k=v…]`: a GGUF model in-process judging as the user. */
import { localKind, type LocalSpec } from '../kinds/local.ts';
import type { UserKind } from './kind.ts';

export const localJudge: UserKind<LocalSpec> = {
  kind: 'local',
  usage: 'local:NAME|PATH.gguf',
  // The model is written as for an Ad-LLM; the judge samples at the User-LLM's temperature unless one is given.
  parse: localKind.parse,
  format: localKind.format,
  async resolve(spec) {
    const { localInputFromParams } = await import('../../models/backends/local.ts');
    const { createLocalJudgeClickModel } = await import('../../simulation/judge.ts');
    return createLocalJudgeClickModel(localInputFromParams(spec.model, spec.params ?? {}));
  },
};
