/**
 * Cleaning GEM-Bench text into what an ad or a query may say: marketplace listing titles become
 * readable ad titles, descriptions shrink to a sentence or two, and URL-escaped search queries are
 * decoded. Everything here is a pure function of its input.
 */

/** Ad titles must survive the `@Title@[Ad-ID]` markup, so the markup's own characters go. */
const MARKUP_CHARS = /[@[\]]/g;

const COLOURS = new Set(
  (
    'black white grey gray silver gold rose red blue navy green pink purple orange yellow brown tan beige ivory cream ' +
    'khaki taupe nude blush charcoal multi natural cognac camel olive teal burgundy indigo espresso chocolate ' +
    'metallic denim light dark bright heather space onyx sapphire platinum titanium midnight obsidian crimson ' +
    'maroon coral lime aqua violet plum mocha wheat leopard clear assorted colors barely fuchsia magenta ' +
    'polyester rubber nylon spandex cotton suede synthetic mesh'
  ).split(' '),
);

const SIZE_WORDS = new Set(
  (
    'size sizes sz us eu uk width wide narrow medium regular petite xs s m l xl xxl xxxl 2xl 3xl 1x 2x 3x 4x ' +
    "x-small small large x-large xx-large med one os m(b) m(d) w ee eee ww xw womens women's women mens men's men unisex adult fits most"
  ).split(' '),
);

/** Units that only read as clutter in a chunk of their own (", 10 fl oz"), not inside a name. */
const UNIT_WORDS = new Set('oz fl ounce ounces lb lbs g ml ct count ea each pack'.split(' '));

/** "8.5M", "10W", "12 EE", "40EU", "9xw", "US6.5", "XL": sizes with a unit or width letter (bare numbers are kept: "iPhone 6"). */
function isSizeWithUnit(w: string): boolean {
  return /^\d+(\.\d+)?(\/\d+(\.\d+)?)?(m|w|p|wp|d|e|ee|eee|4e|2a|b|am|y|xs|xl|eu|xw|xxw|ww)$/.test(w) || /^(us|eu)\d+(\.\d+)?$/.test(w);
}

function isClutterWord(word: string, allowNumbers: boolean): boolean {
  const w = word.toLowerCase().replace(/^[(]+|[),]+$/g, '');
  if (w === '' || w === '/' || w === '-') return true;
  if (SIZE_WORDS.has(w) || COLOURS.has(w) || isSizeWithUnit(w)) return true;
  if (allowNumbers && /^\d+(\.\d+)?$/.test(w)) return true;
  if (/^[a-z]+(\/[a-z]+)+$/.test(w) && w.split('/').every((p) => COLOURS.has(p))) return true;
  return false;
}

/** A chunk such as "Black 8.5M", "Size: 10 Wide" or "Gray/Red": nothing but colour and size words. */
function isClutterChunk(chunk: string): boolean {
  const words = chunk.replace(/[:]/g, ' ').split(/\s+/).filter((w) => w !== '');
  return (
    words.length > 0 &&
    words.every((w) => isClutterWord(w, true) || UNIT_WORDS.has(w.toLowerCase().replace(/[.,]$/, '')) || /^[a-e]{1,3}$/i.test(w))
  );
}

