/**
 * The response parser: finds every `@Ad Title@[Ad ID]` insertion in a response and classifies it.
 *
 * - a valid exposure: the id is a candidate of this auction and the title is that candidate's (as
 *   shown to the model, white space aside), first time this ad appears;
 * - `unknown_id`: well-formed markup whose id is not a candidate (a hallucinated ad);
 * - `title_mismatch`: a candidate's id with a title other than the candidate's;
 * - `duplicate`: an ad that was already validly exposed earlier in the response;
 * - `malformed`: an insertion attempt that is not well-formed: an id outside `@…@[…]` markup, an id
 *   not of the form `Ad-…`, a candidate's title written as `@Title@` with no id, an unclosed
 *   bracket, an empty title.
 *
 * Only valid exposures can be clicked or charged; every error counts toward the format penalty.
 * The parser never throws and runs in time linear in the length of the response: every scan is
 * either bounded by a constant (a title is at most MAX_TITLE_SPAN characters, an id at most
 * MAX_ID_SPAN) or resumes where the previous one stopped.
 */
import { displayTitle } from './format.ts';
import { AD_ID_PATTERN } from './schemas.ts';
import type { Exposure, FormatError, FormatErrorKind, ParsedResponse } from './types.ts';

/** Longest span between the two `@` of an insertion that is still read as a title. */
export const MAX_TITLE_SPAN = 400;
/** Longest span inside `[…]` that is still read as an id. */
export const MAX_ID_SPAN = 64;
/** Error snippets are cut to this many characters. */
const MAX_SNIPPET = 200;

const AT = 64; // '@'
const LBRACKET = 91; // '['
const RBRACKET = 93; // ']'
const NEWLINE = 10;

export interface CandidateRef {
  id: string;
  title: string;
}

function normTitle(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function isIdChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

function snippet(text: string, start: number, end: number): string {
  return end - start > MAX_SNIPPET ? `${text.slice(start, start + MAX_SNIPPET - 1)}…` : text.slice(start, end);
}

/** Precomputed lookups for one auction's candidates, reusable across many responses. */
export class ResponseParser {
  private readonly titleById = new Map<string, string>();
  private readonly idByTitle = new Map<string, string>();

  constructor(ads: readonly CandidateRef[]) {
    for (const ad of ads) {
      const shown = normTitle(displayTitle(ad.title));
      this.titleById.set(ad.id, shown);
      this.idByTitle.set(shown.toLowerCase(), ad.id);
    }
  }

  parse(text: unknown): ParsedResponse {
    const s = typeof text === 'string' ? text : text == null ? '' : String(text);
    const n = s.length;
    const exposures: Exposure[] = [];
    const errors: FormatError[] = [];
    const exposed = new Set<string>();
    // Spans already accounted for (insertions and malformed markup), in increasing order, so the
    // stray-id pass below does not count the same characters twice.
    // Stored flat as start0, end0, start1, end1, … to keep allocation low on huge inputs.
    const covered: number[] = [];
    const fail = (kind: FormatErrorKind, start: number, end: number) => {
      errors.push({ kind, text: snippet(s, start, end), start, end });
      covered.push(start, end);
    };

    let i = 0;
    while (i < n) {
      const at = s.indexOf('@', i);
      if (at < 0) break;
      // The closing '@' of a title: the next '@' on the same line, not too far away.
      let close = -1;
      for (let k = at + 1; k < n && k - at <= MAX_TITLE_SPAN; k++) {
        const c = s.charCodeAt(k);
        if (c === AT) {
          close = k;
          break;
        }
        if (c === NEWLINE) break;
      }
      if (close < 0) {
        i = at + 1;
        continue;
      }
      const title = s.slice(at + 1, close);
      if (s.charCodeAt(close + 1) === LBRACKET) {
        let rb = -1;
        for (let k = close + 2; k < n && k - close - 2 <= MAX_ID_SPAN; k++) {
          const c = s.charCodeAt(k);
          if (c === RBRACKET) {
            rb = k;
            break;
          }
          if (c === NEWLINE || c === AT || c === LBRACKET) break;
        }
        if (rb >= 0) {
          const id = s.slice(close + 2, rb).trim();
          const end = rb + 1;
          const kind = this.classify(title, id, exposed);
          if (kind === null) {
            exposed.add(id);
            exposures.push({ id, title: normTitle(title), start: at, end });
            covered.push(at, end);
          } else {
            fail(kind, at, end);
          }
          i = end;
          continue;
        }
        // `@Title@[Ad-0001` with no closing bracket: malformed, up to the end of the id-like text.
        let end = close + 2;
        while (end < n && isIdChar(s.charCodeAt(end))) end++;
        fail('malformed', at, end);
        i = end;
        continue;
      }
      if (this.idByTitle.has(normTitle(title).toLowerCase())) {
        // A candidate's title marked up as an ad but with no `[Ad ID]` after it.
        fail('malformed', at, close + 1);
        i = close + 1;
        continue;
      }
      // Not an insertion (an e-mail address, say); the closing '@' may open the next one.
      i = close;
    }

    const main = errors.length;
    this.strayIds(s, covered, errors);
    // Both passes emit errors in text order; merge them only when the second found any.
    if (errors.length > main && main > 0) errors.sort((a, b) => a.start - b.start);
    return { exposures, errors };
  }

  /** null for a valid exposure, else the kind of error. */
  private classify(title: string, id: string, exposed: Set<string>): FormatErrorKind | null {
    if (!AD_ID_PATTERN.test(id) || normTitle(title) === '') return 'malformed';
    const expected = this.titleById.get(id);
    if (expected === undefined) return 'unknown_id';
    if (exposed.has(id)) return 'duplicate';
    if (normTitle(title) !== expected) return 'title_mismatch';
    return null;
  }

  /**
   * An ad id written outside any insertion (`[Ad-0001]` alone, `Ad-0001` after a title with no
   * markup) is a broken insertion. To spare ordinary words such as "Ad-free", only tokens
   * `Ad-…` that contain a digit count.
   */
  private strayIds(s: string, covered: number[], errors: FormatError[]): void {
    let c = 0; // index into covered (pairs sorted by start, non-overlapping)
    let from = 0;
    for (;;) {
      const p = s.indexOf('Ad-', from);
      if (p < 0) return;
      let end = p + 3;
      let digit = false;
      while (end < s.length && isIdChar(s.charCodeAt(end))) {
        const ch = s.charCodeAt(end);
        if (ch >= 48 && ch <= 57) digit = true;
        end++;
      }
      from = end;
      while (c < covered.length && covered[c + 1]! <= p) c += 2;
      const inside = c < covered.length && covered[c]! <= p;
      if (inside || !digit) continue;
      // A letter right before "Ad-" (as in "BadAd-1") makes it part of another word.
      const prev = p > 0 ? s.charCodeAt(p - 1) : 0;
      if ((prev >= 65 && prev <= 90) || (prev >= 97 && prev <= 122)) continue;
      const start = prev === LBRACKET ? p - 1 : p;
      const stop = s.charCodeAt(end) === RBRACKET ? end + 1 : end;
      errors.push({ kind: 'malformed', text: snippet(s, start, stop), start, end: stop });
    }
  }
}

/** Parse one response against the candidate ads of its auction. Never throws. */
export function parseResponse(text: string, ads: readonly CandidateRef[]): ParsedResponse {
  return new ResponseParser(ads).parse(text);
}

/** Number of format errors (each one is penalized by the reward). */
export function formatErrorCount(parsed: ParsedResponse): number {
  return parsed.errors.length;
}
