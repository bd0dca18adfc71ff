/**
 * vLLM's runtime LoRA API for `llm-auction serve`, so the external trainer's reload step
 * (training/external.ts `loadLoraAdapter`) works against the CPU server as it does against vLLM:
 *
 *   POST /v1/load_lora_adapter   {"lora_name": "irpo-1", "lora_path": "/abs/adapter"}  -> 200 text
 *   POST /v1/unload_lora_adapter {"lora_name": "irpo-1"}                                -> 200 text
 *
 * A loaded name is listed by /v1/models and answers chat requests whose `model` is that name;
 * the base name still answers without an adapter. Only rules with the `withAdapter` ability
 * (`local:` models) take adapters; the routes answer 404 for the others, as vLLM does when runtime
 * updates are off. Status codes follow vLLM: 400 for a bad body or a name already loaded, 404 for
 * an unknown name or a path with no adapter.
 */
import { z } from 'zod';
import { InputError } from '../../lib/errors.ts';
import type { AdapterRule, AllocationRule } from '../../mechanism/types.ts';

/** An error the server sends as an OpenAI-shaped body with this status. */
export class AdapterError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = status === 404 ? 'not_found_error' : 'invalid_request_error',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

const loadSchema = z.object({ lora_name: z.string().min(1), lora_path: z.string().min(1), load_inplace: z.boolean().optional().nullable() }).passthrough();
const unloadSchema = z.object({ lora_name: z.string().min(1), lora_int_id: z.number().optional().nullable() }).passthrough();

interface Served {
  name: string;
  path: string;
  rule: AdapterRule;
  created: number;
}

export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  root?: string;
  parent?: string;
  /** What a client should size its requests by (see AllocationRule.servingLimits). */
  llm_auction?: { max_tokens: number | null; parallel: number };
}

/** The `llm_auction` field of a /v1/models entry: the rule's serving limits, where it declares them. */
export function servingLimitsEntry(rule: AllocationRule): Pick<ModelEntry, 'llm_auction'> {
  const limits = rule.servingLimits;
  return limits ? { llm_auction: { max_tokens: limits.maxTokens, parallel: limits.parallel } } : {};
}

function bodyError(e: z.ZodError, need: string): AdapterError {
  const issue = e.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  return new AdapterError(400, `${need} (${param ?? 'body'}: ${issue.message})`, 'invalid_request_error', param);
}

export class AdapterTable {
  private readonly served = new Map<string, Served>();
  /** Names being loaded, so a second load of the same name is refused while the first runs. */
  private readonly loading = new Set<string>();

  constructor(
    private readonly base: AllocationRule,
    private readonly log: ((line: string) => void) | null = null,
  ) {}

  /** True when the rule can take adapters. */
  get enabled(): boolean {
    return typeof this.base.withAdapter === 'function';
  }

  private refuseUnlessEnabled(): void {
    if (!this.enabled) {
      throw new AdapterError(404, `rule ${JSON.stringify(this.base.name)} cannot take LoRA adapters; only local models can (serve -m local:smollm2, or local:PATH.gguf)`);
    }
  }

  /** `POST /v1/load_lora_adapter`: the success text vLLM sends. */
  async load(json: unknown): Promise<string> {
    this.refuseUnlessEnabled();
    const parsed = loadSchema.safeParse(json);
    if (!parsed.success) throw bodyError(parsed.error, "both 'lora_name' and 'lora_path' must be provided");
    const { lora_name: name, lora_path: adapterPath, load_inplace: inplace } = parsed.data;
    if (name === this.base.name) throw new AdapterError(400, `lora_name ${JSON.stringify(name)} is the base model's name`, 'invalid_request_error', 'lora_name');
    if (this.loading.has(name) || (this.served.has(name) && !inplace)) {
      throw new AdapterError(400, `The lora adapter '${name}' has already been loaded.`, 'invalid_request_error', 'lora_name');
    }
    this.loading.add(name);
    const started = Date.now();
    try {
      let rule: AdapterRule;
      try {
        rule = await this.base.withAdapter!(name, adapterPath);
      } catch (e) {
        const err = e as Error;
        // vLLM answers 404 when there is no adapter at the path, 400 for any other failure.
        const missing = err instanceof InputError && /^no such/.test(err.detail);
        throw new AdapterError(missing ? 404 : 400, `loading LoRA adapter '${name}' failed: ${err.message}`, missing ? 'not_found_error' : 'invalid_request_error', 'lora_path');
      }
      const old = this.served.get(name);
      this.served.set(name, { name, path: adapterPath, rule, created: Math.floor(Date.now() / 1000) });
      await old?.rule.release();
      this.log?.(`loaded LoRA adapter ${name} from ${adapterPath} (${rule.adapterFile}) in ${Date.now() - started}ms`);
      return `Success: LoRA adapter '${name}' added successfully.`;
    } finally {
      this.loading.delete(name);
    }
  }

  /** `POST /v1/unload_lora_adapter`. */
  async unload(json: unknown): Promise<string> {
    this.refuseUnlessEnabled();
    const parsed = unloadSchema.safeParse(json);
    if (!parsed.success) throw bodyError(parsed.error, "'lora_name' needs to be provided to unload a LoRA adapter");
    const name = parsed.data.lora_name;
    const s = this.served.get(name);
    if (!s) throw new AdapterError(404, `The lora adapter '${name}' cannot be found.`, 'not_found_error', 'lora_name');
    this.served.delete(name);
    await s.rule.release();
    this.log?.(`unloaded LoRA adapter ${name}`);
    return `Success: LoRA adapter '${name}' removed successfully.`;
  }

  /**
   * The rule that answers a request for `model`: an adapter by its name, else the base rule. A
   * name that is neither is an error where adapters exist (it may be one not loaded yet, and the
   * base model's answer would pass for the adapter's); elsewhere the base rule answers, as before.
   */
  ruleFor(model: string | null | undefined): AllocationRule {
    if (model === undefined || model === null || model === '' || model === this.base.name) return this.base;
    const s = this.served.get(model);
    if (s) return s.rule;
    if (!this.enabled) return this.base;
    const names = [this.base.name, ...this.served.keys()].map((n) => JSON.stringify(n)).join(', ');
    throw new AdapterError(404, `The model \`${model}\` does not exist; this server serves ${names}`, 'not_found_error', 'model');
  }

  /** /v1/models entries of the loaded adapters (vLLM's shape: root is the path, parent the base). */
  entries(): ModelEntry[] {
    // An adapter runs on the base model's machine: the same limits.
    const llmAuction = servingLimitsEntry(this.base);
    return [...this.served.values()].map((s) => ({ id: s.name, object: 'model', created: s.created, owned_by: 'llm-auction', root: s.path, parent: this.base.name, ...llmAuction }));
  }

  /** Free every adapter (the server is closing). */
  async close(): Promise<void> {
    const all = [...this.served.values()];
    this.served.clear();
    for (const s of all) await s.rule.release().catch(() => undefined);
  }
}
