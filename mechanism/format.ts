/**
 * The insertion format `@Ad Title@[Ad ID]` and how ad titles are shown to the Ad-LLM.
 *
 * Titles and queries are data, never instructions or markup. Before a title goes into the prompt it
 * is put into display form: characters that would break the insertion markup (`@`, `[`, `]`) or the
 * one-object-per-line candidate list (line breaks, control characters) are replaced, runs of
 * white space collapse, and over-long titles are cut. The parser compares an inserted title with the
 * display form of the catalog title, so the model is asked to copy exactly what it was shown.
 */

/** Longest title shown to the model (characters); longer catalog titles are cut with "…". */
export const MAX_TITLE_CHARS = 160;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function displayTitle(title: string): string {
  let t = title
    .replace(CONTROL, ' ')
    .replace(/@/g, '(at)')
    .replace(/\[/g, '(')
    .replace(/\]/g, ')')
    .replace(/\s+/g, ' ')
    .trim();
  if (t.length > MAX_TITLE_CHARS) t = `${t.slice(0, MAX_TITLE_CHARS - 1).trimEnd()}…`;
  return t;
}

/** Free text (a query, a profile line) put into the prompt as one line with no markup. */
export function neutralizeText(text: string): string {
  // One line, so it cannot open a new section of the prompt; and an `@…@[Ad-…]` written by a
  // user must not read as an insertion: the markup is broken.
  return text.replace(CONTROL, ' ').replace(/@/g, '(at)').replace(/\s+/g, ' ').trim();
}

/** The markup that inserts an ad. */
export function insertion(ad: { id: string; title: string }): string {
  return `@${displayTitle(ad.title)}@[${ad.id}]`;
}
