/**
 * The Ad-LLM prompt (paper, Appendix B.1, in our own words): role, task, the candidate list one JSON
 * object per line with keys "Ad ID", "Ad Title", "Ad Bid", the insertion rules, right and wrong
 * examples, the user profile and the question.
 *
 * The wording lives in `templates/ad-llm.md` so it can be edited without touching code;
 * `templates/ad-llm-compact.md` is a short variant for CPU runs (`--ad-template compact`). Placeholders
 * `{{name}}` are filled in one pass, so text inside a query or title that looks like a placeholder
 * is never expanded. Titles are shown in display form and every free-text field is reduced to one
 * line without markup (format.ts), so data cannot break the list or pose as an insertion.
 *
 * `parseAdPrompt` reads a prompt back into its auction (what `llm-auction serve` receives), so the
 * writer and its inverse change together.
 */
import { readFileSync } from 'node:fs';
import { displayTitle, neutralizeText } from './format.ts';
import { hash32 } from '../lib/rng.ts';
import type { AuctionInput, BiddedAd } from './types.ts';

/** The built-in Ad-LLM prompts, by name; any other value of LLM_AUCTION_AD_TEMPLATE is a file. */
export const AD_TEMPLATES: Record<string, URL> = {
  default: new URL('./templates/ad-llm.md', import.meta.url),
  // A short prompt for CPU runs of small models: a third of the tokens to read, and no example
  // titles a small model can copy instead of the candidates.
  compact: new URL('./templates/ad-llm-compact.md', import.meta.url),
};

/** The environment variable (set by the CLI's `--ad-template`) that chooses the prompt for every process of a run. */
export const AD_TEMPLATE_ENV = 'LLM_AUCTION_AD_TEMPLATE';

const templateCache = new Map<string, string>();

/**
 * The Ad-LLM prompt template: the file at `path` if given, else the one LLM_AUCTION_AD_TEMPLATE
 * names (`default`, `compact` or a file), else the default. The sampler, `serve` (which reads
 * prompts back with it) and the trainer's pairs all take it from here, so they agree.
 */
export function loadTemplate(path?: string | URL): string {
  if (path !== undefined) return readFileSync(path, 'utf8');
  return namedTemplate(process.env[AD_TEMPLATE_ENV]?.trim() || 'default');
}

/** A built-in template by name, or a file by path; read once. */
function namedTemplate(choice: string): string {
  let hit = templateCache.get(choice);
  if (hit === undefined) {
    hit = readFileSync(AD_TEMPLATES[choice] ?? choice, 'utf8');
    templateCache.set(choice, hit);
  }
  return hit;
}

const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;

/** Fill `{{name}}` placeholders in one pass; unknown placeholders are an error (a typo in a template). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return v;
  });
}

/** One candidate as a JSON line. JSON.stringify escapes quotes and backslashes in the title. */
export function candidateLine(ad: BiddedAd): string {
  return JSON.stringify({ 'Ad ID': ad.id, 'Ad Title': displayTitle(ad.title), 'Ad Bid': ad.bid });
}

export function buildAdPrompt(input: AuctionInput, template?: string): string {
  return fillTemplate(template ?? loadTemplate(), {
    candidates: input.ads.map(candidateLine).join('\n'),
    profile_info: neutralizeText(input.profile.info),
    profile_interests: input.profile.interests.map(neutralizeText).join(', '),
    query: neutralizeText(input.query),
  });
}

/** The prompt as chat messages, for chat-completions endpoints. */
export function buildAdMessages(input: AuctionInput, template?: string): { role: 'user'; content: string }[] {
  return [{ role: 'user', content: buildAdPrompt(input, template) }];
}

/** The text given to `parseAdPrompt` is not an Ad-LLM prompt (or lists a candidate wrongly). */
export class AdPromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdPromptError';
  }
}

