/**
 * The Ad-LLM prompt (paper, Appendix B.1, in our own words): role, task, the candidate list one JSON
 * object per line with keys "Ad ID", "Ad Title", "Ad Bid", the insertion rules, right and wrong
 * examples, the user profile and the question.
 *
 * The wording lives in `templates/ad-llm.md` so it can be edited without touching code. Placeholders
 * `{{name}}` are filled in one pass, so text inside a query or title that looks like a placeholder
 * is never expanded. Titles are shown in display form and every free-text field is reduced to one
 * line without markup (format.ts), so data cannot break the list or pose as an insertion.
 */
import { readFileSync } from 'node:fs';
import { displayTitle, neutralizeText } from './format.ts';
import type { AuctionInput, BiddedAd } from './types.ts';

const DEFAULT_TEMPLATE = new URL('./templates/ad-llm.md', import.meta.url);

let cachedDefault: string | undefined;

export function loadTemplate(path?: string | URL): string {
  if (path === undefined) return (cachedDefault ??= readFileSync(DEFAULT_TEMPLATE, 'utf8'));
  return readFileSync(path, 'utf8');
}

/** Fill `{{name}}` placeholders in one pass; unknown placeholders are an error (a typo in a template). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
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
