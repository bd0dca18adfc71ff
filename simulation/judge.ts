/**
 * The LLM-as-a-judge user (the paper's User-LLM, Appendix B.1): an OpenAI-compatible endpoint that
 * plays the user, reads the ad-integrated answer and says which inserted ads it clicks. It also
 * writes the users' questions from their profiles (the simulation's first stage).
 *
 * The wording lives in `templates/click-judge.md` and `templates/query-gen.md` so it can be edited
 * without touching code. Model output is data of unknown quality: every parser here is total —
 * whatever comes back, the result is a well-formed verdict plus a list of the problems met, and a
 * response the judge could not read counts as no clicks. Only a failing endpoint throws, because
 * a dead server silently read as "nobody clicks" would corrupt every number downstream.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ClickContext, ClickModel } from '../mechanism/click-model.ts';
import { UsageError } from '../lib/errors.ts';
import { neutralizeText } from '../mechanism/format.ts';
import { fillTemplate } from '../mechanism/prompt.ts';
import { validatedConfig } from '../mechanism/schemas.ts';
import type { Profile } from '../mechanism/types.ts';
import { ChatClient, type ChatMessage, type UsageStats } from '../models/backends/chat-client.ts';
import { createChatClient } from '../models/backends/replica-pool.ts';
import { LocalChat, localInputFromParams, resolveLocalConfig, splitLocalSpec, type LocalConfigInput } from '../models/backends/local.ts';
import { openAIConfigSchema, openAIInputFromParams, splitOpenAISpec } from '../models/backends/openai-config.ts';

// ---------------------------------------------------------------------------------------------
// Configuration

/** The paper's User-LLM favours stable feedback: a lower temperature, same top-p and top-k. */
export const USER_LLM_DEFAULTS = { temperature: 0.3, topP: 0.8, topK: 20, maxTokens: 2048 } as const;

export const judgeConfigSchema = openAIConfigSchema.extend({
  temperature: z.number().min(0).max(2).default(USER_LLM_DEFAULTS.temperature).describe('Sampling temperature of the User-LLM'),
  seed: z
    .number()
    .int()
    .nullable()
    .default(0)
    .describe('Seed of every judge request: the same answer gets the same verdict, and verdicts are cached; null for unseeded'),
  clickTemplate: z.string().optional().describe('Path of a click prompt template replacing templates/click-judge.md'),
  queryTemplate: z.string().optional().describe('Path of a query prompt template replacing templates/query-gen.md'),
});

export type JudgeConfig = z.output<typeof judgeConfigSchema>;
export type JudgeConfigInput = z.input<typeof judgeConfigSchema>;

export function resolveJudgeConfig(input: JudgeConfigInput): JudgeConfig {
  return validatedConfig(judgeConfigSchema, input, 'judge config');
}

/**
 * The parts of `openai:URL?model=NAME&…` for the User-LLM: the backend's parameters with the
 * User-LLM's defaults, plus `seed` (an integer, or `none` for unseeded and uncached verdicts).
 */
export function judgeConfigFromParams(baseURL: string, params: Record<string, string>, env: NodeJS.ProcessEnv = process.env): JudgeConfig {
  const { seed: rawSeed, ...rest } = params;
  let seed: number | null | undefined;
  if (rawSeed !== undefined) {
    if (/^(none|off|null)$/i.test(rawSeed)) seed = null;
    else if (/^-?\d+$/.test(rawSeed)) seed = Number(rawSeed);
    else throw new UsageError(`judge spec: seed must be an integer or "none", got ${JSON.stringify(rawSeed)}`);
  }
  return resolveJudgeConfig({ ...openAIInputFromParams(baseURL, rest, env), ...(seed === undefined ? {} : { seed }) });
}

/** `openai:URL?model=NAME&…` for the User-LLM, as a whole spec. */
export function parseJudgeSpec(spec: string, env: NodeJS.ProcessEnv = process.env): JudgeConfig {
  const { baseURL, params } = splitOpenAISpec(spec);
  return judgeConfigFromParams(baseURL, params, env);
}