/** Retailer tags and listing noise that marketplaces append to titles. */
const NOISE_PATTERNS: RegExp[] = [
  /\s+(at|from) (nordstrom rack|finish line|hautelook|hollister|stage stores)\b.*$/i,
  /\s*-\s*(womens|mens|girls|boys) (shoes|clothing)\b.*$/i,
  /,?\s*(created|only) (for|at) macy'?s\b/gi,
  /\s*-\s*women'?s plus size clothing\b.*$/i,
  /\b(nwot|nwt|new with tags|brand new in sealed box|brandnew)\b\s*-?\s*/gi,
  /\bmsrp\b/gi,
  /,?\s*variation parent\b/gi,
  /\s+w\/o box\b/gi,
  /\s+\d+(\.\d+)?\s?(oz|ml|fl oz|g|lbs?)(\/\d+(\.\d+)?\s?(ml|g|oz))?\.?\s*$/i,
  /\((pack of \d+|\d+-?pack|case of \d+)\)/gi,
  /\s+\$\d+(\.\d+)?\/sq\.?\s*ft\.?/gi,
  /\s+-\s*style\s*#?\s*\w+$/i,
  /\s+\(?\b\d+(\.\d+){2,}\b\)?/g,
  /\s+\(\d{4,}\)/g,
  /\s+#?\b[A-Z]{0,4}\d{5,}[A-Z0-9-]*\b/g,
  // Hyphenated catalogue codes only at the end: mid-title they are often model names ("DSC-RX100").
  /\s+-?\s*\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{2,}-[A-Z0-9-]{2,}$/,
  /\s+\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{9,}\b/g,
  /[®™]|\((r|tm)\)/gi,
  /\bsize:?\s+(x{0,2}-?small|small|medium|large|x{0,2}-?large|xx?l|xs|\d+(\.\d+)?[a-z]*(\/\d+(\.\d+)?[a-z]*)?(-[a-z]+)?)(?![\w/-])/gi,
  /\b\d+(\.\d+)?-?in\.?\s*[wlh]\s*x\s*\d+(\.\d+)?-?in\.?\s*[wlh]\b/gi,
  // Dimensions tail: "12 mm Thick x 6-1/8 in. Wide x …".
  /\s\d[\d/.-]*\s*(mm|in\.|ft\.|inch|")\s*(thick|wide|long|w|l|h|x)\b.*$/i,
];

/** Poshmark-style titles: "Nike Shoes | Nike Air Force 1 Low | Color: Blue | Size: 10". */
function pickSegment(title: string): string {
  const segs = title
    .split(/\s*\|\s*/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !/^(colou?r|size|condition)\s*:/i.test(s));
  if (segs.length === 0) return title;
  const first = segs[0]!;
  // "Brand Department | actual product": the department label is less informative than what follows.
  const department = /\b(shoes|tops|accessories|pants|sweats|jackets & coats|bags|other|swim|shirts|sweaters)$/i;
  if (segs.length > 1 && department.test(first) && segs[1]!.length >= first.length) return segs[1]!;
  return first;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cut at a word boundary, preferring a natural break (comma, dash, colon) near the end. */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max + 1);
  const breaks = [...head.matchAll(/\s*(,|\s-\s|:|\s\()/g)].map((m) => m.index ?? 0).filter((i) => i >= max * 0.4);
  if (breaks.length > 0) return head.slice(0, breaks[breaks.length - 1]).trim();
  const space = head.lastIndexOf(' ');
  return head.slice(0, space > 0 ? space : max).trim();
}

/** Words a title should not end on once its tail has been cut. */
const DANGLING = /\s+(for|with|and|or|by|in|of|the|to|a|an|x|w\/)$/i;

function tidyEnds(text: string): string {
  let t = text;
  for (;;) {
    const next = t
      .replace(/\s*\([^)]*$/, '')
      .replace(/\s*,\s*,/g, ',')
      .replace(/^[\s\-–—:,|.;/*]+/, '')
      .replace(/[\s\-–—:,|;/(&+*]+$/, '')
      .replace(/\(\s*\)/g, '')
      .replace(DANGLING, '')
      .trim();
    if (next === t) return t;
    t = next;
  }
}

/** Strip trailing colour/size chunks and words ("…Sandals - Black 8M", "…Hat Blue One Size Fits Most"). */
function stripTail(title: string): string {
  let t = title;
  for (;;) {
    const before = t;
    // A trailing code in parentheses: "(KP7719)".
    t = t.replace(/\s*\((?=[^)]*\d)[A-Z0-9-]{3,}\)$/, '');
    const chunks = t.split(/(\s+-\s+|,\s+|\s*:\s+|\s+\/\s+|\s+-(?=\s*$))/);
    while (chunks.length > 2 && isClutterChunk(chunks[chunks.length - 1]!)) chunks.splice(-2, 2);
    t = chunks.join('');
    const words = t.split(' ');
    while (words.length > 3 && isClutterWord(words[words.length - 1]!, false)) words.pop();
    t = tidyEnds(words.join(' ').replace(/\s+(size|sz)\.?:?\s*[\w./-]+(\s+(wide|medium|regular|narrow|m|w))?\s*$/i, ''));
    if (t === before) return t;
  }
}

/** "Kerastase - Kerastase Nutritive…" and "Prevagen Prevagen…": keep the brand once. */
function dropRepeatedBrand(t: string): string {
  let out = t.replace(/^(\S+(?: \S+)?)\s+(?:-\s+)?\1\b/i, '$1');
  // "… Jacket Dress by Alex Evenings" when the title already starts with the brand.
  const by = out.match(/\s+by\s+([^,()-]+)$/i);
  if (by && out.toLowerCase().startsWith(by[1]!.trim().toLowerCase())) out = out.slice(0, by.index);
  return out;
}

/**
 * A readable ad title from a marketplace listing title: the informative segment, without retailer
 * tags, part numbers, trailing colour/size words or markup characters, whitespace collapsed and at
 * most `max` characters. Returns '' when nothing readable is left.
 */
export function cleanTitle(raw: string, max = 80): string {
  let t = pickSegment(raw.replace(MARKUP_CHARS, ' '));
  t = t.replace(/\)(?=[A-Za-z])/g, ') ').replace(/(?<=[A-Za-z])\(/g, ' (');
  for (const re of NOISE_PATTERNS) t = t.replace(re, ' ');
  t = collapse(t.replace(/\s*\(\s*(size:?[^)]*|[^)]*\bsize\b[^)]*)\)/gi, ' '));
  t = stripTail(collapse(dropRepeatedBrand(t)));
  return stripTail(shorten(t, max));
}

/** Abbreviations whose period does not end a sentence. */
const ABBREVIATIONS = new Set('mr mrs ms dr st inc co no vs approx incl jr sr ft oz lb lbs'.split(' '));

/** Sentences of a text: a split after . ! ? followed by a capital or digit, not after "L.I.D." or "Dr.". */
function sentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (const m of text.matchAll(/[.!?]+\s+(?=["'(]?[A-Z0-9])/g)) {
    const end = (m.index ?? 0) + m[0].trimEnd().length;
    const lastWord = text.slice(start, end).split(/\s+/).pop() ?? '';
    const bare = lastWord.replace(/[.!?]+$/, '').toLowerCase();
    if (/^([a-z]\.)*[a-z]$/i.test(bare) || ABBREVIATIONS.has(bare)) continue;
    out.push(text.slice(start, end).trim());
    start = (m.index ?? 0) + m[0].length;
  }
  const rest = text.slice(start).trim();
  if (rest !== '') out.push(rest);
  return out;
}

/** One or two sentences of a product description, without URLs or markup characters. */
export function summarizeDescription(raw: string, max = 220): string {
  let t = collapse(raw.replace(MARKUP_CHARS, ' ').replace(/https?:\/\/\S+|www\.\S+/g, ' '));
  t = t.replace(/^[-–—\s]+/, '');
  if (t === '') return '';
  const parts = sentences(t);
  let out = parts[0]!;
  if (out.length < 70 && parts[1] !== undefined && out.length + parts[1].length + 1 <= max) out = `${out} ${parts[1]}`;
  if (out.length > max) out = `${shorten(out, max - 1).replace(/[,;:\s]+$/, '')}…`;
  return out;
}

/** Search queries in the TSV keep URL escapes (`nickel %26 nickel`); decode what decodes. */
export function decodeQueryText(raw: string): string {
  let t = raw;
  try {
    t = decodeURIComponent(raw.replace(/%(?![0-9a-f]{2})/gi, '%25'));
  } catch {
    t = raw;
  }
  return collapse(t);
}

/** The raw title made markup-safe and cut to length, for when cleaning leaves nothing readable. */
export function plainTitle(raw: string, max = 80): string {
  return shorten(collapse(raw.replace(MARKUP_CHARS, ' ')), max);
}
