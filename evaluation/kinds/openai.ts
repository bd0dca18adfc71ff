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
  usage: 'openai:BASE_URL[|URL2|…]?model=NAME',
  parse({ rest, fail }) {
    const { head, params } = splitQuery(rest);
    // `URL1|URL2|…`: several replicas of one model (models/backends/replica-pool.ts).
    if (!head.split('|').every((u) => /^https?:\/\/[^\s|]+$/.test(u))) fail('expected openai:http(s)://HOST[:PORT]/PATH?model=NAME (or URL1|URL2|… for replicas)');
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
    // Served limits and the probe are read from the first replica; all replicas serve one model.
    const config = openAIConfigFromParams(spec.baseURL, await adaptToEndpoint(spec.baseURL.split('|')[0]!, spec.params));
    if (config.score === 'off') return createOpenAIRule(config);
    // score=auto becomes what the server can do (or off, saying why); a mode asked for by name
    // is tried once here, so a server that cannot is a one-line error before the run.
    const { detectScoreMode } = await import('../../models/backends/prompt-scorer.ts');
    if (config.score === 'auto') {
      const d = await detectScoreMode(config);
      process.stderr.write(`openai: ${config.baseURL}: score=auto: ${d.mode === 'off' ? `off (${d.why})` : `${d.mode} (samples are shared across bids)`}\n`);
      return createOpenAIRule({ ...config, score: d.mode });
    }
    const rule = createOpenAIRule(config);
    await rule.scorer!.check();
    return rule;
  },
  label: (s) => `endpoint ${s.params.model ?? s.baseURL}`,
};
