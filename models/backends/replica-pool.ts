/**
 * Several replicas of one model behind one `openai:URL1|URL2|…?model=M` spec: the client balances
 * the requests itself, for fleets without a router in front.
 *
 * - Each replica has its own ChatClient (its own concurrency bound, `concurrency` per replica) that
 *   makes one attempt per request; retries are the pool's, so a failed attempt can move elsewhere.
 * - Balancing: least outstanding requests (queued or in flight) among the healthy replicas.
 * - Prefix affinity: a request goes to the replica its prompt hashes to (rendezvous hashing over
 *   the healthy replicas), so the samples of one auction (one prompt) land on one replica and its
 *   prefix cache serves them; while that replica has no free slot and another has one, the request
 *   goes to the least loaded instead (bounded-load affinity).
 * - Failover: a replica that refuses or drops connections is drained at once, one that times out
 *   twice in a row too; its failed requests go to the others with the same body (same seed), so
 *   nothing is lost or answered twice, and where servers honour seeds the answers equal a
 *   one-replica run's. A drained replica gets a trial request again after 5 s, doubling each time
 *   it fails again. 429/5xx/malformed answers are retried with backoff without draining.
 * - The pool's stats() add `replicas`: requests, retries (requests that were retries), failures
 *   (failed attempts) and drains per replica; the run's manifest records them.
 */
import { createHash } from 'node:crypto';
import { abortableSleep, inFlightSignal } from '../../lib/abort.ts';
import { ChatClient, OpenAIBackendError, emptyStats, type ChatMessage, type ChatOptions, type ChatResult, type UsageStats } from './chat-client.ts';
import { resolveOpenAIConfig, type OpenAIConfig, type OpenAIConfigInput } from './openai-config.ts';

/** Timeouts in a row that drain a replica (a refused or dropped connection drains it at once). */
export const DRAIN_AFTER_TIMEOUTS = 2;
/** First wait before a drained replica gets a trial request; doubles on each drain. */
export const REVIVE_MS = 5_000;

export interface ReplicaStats {
  url: string;
  requests: number;
  retries: number;
  failures: number;
  drains: number;
}

export type PoolStats = UsageStats & { replicas: ReplicaStats[] };

interface Replica {
  url: string;
  client: ChatClient;
  outstanding: number;
  timeoutsInRow: number;
  drainedUntil: number;
  drains: number;
  retries: number;
}

type FailureKind = 'drain' | 'timeout' | 'transient' | 'fatal';

/** How a failed attempt bears on its replica: the pool reads the client's error. */
export function failureKind(e: unknown): FailureKind {
  if (!(e instanceof OpenAIBackendError) || e.aborted || !e.retryable) return 'fatal';
  if (e.status === undefined && /: connection failed/.test(e.message)) return 'drain';
  if (e.status === undefined && /: request timed out/.test(e.message)) return 'timeout';
  return 'transient';
}

/** The affinity key of a request: its whole prompt. */
export function promptKey(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}\u0000${m.content}`).join('\u0001');
}

function score(key: string, url: string): number {
  return createHash('sha256').update(`${key}\u0000${url}`).digest().readUInt32BE(0);
}

export class ReplicaPool extends ChatClient {
  readonly replicas: Replica[];
  private readonly pool = { calls: 0, retries: 0, failures: 0 };

  constructor(config: OpenAIConfigInput | OpenAIConfig) {
    const resolved = resolveOpenAIConfig(config);
    super(resolved);
    const urls = resolved.replicas.length > 0 ? resolved.replicas : [resolved.baseURL];
    this.replicas = urls.map((url) => ({
      url,
      client: new ChatClient({ ...resolved, baseURL: url, replicas: [], maxRetries: 0 }),
      outstanding: 0,
      timeoutsInRow: 0,
      drainedUntil: 0,
      drains: 0,
      retries: 0,
    }));
  }

  /** The replica for a request with this prompt key, now. */
  pick(key: string, avoid?: Replica): Replica {
    const now = Date.now();
    let healthy = this.replicas.filter((r) => r.drainedUntil <= now && r !== avoid);
    if (healthy.length === 0) healthy = this.replicas.filter((r) => r.drainedUntil <= now);
    // Every replica drained: the one whose trial comes soonest.
    if (healthy.length === 0) return this.replicas.reduce((a, b) => (b.drainedUntil < a.drainedUntil ? b : a));
    const preferred = healthy.reduce((a, b) => (score(key, b.url) > score(key, a.url) ? b : a));
    const limit = this.config.concurrency;
    const least = healthy.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    // Affinity while the preferred replica has a free slot; else the least loaded one.
    return preferred.outstanding < limit ? preferred : least;
  }

  override async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    this.pool.calls++;
    const key = promptKey(messages);
    const signal = inFlightSignal();
    const budget = this.config.maxRetries + this.replicas.length;
    let last: Replica | undefined;
    for (let attempt = 0; ; attempt++) {
      const r = this.pick(key, last);
      if (attempt > 0) r.retries++;
      r.outstanding++;
      try {
        const res = await r.client.chat(messages, opts);
        r.timeoutsInRow = 0;
        if (r.drainedUntil > 0) r.drainedUntil = 0; // a trial that answered: healthy again
        return { ...res, retries: attempt };
      } catch (e) {
        const kind = failureKind(e);
        if (kind === 'fatal' || attempt + 1 >= budget) {
          this.pool.failures++;
          if (kind !== 'fatal' && e instanceof OpenAIBackendError) {
            throw new OpenAIBackendError(`openai backend: every replica failed (${this.replicas.length} replicas, ${attempt + 1} attempts); last: ${e.message}`, e.status, true);
          }
          throw e;
        }
        this.pool.retries++;
        last = r;
        if (kind === 'drain' || (kind === 'timeout' && ++r.timeoutsInRow >= DRAIN_AFTER_TIMEOUTS)) {
          r.drains++;
          r.timeoutsInRow = 0;
          r.drainedUntil = Date.now() + REVIVE_MS * 2 ** Math.min(r.drains - 1, 6);
        } else if (kind === 'transient') {
          // The server said "not now": back off before asking the pool again.
          const { retryBaseMs, retryMaxMs } = this.config;
          const exp = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt, 20));
          try {
            await abortableSleep(exp / 2 + (Math.random() * exp) / 2, signal);
          } catch {
            // stopped: the next attempt reports it
          }
        }
      } finally {
        r.outstanding--;
      }
    }
  }

  override stats(): PoolStats {
    const sum = emptyStats();
    const replicas: ReplicaStats[] = [];
    for (const r of this.replicas) {
      const s = r.client.stats();
      for (const k of ['requests', 'cacheHits', 'generations', 'promptTokens', 'completionTokens', 'cachedPromptTokens', 'cachedCompletionTokens'] as const) sum[k] += s[k];
      replicas.push({ url: r.url, requests: s.requests, retries: r.retries, failures: s.failures, drains: r.drains });
    }
    return { ...sum, calls: this.pool.calls, retries: this.pool.retries, failures: this.pool.failures, replicas };
  }
}

/** The transport for a config: a ReplicaPool where it lists several replicas, else one ChatClient. */
export function createChatClient(config: OpenAIConfigInput | OpenAIConfig): ChatClient {
  const resolved = resolveOpenAIConfig(config);
  return resolved.replicas.length > 1 ? new ReplicaPool(resolved) : new ChatClient(resolved);
}
