/** `openai:BASE_URL?model=NAME[&seed=N|none&k=v…]`: an LLM behind an OpenAI-compatible endpoint judging as the user. */
import { openaiKind, type OpenAISpec } from '../kinds/openai.ts';
import type { UserKind } from './kind.ts';

export const openaiJudge: UserKind<OpenAISpec> = {
  kind: 'openai',
  usage: 'openai:BASE_URL?model=NAME[&seed=N]',
  // The endpoint is written as for an Ad-LLM; only its parameters' defaults differ (the judge's).
  parse: openaiKind.parse,
  format: openaiKind.format,
  async resolve(spec) {
    const { createJudgeClickModel, judgeConfigFromParams } = await import('../../simulation/judge.ts');
    return createJudgeClickModel(judgeConfigFromParams(spec.baseURL, spec.params));
  },
};
