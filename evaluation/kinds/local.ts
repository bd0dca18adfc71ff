/**
 * `local:NAME|PATH.gguf[?k=v…]`: a GGUF model run in-process on the CPU (models/backends/local.ts);
 * `?lora=DIR|FILE.gguf` adds a LoRA adapter.
 */
import { splitQuery } from '../../mechanism/spec.ts';
import type { MechanismKind } from './kind.ts';

export interface LocalSpec {
  kind: 'local';
  model: string;
  /** The backend's `?k=v` parameters (models/backends/params.ts), when any are given. */
  params?: Record<string, string>;
}

export const localKind: MechanismKind<LocalSpec> = {
  kind: 'local',
  usage: 'local:NAME|PATH.gguf',
  parse({ rest, fail }) {
    // A `?` inside a path is taken as the start of the parameters.
    const { head, params } = splitQuery(rest);
    if (head.trim() === '') fail('expected local:NAME or local:PATH.gguf');
    return Object.keys(params).length === 0 ? { kind: 'local', model: head } : { kind: 'local', model: head, params };
  },
  format(s) {
    // Paths stay readable (`/` and `:` unescaped); what URLSearchParams would misread is escaped.
    const q = Object.entries(s.params ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':')}`)
      .join('&');
    return q ? `local:${s.model}?${q}` : `local:${s.model}`;
  },
  async resolve(spec) {
    const { createLocalRule, localInputFromParams } = await import('../../models/backends/local.ts');
    return createLocalRule(localInputFromParams(spec.model, spec.params ?? {}));
  },
  label: (s) => {
    const lora = s.params?.lora;
    return lora && !/^(off|none|false|no|null)$/i.test(lora) ? `local model ${s.model} with LoRA ${lora}` : `local model ${s.model}`;
  },
};