// One client per config object, so every call made with it shares one concurrency bound and one tally.
const clients = new WeakMap<object, { config: JudgeConfig; client: ChatClient }>();

function judgeClient(input: JudgeConfigInput): { config: JudgeConfig; client: ChatClient } {
  let entry = clients.get(input);
  if (!entry) {
    const config = resolveJudgeConfig(input);
    entry = { config, client: createChatClient(config) };
    clients.set(input, entry);
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Templates

const templateCache = new Map<string, string>();

/** A template file with its leading `<!-- … -->` notes removed (they are for editors, not the model). */
export function loadJudgeTemplate(which: 'click-judge' | 'query-gen', path?: string): string {
  const file = path ?? fileURLToPath(new URL(`./templates/${which}.md`, import.meta.url));
  let text = templateCache.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8').replace(/^\s*(?:<!--[\s\S]*?-->\s*)+/, '');
    templateCache.set(file, text);
  }
  return text;
}

const ANSWER_END = 'ANSWER>>>';

export function buildClickPrompt(ctx: ClickContext, template = loadJudgeTemplate('click-judge')): string {
  const { profile, query } = ctx.input;
  return fillTemplate(template, {
    user_info: neutralizeText(profile.info),
    user_interests: profile.interests.map(neutralizeText).join(', '),
    question: neutralizeText(query),
    // The answer is shown as written (the user sees the markup), except that it must not be able
    // to close its own block and pose as instructions after it.
    answer: ctx.response.split(ANSWER_END).join('ANSWER>>'),
  });
}

export function buildQueryPrompt(profile: Profile, count: number, template = loadJudgeTemplate('query-gen')): string {
  return fillTemplate(template, {
    user_info: neutralizeText(profile.info),
    user_interests: profile.interests.map(neutralizeText).join(', '),
    count: String(count),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading model output

/** Text without a reasoning block and with code fences opened, best candidates first. */
function candidateTexts(reply: string): string[] {
  // Everything from the first <think> to the last </think> is reasoning (one linear cut; a regex
  // over many unclosed tags would be quadratic).
  const open = reply.indexOf('<think>');
  const close = reply.lastIndexOf('</think>');
  const text = open >= 0 && close > open ? `${reply.slice(0, open)} ${reply.slice(close + '</think>'.length)}` : reply;
  const fenced = [...text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)].map((m) => m[1]!);
  return [...fenced, text];
}

/** End (exclusive) of the bracketed value opening at `start`, skipping brackets inside strings. */
function matchingEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseLenient(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    // Models often leave a trailing comma; nothing else is repaired.
    try {
      return JSON.parse(s.replace(/,\s*([\]}])/g, '$1'));
    } catch {
      return undefined;
    }
  }
}

/** Every JSON array found in the reply, in order (fenced blocks first). Bounded work per reply. */
export function findJsonArrays(reply: string, maxTries = 64): unknown[][] {
  const found: unknown[][] = [];
  let tries = 0;
  for (const text of candidateTexts(reply)) {
    for (let i = text.indexOf('['); i >= 0 && tries < maxTries; i = text.indexOf('[', i + 1)) {
      tries++;
      const end = matchingEnd(text, i);
      if (end < 0) continue;
      const value = parseLenient(text.slice(i, end));
      if (Array.isArray(value)) {
        found.push(value);
        i = end - 1; // nested arrays of an accepted one are not separate answers
      }
    }
  }
  return found;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'clicked', 'click']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'not clicked', 'no click', 'none']);

function readClicked(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : undefined;
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  return undefined;
}

function readAdId(entry: Record<string, unknown>): string | undefined {
  const raw = entry.ad_id ?? entry.adId ?? entry['Ad ID'] ?? entry.id;
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const s = String(raw).trim();
  // "@Title@[Ad-0001]" or "[Ad-0001]" instead of the bare id: take the id inside.
  const m = /Ad-[A-Za-z0-9_-]+/i.exec(s);
  return m ? m[0] : s;
}

export interface JudgeVerdict {
  /** Every valid exposure of the response, clicked or not. */
  clicks: Record<string, boolean>;
  reasons: Record<string, string>;
  /** What was wrong with the judge's reply (missing, duplicate or unknown ads, unreadable output). */
  problems: string[];
  /** The judge's reply as received (null when no call was needed). */
  raw: string | null;
}

