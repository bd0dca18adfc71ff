/** `openai:BASE_URL?model=NAME[&k=v…]`: any OpenAI-compatible endpoint (models/backends/openai-rule.ts). */
import { splitQuery } from '../../mechanism/spec.ts';
import type { MechanismKind } from './kind.ts';

export interface OpenAISpec {
  kind: 'openai';
  baseURL: string;
  /** The backend's `?k=v` parameters (models/backends/params.ts), checked when the rule is built. */
  params: Record<string, string>;
}

export const openaiKind: MechanismKind<OpenAISpec> = {
  kind: 'openai',
  usage: 'openai:BASE_URL?model=NAME',
  parse({ rest, fail }) {
    const { head, params } = splitQuery(rest);
    if (!/^https?:\/\/[^\s]+$/.test(head)) fail('expected openai:http(s)://HOST[:PORT]/PATH?model=NAME');
    return { kind: 'openai', baseURL: head, params };
  },
  format(s) {
    const q = new URLSearchParams(s.params).toString();
    return q ? `openai:${s.baseURL}?${q}` : `openai:${s.baseURL}`;
  },
  async resolve(spec) {
    const { openAIConfigFromParams } = await import('../../models/backends/openai-config.ts');
    const { createOpenAIRule } = await import('../../models/backends/openai-rule.ts');
    const { adaptToEndpoint } = await import('../../models/backends/served-limits.ts');
    return createOpenAIRule(openAIConfigFromParams(spec.baseURL, await adaptToEndpoint(spec.baseURL, spec.params)));
  },
  label: (s) => `endpoint ${s.params.model ?? s.baseURL}`,
};
