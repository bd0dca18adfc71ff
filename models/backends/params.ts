/**
 * The `?key=value` parameters of backend specs (`openai:URL?model=m&temperature=0.5`,
 * `local:smollm2?max_tokens=64`), one table for every backend: a parameter means the same thing
 * and reads its value the same way wherever it is accepted. Specs speak the API's snake_case;
 * configs use camelCase fields. Each backend names the subset it takes.
 */
import { UsageError } from '../../lib/errors.ts';
import { didYouMean } from '../../mechanism/spec.ts';

/** How a raw parameter value becomes a config value. */
type ValueKind =
  | 'text'
  /** a file or directory, or one of the off words for none */
  | 'path-or-off'
  | 'number'
  /** a number, or one of the off words for none (top_k: OpenAI itself rejects the field) */
  | 'number-or-off'
  | 'boolean';

export const BACKEND_PARAMS = {
  model: { field: 'model', value: 'text' },
  name: { field: 'name', value: 'text' },
  temperature: { field: 'temperature', value: 'number' },
  top_p: { field: 'topP', value: 'number' },
  top_k: { field: 'topK', value: 'number-or-off' },
  max_tokens: { field: 'maxTokens', value: 'number' },
  strip_thinking: { field: 'stripThinking', value: 'boolean' },
  n_per_request: { field: 'maxNPerRequest', value: 'number' },
  concurrency: { field: 'concurrency', value: 'number' },
  max_retries: { field: 'maxRetries', value: 'number' },
  retry_base_ms: { field: 'retryBaseMs', value: 'number' },
  retry_max_ms: { field: 'retryMaxMs', value: 'number' },
  timeout_ms: { field: 'timeoutMs', value: 'number' },
  cache: { field: 'cacheDir', value: 'path-or-off' },
  trace: { field: 'traceFile', value: 'path-or-off' },
  /** probe the endpoint before the run and adapt to what it refuses (models/probe.ts) */
  probe: { field: 'probe', value: 'boolean' },
  /** score a given answer at other bids through prompt log-probabilities (off|auto|prompt-logprobs|echo; models/backends/prompt-scorer.ts) */
  score: { field: 'score', value: 'text' },
  context: { field: 'contextSize', value: 'number' },
  context_size: { field: 'contextSize', value: 'number' },
  threads: { field: 'threads', value: 'number' },
  /** a LoRA adapter: a PEFT adapter directory or a GGUF LoRA file (local models) */
  lora: { field: 'lora', value: 'path-or-off' },
  /** the transformers directory a PEFT adapter was trained on (config.json), for its conversion */
  base: { field: 'loraBase', value: 'path-or-off' },
} as const satisfies Record<string, { field: string; value: ValueKind }>;

export type BackendParam = keyof typeof BACKEND_PARAMS;

const OFF = /^(off|none|false|no|null|)$/i;

function paramValue(backend: string, key: BackendParam, raw: string): unknown {
  switch (BACKEND_PARAMS[key].value) {
    case 'text':
      return raw;
    case 'path-or-off':
      if (OFF.test(raw)) return null;
      // A bare word (cache=maybe, cache=on) is a typo far more often than a folder meant to sit in
      // the current directory: a path must say it is one.
      if (!/[/\\.~]/.test(raw)) throw new UsageError(`${backend} spec: ${key} must be off or a path (./${raw} for a folder here), got ${JSON.stringify(raw)}`);
      return raw;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new UsageError(`${backend} spec: ${key} must be true or false, got ${JSON.stringify(raw)}`);
    case 'number-or-off':
      if (OFF.test(raw)) return null;
    // falls through: otherwise a number
    case 'number': {
      const x = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(x)) throw new UsageError(`${backend} spec: ${key} must be a number, got ${JSON.stringify(raw)}`);
      return x;
    }
  }
}

/**
 * The config fields a backend's spec parameters set, checked and converted but not validated (so
 * the caller applies its own defaults and schema). A key outside `accepted` is a UsageError that
 * lists the keys the backend knows.
 */
export function configFromParams(backend: string, accepted: readonly BackendParam[], params: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(params)) {
    if (!(accepted as readonly string[]).includes(key)) {
      throw new UsageError(`${backend} spec: unknown parameter ${JSON.stringify(key)}${didYouMean(key, accepted)} (known: ${accepted.join(', ')})`);
    }
    const k = key as BackendParam;
    out[BACKEND_PARAMS[k].field] = paramValue(backend, k, raw);
  }
  return out;
}

/** Config field -> the parameter that sets it, so a schema error names what the user wrote. */
export function paramNames(accepted: readonly BackendParam[]): Record<string, string> {
  return Object.fromEntries(accepted.map((k) => [BACKEND_PARAMS[k].field, k]));
}