/** Read a click reply against the ads the response validly exposes. Never throws. */
export function parseClickFeedback(reply: unknown, exposedIds: readonly string[]): JudgeVerdict {
  const text = typeof reply === 'string' ? reply : '';
  const clicks: Record<string, boolean> = {};
  const reasons: Record<string, string> = {};
  const problems: string[] = [];
  const byLower = new Map(exposedIds.map((id) => [id.toLowerCase(), id]));
  for (const id of exposedIds) clicks[id] = false;

  const arrays = findJsonArrays(text);
  const isEntries = (a: unknown[]) => a.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
  // Prefer a list that has entries: a reply may quote the empty list "[]" before its real answer.
  const list = arrays.find((a) => a.length > 0 && isEntries(a)) ?? arrays.find((a) => a.length === 0);
  if (list === undefined) {
    problems.push(
      exposedIds.length === 0 && text.trim() === ''
        ? 'empty reply'
        : `no JSON list of feedback found in the reply; no clicks counted (${JSON.stringify(text.slice(0, 120))})`,
    );
    return { clicks, reasons, problems, raw: text };
  }

  const seen = new Set<string>();
  list.forEach((item, k) => {
    const entry = item as Record<string, unknown>;
    const given = readAdId(entry);
    if (given === undefined) {
      problems.push(`entry ${k + 1} has no ad_id; ignored`);
      return;
    }
    const id = byLower.get(given.toLowerCase());
    if (id === undefined) {
      problems.push(`${given} is not an ad validly exposed by this response; ignored`);
      return;
    }
    if (seen.has(id)) {
      problems.push(`${id} listed more than once; the first entry counts`);
      return;
    }
    seen.add(id);
    const clicked = readClicked(entry.clicked);
    if (clicked === undefined) problems.push(`${id}: clicked value ${JSON.stringify(entry.clicked ?? null)} not understood; counted as not clicked`);
    clicks[id] = clicked ?? false;
    if (typeof entry.reason === 'string') reasons[id] = entry.reason;
  });
  for (const id of exposedIds) {
    if (!seen.has(id)) problems.push(`${id} missing from the feedback; counted as not clicked`);
  }
  return { clicks, reasons, problems, raw: text };
}

