/**
 * Defaults that finish against a model served by `llm-auction serve`. The openai backend's
 * defaults suit vLLM on a GPU (8 requests in flight, up to 2048 tokens, 2 minutes each); a local
 * model on a CPU runs one request at a time at ~50 tokens/s, so the same defaults queue requests
 * until they time out, and each retry adds more work for a server still generating for clients
 * that left. `serve` publishes its limits in /v1/models (`llm_auction: {max_tokens, parallel}`);
 * this reads them once per base URL and fills in the parameters the spec did not set.
 */
import { httpFetch } from './http-fetch.ts';

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
 * server's `params.model` (or of any model it serves) where the spec left them out; unchanged for any other server. `note` hears what was changed.
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