export interface ParsedAdPrompt {
  input: AuctionInput;
  /** True when the text matched the template exactly; false when read by the lenient fallback. */
  exact: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const templateRegexCache = new Map<string, { re: RegExp; names: string[] }>();

/** The template as a regex: literal text as is, each placeholder a capture (candidates span lines). */
function templateRegex(template: string): { re: RegExp; names: string[] } {
  let hit = templateRegexCache.get(template);
  if (hit) return hit;
  const t = template.trim();
  const names: string[] = [];
  let src = '';
  let last = 0;
  for (const m of t.matchAll(PLACEHOLDER)) {
    src += escapeRegExp(t.slice(last, m.index));
    names.push(m[1]!);
    src += m[1] === 'candidates' ? '([\\s\\S]*?)' : '([^\\n]*)';
    last = m.index! + m[0].length;
  }
  src += escapeRegExp(t.slice(last));
  hit = { re: new RegExp(`^${src}$`), names };
  templateRegexCache.set(template, hit);
  return hit;
}

/** The candidate list: one JSON object per line with "Ad ID", "Ad Title" and "Ad Bid". */
function parseCandidates(lines: readonly string[], strict: boolean): BiddedAd[] {
  const ads: BiddedAd[] = [];
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (line === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      if (strict) throw new AdPromptError(`candidate line ${k + 1} is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const rec = o as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || !('Ad ID' in rec)) {
      if (strict) throw new AdPromptError(`candidate line ${k + 1} has no "Ad ID"`);
      return;
    }
    const id = rec['Ad ID'];
    const title = rec['Ad Title'];
    const bid = rec['Ad Bid'];
    if (typeof id !== 'string' || id === '') throw new AdPromptError(`candidate line ${k + 1}: "Ad ID" must be a non-empty string`);
    if (typeof title !== 'string') throw new AdPromptError(`candidate ${id}: "Ad Title" must be a string`);
    if (typeof bid !== 'number' || !Number.isFinite(bid) || bid < 0) throw new AdPromptError(`candidate ${id}: "Ad Bid" must be a non-negative number`);
    if (ads.some((a) => a.id === id)) throw new AdPromptError(`candidate ${id} is listed twice`);
    ads.push({ id, title, bid });
  });
  return ads;
}

/** The prompt carries no profile id; a stable one from the profile's text keeps per-profile caches apart. */
function profileId(info: string, interests: string[]): string {
  return `U-prompt-${hash32(`${info}\u0000${interests.join('\u0000')}`).toString(16).padStart(8, '0')}`;
}

function splitInterests(s: string): string[] {
  return s.trim() === '' ? [] : s.split(', ').map((x) => x.trim());
}

/** Lenient reading of a prompt worded differently: JSON candidate lines, labelled profile lines, the question section. */
function parseLenient(text: string): AuctionInput {
  const lines = text.split('\n');
  const ads = parseCandidates(
    lines.filter((l) => /^\s*\{.*"Ad ID"/.test(l)),
    false,
  );
  const info = /^\s*Basic information:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? '';
  const interests = splitInterests(/^\s*Interests:\s*(.*)$/m.exec(text)?.[1] ?? '');
  const q = /#+\s*User question\s*\n([\s\S]*?)(?:\n\s*Your answer:|$)/i.exec(text);
  const query = q?.[1]?.trim() ?? '';
  if (ads.length === 0 && query === '') throw new AdPromptError('not an Ad-LLM prompt: no candidate lines ({"Ad ID","Ad Title","Ad Bid"}) and no "# User question" section');
  if (query === '') throw new AdPromptError('no "# User question" section found in the prompt');
  return { query, profile: { id: profileId(info, interests), info, interests }, ads };
}

/**
 * The inverse of buildAdPrompt: the auction a prompt was written for. Titles, profile and query
 * come back in the form the prompt shows them (display titles, one-line text), which is what a
 * rule sees through a prompt anyway; the profile id, absent from the prompt, is derived from its
 * text. Throws AdPromptError when the text is not an Ad-LLM prompt.
 */
export function parseAdPrompt(text: string, template?: string): ParsedAdPrompt {
  // Without an explicit template: the run's own first, then every built-in one, so `serve` reads
  // a compact prompt whatever its own environment says.
  const templates = template !== undefined ? [template] : [loadTemplate(), ...Object.keys(AD_TEMPLATES).map(namedTemplate)];
  const trimmed = text.trim();
  for (const tpl of templates) {
    const { re, names } = templateRegex(tpl);
    const m = re.exec(trimmed);
    if (!m) continue;
    const v: Record<string, string> = {};
    names.forEach((n, i) => (v[n] = m[i + 1]!));
    const info = (v.profile_info ?? '').trim();
    const interests = splitInterests(v.profile_interests ?? '');
    const query = (v.query ?? '').trim();
    const ads = parseCandidates((v.candidates ?? '').split('\n'), true);
    return { input: { query, profile: { id: profileId(info, interests), info, interests }, ads }, exact: true };
  }
  return { input: parseLenient(text), exact: false };
}