function cleanQuery(s: string): string {
  return s
    .replace(/\*\*/g, '')
    .trim()
    .replace(/^["'“”‘’]+|["'“”‘’]+$/g, '')
    .trim();
}

/** Questions from a query-generation reply: a JSON list, else a numbered or bulleted list. Never throws. */
export function parseQueryList(reply: unknown, max = Infinity): string[] {
  const text = typeof reply === 'string' ? reply : '';
  let items: string[] = [];
  for (const arr of findJsonArrays(text)) {
    const got = arr
      .map((x) => {
        if (typeof x === 'string') return x;
        if (x !== null && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          const v = o.query ?? o.question ?? o.text;
          if (typeof v === 'string') return v;
        }
        return undefined;
      })
      .filter((x): x is string => x !== undefined);
    if (got.length > 0) {
      items = got;
      break;
    }
  }
  if (items.length === 0) {
    const lines = candidateTexts(text).at(-1)!.split('\n');
    const marked = /^\s*(?:\d+\s*[.):、-]|[-*•]|Q\d+\s*[.):])\s*(.+)$/i;
    items = lines.flatMap((l) => {
      const m = marked.exec(l);
      return m ? [m[1]!] : [];
    });
    if (items.length === 0) items = lines.filter((l) => l.trim().endsWith('?'));
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const q = cleanQuery(item);
    if (q === '' || seen.has(q.toLowerCase())) continue;
    seen.add(q.toLowerCase());
    out.push(q);
    if (out.length >= max) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The click model and query generation

export interface JudgeClickModel extends ClickModel {
  readonly config: JudgeConfig;
  readonly client: ChatClient;
  /** The full verdict for logging; `clickProbabilities` is its clicks as 1 / 0. */
  judge(ctx: ClickContext): Promise<JudgeVerdict>;
  stats(): UsageStats;
}

/** A chat client the judge can talk to: the openai backend's ChatClient, or the local LLM's. */
export interface JudgeChat {
  chat(messages: ChatMessage[], opts: { n: number; seed?: number }): Promise<{ texts: string[] }>;
  stats(): UsageStats;
}

/**
 * The LLM-as-a-judge click model over any chat client: one call per response with the click
 * prompt, the reply parsed leniently, a click read as probability 1.
 */
export function judgeOn<C extends JudgeChat>(client: C, opts: { name: string; template: string; seed?: number }) {
  async function judge(ctx: ClickContext): Promise<JudgeVerdict> {
    const ids = ctx.parsed.exposures.map((e) => e.id);
    // No valid exposure, nothing to click: asking the judge would only cost tokens.
    if (ids.length === 0) return { clicks: {}, reasons: {}, problems: [], raw: null };
    const messages: ChatMessage[] = [{ role: 'user', content: buildClickPrompt(ctx, opts.template) }];
    const r = await client.chat(messages, { n: 1, seed: opts.seed });
    return parseClickFeedback(r.texts[0], ids);
  }
  return {
    name: opts.name,
    observable: 'clicks' as const,
    client,
    judge,
    stats: () => client.stats(),
    async clickProbabilities(ctx: ClickContext): Promise<Record<string, number>> {
      const v = await judge(ctx);
      return Object.fromEntries(Object.entries(v.clicks).map(([id, c]) => [id, c ? 1 : 0]));
    },
  };
}

export function createJudgeClickModel(input: JudgeConfigInput): JudgeClickModel {
  const { config, client } = judgeClient(input);
  const template = loadJudgeTemplate('click-judge', config.clickTemplate);
  const seed = config.seed ?? undefined;
  return { ...judgeOn(client, { name: config.name ?? `judge:${config.model}`, template, seed }), config };
}

/**
 * `count` questions the user of `profile` would ask, from one User-LLM call. May return fewer
 * when the model wrote fewer usable ones; never more.
 */
export async function generateQueries(
  input: JudgeConfigInput,
  profile: Profile,
  count: number,
  opts: { seed?: number } = {},
): Promise<string[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`generateQueries: count must be a non-negative integer, got ${count}`);
  if (count === 0) return [];
  const { config, client } = judgeClient(input);
  const prompt = buildQueryPrompt(profile, count, loadJudgeTemplate('query-gen', config.queryTemplate));
  const r = await client.chat([{ role: 'user', content: prompt }], { n: 1, seed: opts.seed ?? config.seed ?? undefined });
  return parseQueryList(r.texts[0], count);
}

// ---------------------------------------------------------------------------------------------
// The judge on a local model

export interface LocalJudgeOptions {
  /** Seed of every judge call (default 0, as the openai judge); null for unseeded. */
  seed?: number | null;
  clickTemplate?: string;
}

export interface LocalJudgeClickModel extends ClickModel {
  readonly client: LocalChat;
  judge(ctx: ClickContext): Promise<JudgeVerdict>;
  stats(): UsageStats;
}

/**
 * The LLM-as-a-judge click model on a local GGUF model: the same prompt, the same total parser,
 * the User-LLM's lower temperature (0.3) unless the spec sets one. `spec` is `local:…` as for the
 * rule, or its config input.
 */
export function createLocalJudgeClickModel(spec: string | LocalConfigInput, opts: LocalJudgeOptions = {}): LocalJudgeClickModel {
  const parts = typeof spec === 'string' ? splitLocalSpec(spec) : undefined;
  const input = parts ? localInputFromParams(parts.model, parts.params) : (spec as LocalConfigInput);
  const config = resolveLocalConfig({ ...input, temperature: input.temperature ?? USER_LLM_DEFAULTS.temperature });
  const template = loadJudgeTemplate('click-judge', opts.clickTemplate);
  const seed = opts.seed === undefined ? 0 : (opts.seed ?? undefined);
  return judgeOn(new LocalChat(config), { name: config.name ?? `judge:local:${config.model}`, template, seed });
}
