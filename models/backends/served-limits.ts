/**
 * Defaults that finish against a model served by `llm-auction serve`. The openai backend's
 * defaults suit vLLM on a GPU (8 requests in flight, up to 2048 tokens, 2 minutes each); a local
 * model on a CPU runs one request at a time at ~50 tokens/s, so the same defaults queue requests
 * until they time out, and each retry adds more work for a server still generating for clients
 * that left. `serve` publishes its limits in /v1/models (`llm_auction: {max_tokens, parallel}`);
 * this reads them once per base URL and fills in the parameters the spec did not set.
 */
import { EngineDiedError, probeEndpoint, type ProbeReport } from '../probe.ts';
import { httpFetch } from './http-fetch.ts';
import { openAIConfigFromParams } from './openai-config.ts';

/** A long wait is the honest default for a served CPU model: n answers of max_tokens each. */
export const SERVED_TIMEOUT_MS = 600_000;

interface ServedEntry {
  id: string;
  owned_by?: string;
  llm_auction?: { max_tokens: number | null; parallel: number };
}

const memo = new Map<string, Promise<ServedEntry[] | null>>();

async function servedModels(baseURL: string): Promise<ServedEntry[] | null> {
  const url = `${baseURL.replace(/\/+$/, '')}/models`;
  let p = memo.get(url);
  if (!p) {
    p = (async () => {
      try {
        const res = await httpFetch(url, { signal: AbortSignal.timeout(3000) });
        if (!res.ok) return null;
        const body = (await res.json()) as { data?: ServedEntry[] };
        return Array.isArray(body.data) ? body.data : null;
      } catch {
        return null; // not reachable yet, or not a server that lists models: keep the spec as it is
      }
    })();
    memo.set(url, p);
  }
  return p;
}

/**
 * `params` with concurrency, max_tokens and timeout_ms filled from the published limits of the
 * server's `params.model` (or of any model it serves) where the spec left them out; unchanged for
 * any other server. `note` hears what was changed. (`adaptToEndpoint` also probes other servers.)
 */
export async function withServedDefaults(
  baseURL: string,
  params: Readonly<Record<string, string>>,
  note: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<Record<string, string>> {
  const out = { ...params };
  const entries = await servedModels(baseURL);
  const entry = entries?.find((e) => e.id === params.model) ?? entries?.find((e) => e.llm_auction);
  const limits = entry?.owned_by === 'llm-auction' ? entry.llm_auction : undefined;
  if (!limits) return out;
  const set: string[] = [];
  if (out.concurrency === undefined) set.push(`concurrency=${(out.concurrency = String(limits.parallel))}`);
  if (out.max_tokens === undefined && limits.max_tokens !== null) set.push(`max_tokens=${(out.max_tokens = String(limits.max_tokens))}`);
  if (out.timeout_ms === undefined) set.push(`timeout_ms=${(out.timeout_ms = String(SERVED_TIMEOUT_MS))}`);
  if (set.length > 0) note(`openai: ${baseURL} is llm-auction serve (${limits.parallel} request(s) at a time, max_tokens ${limits.max_tokens ?? 'uncapped'}): using ${set.join(', ')}`);
  return out;
}

const probes = new Map<string, Promise<ProbeReport | Error>>();

/** Forget what was learned about endpoints (a test that changes a server's behaviour at one URL). */
export function forgetEndpoints(): void {
  probes.clear();
  memo.clear();
}

/**
 * What a run sends, fitted to the endpoint it goes to. `llm-auction serve` publishes its limits
 * (withServedDefaults) and honours every field. Any other server is probed once per base URL and
 * model (models/probe.ts), unless the spec says probe=off or $LLM_AUCTION_PROBE is off: a field it
 * refuses is turned off and an `n` it ignores is asked one response at a time, where the spec did
 * not set them itself; what would make the run mean less (greedy samples, seeds not honoured) is
 * printed as a warning. An endpoint that cannot be probed is used as the spec says; one that
 * dies under the probe's concurrent burst is an EngineDiedError (exit 2) before the run starts.
 */
export async function adaptToEndpoint(
  baseURL: string,
  params: Readonly<Record<string, string>>,
  note: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const served = await withServedDefaults(baseURL, params, note);
  const entries = await servedModels(baseURL);
  if (entries?.some((e) => e.owned_by === 'llm-auction')) return served;
  const OFF = /^(0|false|no|off)$/i;
  if (params.probe !== undefined ? OFF.test(params.probe) : OFF.test(env.LLM_AUCTION_PROBE ?? '')) return served;
  const cfg = openAIConfigFromParams(baseURL, served, env);
  const key = `${cfg.baseURL}\u0001${cfg.model}`;
  let p = probes.get(key);
  if (!p) {
    // The burst sends what the run will: its concurrency and n per request (up to 16 and 4).
    const burst = { concurrency: Math.min(cfg.concurrency, 16), n: Math.min(cfg.maxNPerRequest, 4) };
    p = probeEndpoint({ baseURL: cfg.baseURL, model: cfg.model, apiKey: cfg.apiKey, timeoutMs: Math.min(cfg.timeoutMs, 60_000), burst }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    probes.set(key, p);
  }
  const report = await p;
  // An engine that died under the probe's burst would fail every request of the run: stop here.
  if (report instanceof EngineDiedError) throw report;
  if (report instanceof Error) {
    note(`openai: could not probe ${cfg.baseURL} (${report.message.split('\n')[0]}); using the spec as it is`);
    return served;
  }
  const out = { ...served };
  const set: string[] = [];
  for (const [k, v] of Object.entries(report.adapt)) {
    if (out[k] === undefined) set.push(`${k}=${(out[k] = v)}`);
  }
  note(`openai: probed ${cfg.baseURL} (model ${cfg.model}): ${set.length ? `using ${set.join(', ')}` : 'nothing to adapt'}${report.warnings.length ? '' : ', every field honoured'}`);
  for (const w of report.warnings) note(`warning: ${cfg.baseURL}: ${w}`);
  return out;
}
