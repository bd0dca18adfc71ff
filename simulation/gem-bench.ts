/**
 * Adapter for the GEM-Bench data folder (Apache-2.0; see data/NOTICE.md): its product catalog
 * (`ca_prod_products.tsv`), its search queries (`ca_prod_queries.tsv`) and its two sets of real chat
 * prompts (`lm_market_prompts.json` with `lm_market_categories.json`, `mt_human_prompts.json`).
 *
 * Three users: `data/build-catalog.ts` picks the embedded 100-ad catalog from the products, the
 * `import` command converts a whole folder to the contract's JSON Lines files, and evaluation code
 * can add the real prompts as an extra test set. Everything here is deterministic in its inputs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../mechanism/errors.ts';
import { readText } from '../mechanism/jsonl.ts';
import { parseJsonArray } from '../mechanism/jsonl.ts';
import { Rng } from '../mechanism/rng.ts';
import { AD_ID_PATTERN } from '../mechanism/schemas.ts';
import type { Ad, Profile, Query } from '../mechanism/types.ts';
import { interestsForText, synthesizeProfile } from './world.ts';

export const GEM_BENCH_FILES = {
  products: 'ca_prod_products.tsv',
  queries: 'ca_prod_queries.tsv',
  lmPrompts: 'lm_market_prompts.json',
  lmCategories: 'lm_market_categories.json',
  humanPrompts: 'mt_human_prompts.json',
} as const;

// ---------------------------------------------------------------------------------------------
// TSV
// ---------------------------------------------------------------------------------------------

export interface TsvRow {
  /** 1-based line of the file the row starts on, for error messages. */
  line: number;
  cells: Record<string, string>;
}

export interface TsvTable {
  file: string;
  columns: string[];
  rows: TsvRow[];
}

/**
 * Split one line on tabs. The GEM-Bench export quotes a field CSV-style when it contains a double
 * quote (`"4"" Lift Kit"`), so a field that starts with `"` is read up to its closing quote (which
 * may shield tabs) and `""` becomes `"`. A quote anywhere else is an ordinary character, and an
 * opening quote that is never closed is kept literally rather than swallowing the rest of the line.
 */
export function splitTsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < line.length) {
        const ch = line[j]!;
        if (ch === '"') {
          if (line[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          closed = j + 1 === line.length || line[j + 1] === '\t';
          break;
        }
        value += ch;
        j++;
      }
      if (closed) {
        out.push(value);
        if (j + 1 === line.length) return out;
        i = j + 2;
        continue;
      }
    }
    const tab = line.indexOf('\t', i);
    if (tab < 0) {
      out.push(line.slice(i));
      return out;
    }
    out.push(line.slice(i, tab));
    i = tab + 1;
  }
}

function readSource(file: string): string {
  // UTF-8 strictly (bad bytes named by line), a byte-order mark dropped.
  return readText(file);
}

/** Parse a TSV text with a header line; `required` columns must be present. Blank lines are skipped. */
export function parseTsv(text: string, file: string, required: readonly string[]): TsvTable {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const header = (lines[0] ?? '').replace(/\r$/, '');
  if (header.trim() === '') throw new InputError(file, 1, undefined, 'missing header line');
  const columns = splitTsvLine(header).map((c) => c.trim());
  for (const col of required) {
    if (!columns.includes(col)) throw new InputError(file, 1, col, `missing column (header has: ${columns.join(', ')})`);
  }
  const rows: TsvRow[] = [];
  for (let k = 1; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const values = splitTsvLine(raw);
    if (values.length !== columns.length) {
      throw new InputError(file, k + 1, undefined, `expected ${columns.length} tab-separated fields, found ${values.length}`);
    }
    const cells: Record<string, string> = {};
    columns.forEach((c, j) => (cells[c] = values[j]!));
    rows.push({ line: k + 1, cells });
  }
  return { file, columns, rows };
}

export function readTsv(file: string, required: readonly string[]): TsvTable {
  return parseTsv(readSource(file), file, required);
}

// ---------------------------------------------------------------------------------------------
// Cleaning
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------------

/**
 * The source's `cluster_category` is a number (0-5) that only separates broad departments, so a
 * readable category comes from keyword rules on the title, tried in order (first match wins). The
 * order matters: specific intents (kids, travel, golf, yoga) are tried before the generic product
 * words they contain ("Kids Edition Tablet", "TravelActiv Sandals").
 */
export interface CategoryRule {
  category: string;
  match: RegExp;
  /** A second pattern the title must also match. */
  also?: RegExp;
  unless?: RegExp;
  /**
   * Source departments (`cluster_category`) the rule applies to, when the row has one: keeps
   * "Rear Axle Draw Bar" out of snack bars and a "Cream" top out of skin care.
   */
  clusters?: string[];
}

const FOOD = ['3'];
const TECH = ['4'];
const HOME = ['2'];

export const CATEGORY_RULES: readonly CategoryRule[] = [
  { category: 'Back to School', match: /\b(uniforms?|schoolwear|school|learning tab|kids tablet|kids android tablet|kids edition|fire kids)\b/ },
  { category: 'Baby & Toddler', match: /\b(baby|babies|infants?|toddlers?|happy squeeze|honest kids|kids apple juice)\b/, unless: /\b(tylenol|ibuprofen|acetaminophen|pain|fever|cough|cold|mucus|colic|shoes?|boots?|slippers?|booties)\b/, clusters: FOOD },
  { category: 'Backyard Playhouses', match: /\bplayhouse\b/ },
  {
    category: "Kids' Fashion",
    match: /\b(girls|girl's|girls'|boys|boy's|boys'|kids|kids'|kid's|little kids|big girls|toddler|infant|baby booties?)\b/,
    also: /\b(shoes?|boots?|sneakers?|sandals?|slippers?|booties|dress|romper|pants|jeans|sweater|tops?|jacket|hoodie|socks|cap|hat)\b/,
  },
  { category: 'Golf', match: /\bgolf\b/ },
  { category: 'Yoga & Fitness', match: /\b(yoga|lululemon|work ?out|fitness|running short|capri'?s|leggings|sports bras?|sculpt tank)\b/ },
  { category: 'Travel Essentials', match: /\b(travel|travelers|travelactiv|compression|mmhg|bumbag|fanny pack)\b/ },
  { category: 'Swimwear & Beach', match: /\b(swim|swimdress|swimsuit|bikini|floppy|wide brim)\b/ },
  { category: 'Hiking & Outdoor', match: /\b(trail|acg|coal creek|sun protect|anorak|soft shell|hooded reversible)\b/ },
  { category: 'Team Sports', match: /\b(basketball|volleyball|jersey|baseball cap|pg ?3|kyrie)\b/ },
  { category: 'Gym & Training', match: /\b(metcon|cross-training|trainer|training shoes?|zoom strike)\b/ },
  { category: 'Running Shoes', match: /\b(running|runner|vomero|vapormax|air max|reax run|free flyknit)\b/ },
  { category: 'Comfort & Work Shoes', match: /\b(slip[- ]resistant|diabetic|orthopedic|pedors|orthofeet|nurse mates|scrubs|service professional|kuru|lifewalker|overshoe|comfort shoes?|comfortease)\b/ },
  { category: 'Walking Shoes', match: /\b(walking|go walk)\b/ },
  { category: 'Sandals', match: /\b(sandals?|slides?|flip[- ]flops?|espadrilles?|mules?)\b/ },
  { category: 'Boots', match: /\b(boots?|booties?)\b/ },
  { category: 'Dresses & Formal Wear', match: /\b(dress|dresses|gown|cocktail|jumpsuit|romper)\b/, unless: /\b(shoes?|sandals?|pumps?|heels?|socks?|shirt)\b/ },
  { category: 'Workwear & Suits', match: /\b(blazer|pantsuit|skirt suit|suit jacket|suit separate|suiting|trouser pant|pants suit|three-piece suit|versatile suit|tie)\b/ },
  { category: 'Coats & Jackets', match: /\b(coat|jacket|parka|peacoat|trench|cape)\b/ },
  { category: 'Watches & Accessories', match: /\b(watch|satchel|handbag|mini bag|belt|cross body|headband)\b/ },
  // Technology.
  { category: 'Cars & Trucks', match: /\b(dash ?cam|car camera|lift kit|snow ?plow|plow|tires?|suspension|leveling)\b/, unless: /\b(tractor|farm|turf|trac chief|ag(ricultural)?|lawn|mower|crop)\b/, clusters: ['0', '4'] },
  { category: 'Smart Home & Security', match: /\b(security camera|ip camera|wi-?fi camera|home security|motion detection)\b/, clusters: TECH },
  { category: 'Cameras & Photography', match: /\b(lens|lenses|tripod|camcorder|dslr|mirrorless|digital camera|powershot|lighting kit|megapixel digital)\b/, clusters: TECH },
  { category: 'Tablets', match: /\b(ipad|tablet|surface pro|galaxy tab)\b/, unless: /\b(keyboard|screen|glass|case|digitizer|replacement)\b/, clusters: TECH },
  { category: 'Computer Accessories', match: /\b(keyboard|mouse|usb|adapter|dongle|wi-?fi|charger|charging|transmitter)\b/, clusters: TECH },
  { category: 'Laptops & Computers', match: /\b(laptop|chromebook|macbook|notebook|imac|mac mini|netbook|toughbook|surface book|desktop computer)\b/, clusters: TECH },
  { category: 'Smartphones', match: /\b(iphone|smartphone|smart phone|cell phone|galaxy|moto g|oneplus|flip phone|mobile phone|unlocked)\b/, clusters: TECH },
  { category: 'TV & Home Theater', match: /\b(tv|hdtv|blu-?ray|dvd|monitor|wireless display|soundbar|home theater)\b/, clusters: TECH },
  // Home.
  { category: 'Outdoor & Patio', match: /\b(patio|outdoor|rattan|porch)\b/, clusters: HOME },
  { category: 'Home Office', match: /\b(desk|workstation|office)\b/, clusters: HOME },
  { category: 'Books & Reading', match: /\b(bookcases?|bookshelf|bookshelves|timber-framed house)\b/, clusters: HOME },
  { category: 'Dining Room', match: /\b(dining|dinette|buffet)\b/, clusters: HOME },
  { category: 'Kitchen', match: /\b(kitchen island|kitchen cart|kitchen storage|butcher block)\b/, clusters: HOME },
  { category: 'Bedroom Furniture', match: /\b(beds?|bedroom|daybed|headboard|trundle|dresser|chest|bunk)\b/, unless: /\b(chest freezer)\b/, clusters: HOME },
  { category: 'Living Room Furniture', match: /\b(sofa|sectional|loveseat|living room|recliner|reclining|armchair|coffee tables?|cocktail table|console table|sofa table|end table|media (tower|console|cabinet|storage)|tv stand|chairs?)\b/, clusters: HOME },
  { category: 'Home Decor', match: /\b(blinds?|roman shade|wall decor|shutters?|décor film|decor film|fireplace)\b/, clusters: HOME },
  { category: 'Storage & Organization', match: /\b(shelf|shelves|organizer|storage|cabinets?|cube)\b/, clusters: HOME },
  { category: 'Home Improvement', match: /\b(flooring|floors?|plank|planks|doors?|countertop|laminate|veneer|paneling|tile|house plan|cabin kit|log cabin|wood panel)\b/, clusters: HOME },
  // Yard.
  { category: 'Lawn & Garden', match: /\b(lawn|mowers?|leaf blower|backpack blower|gas blower|zero[- ]turn|garden|pressure washer|snow blower|snow thrower)\b/, clusters: ['0', '2'] },
  // Food, health and care.
  { category: 'Pet Care', match: /\b(dogs?|cats?|pets?|petmeds|horses?|hairball|vet'?s best)\b/, clusters: FOOD },
  { category: 'Breakfast & Cereal', match: /\b(oatmeal|granola|cereal|flakes|cheerios)\b/, clusters: FOOD },
  { category: 'Healthy Snacks', match: /\b(bars?|puffs|crackers|snacks?)\b/, unless: /\b(tool|axle)\b/, clusters: FOOD },
  { category: 'Soups & Broths', match: /\b(broth|soup)\b/, unless: /\b(protein|capsules?)\b/, clusters: FOOD },
  { category: 'Protein & Sports Nutrition', match: /\b(protein|whey|lean mass|glutamine)\b/, clusters: FOOD },
  { category: 'Smoothies & Superfoods', match: /\b(superfoods?|superboost|greens|flax ?seeds?|milled|tvp|textured vegetable|smoothie|juice)\b/, unless: /\b(softgels?|capsules?|caps|tablets?|chewables?|oil|flavor)\b/, clusters: FOOD },
  { category: 'Allergy Relief', match: /\b(allergy|allergies|sinus|claritin|zyrtec|nasal)\b/, clusters: FOOD },
  { category: 'Hair Care', match: /\b(kerastase|hair|shampoo|conditioner)\b/, clusters: FOOD },
  { category: 'Skin Care', match: /\b(serum|skin|skincare|face|facial|peel|moisture|cream|elixir|salve)\b/, clusters: FOOD },
  { category: 'Vitamins & Supplements', match: /\b(vitamins?|multi|multivitamins?|multi-vitamin|biotin|supplements?|capsules|caps|softgels|tablets|gummies|emergen-c|coq10|co q-10|omega-3|turmeric|magnesium|natural calm|lutein)\b/, clusters: FOOD },
];

/** Broad department names for the source's numeric clusters, used when no rule matches. */
export const CLUSTER_CATEGORIES: Readonly<Record<string, string>> = {
  '0': 'Tools & Auto Parts',
  '1': 'Shoes',
  '2': 'Home & Furniture',
  '3': 'Health & Nutrition',
  '4': 'Electronics',
  '5': 'Clothing',
};

/** The readable category of a product title, or undefined when no keyword rule applies. */
export function categorize(title: string, cluster?: string): string | undefined {
  const t = title.toLowerCase();
  const known = clusterKey(cluster);
  for (const rule of CATEGORY_RULES) {
    if (rule.clusters !== undefined && known && !rule.clusters.includes(known)) continue;
    if (rule.match.test(t) && (rule.also?.test(t) ?? true) && !(rule.unless?.test(t) ?? false)) return rule.category;
  }
  return undefined;
}

/** "2.0" -> "2"; undefined when the value is missing or not a number. */
function clusterKey(cluster: string | undefined): string | undefined {
  if (cluster === undefined || cluster.trim() === '' || !Number.isFinite(Number(cluster))) return undefined;
  return String(Math.trunc(Number(cluster)));
}

function clusterCategory(cluster: string | undefined): string | undefined {
  const key = clusterKey(cluster);
  return key === undefined ? undefined : CLUSTER_CATEGORIES[key];
}

// ---------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------

export interface GemBenchProduct {
  productId: string;
  line: number;
  rawTitle: string;
  title: string;
  description: string;
  rawDescription: string;
  brand: string;
  cluster: string;
  /** Keyword-rule category, or undefined when no rule matched. */
  ruleCategory: string | undefined;
  /** `ruleCategory`, else the cluster's department, else "Other". */
  category: string;
}

/**
 * Read `ca_prod_products.tsv`. A row without a title is an input error (an ad must have a title
 * to be inserted); ids must be usable in `Ad-<product_id>` and must not repeat.
 */
export function readGemBenchProducts(file: string): GemBenchProduct[] {
  const table = readTsv(file, ['product_id', 'ad_title']);
  const seen = new Map<string, number>();
  return table.rows.map(({ line, cells }) => {
    const productId = (cells.product_id ?? '').trim();
    if (productId === '') throw new InputError(file, line, 'product_id', 'missing product id');
    if (!AD_ID_PATTERN.test(`Ad-${productId}`)) {
      throw new InputError(file, line, 'product_id', `${JSON.stringify(productId)} cannot form an ad id (letters, digits, "_" or "-" only)`);
    }
    const first = seen.get(productId);
    if (first !== undefined) throw new InputError(file, line, 'product_id', `duplicate product id ${JSON.stringify(productId)} (first on line ${first})`);
    seen.set(productId, line);
    const rawTitle = cells.ad_title ?? '';
    if (rawTitle.trim() === '') throw new InputError(file, line, 'ad_title', 'missing title');
    let title = cleanTitle(rawTitle);
    // Cleaning is cosmetic; if it leaves nothing, fall back to the raw text made markup-safe.
    if (title === '') title = shorten(collapse(rawTitle.replace(MARKUP_CHARS, ' ')), 80);
    if (title === '') throw new InputError(file, line, 'ad_title', 'title has no readable text');
    const rawDescription = cells.ad_description ?? '';
    const ruleCategory = categorize(rawTitle, cells.cluster_category);
    return {
      productId,
      line,
      rawTitle,
      title,
      description: summarizeDescription(rawDescription),
      rawDescription,
      brand: (cells.brand ?? '').trim(),
      cluster: (cells.cluster_category ?? '').trim(),
      ruleCategory,
      category: ruleCategory ?? clusterCategory(cells.cluster_category) ?? 'Other',
    };
  });
}

export function productToAd(p: GemBenchProduct, id = `Ad-${p.productId}`): Ad {
  const ad: Ad = { id, title: p.title };
  if (p.description !== '') ad.description = p.description;
  ad.category = p.category;
  return ad;
}

// ---------------------------------------------------------------------------------------------
// Prompts and queries
// ---------------------------------------------------------------------------------------------

/** Which profile interests fit the lm_market prompt categories (others are read from the text). */
const PROMPT_CATEGORY_INTERESTS: Readonly<Record<string, string[]>> = {
  'Travel Planning': ['travel'],
  'Software Tools Comparison': ['computers and tech'],
};

function readStringArray(file: string): { values: string[]; lines: number[] } {
  const text = readSource(file);
  const values = parseJsonArray(text, file, z.string({ error: 'must be a string' }));
  // Line of each element, for errors about a single prompt.
  const lines: number[] = [];
  let line = 1;
  let k = 0;
  let inString = false;
  let depth = 0;
  for (let i = 0; i < text.length && k < values.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === '"' && depth === 1) {
      inString = true;
      lines.push(line);
      k++;
    }
  }
  return { values, lines };
}

export interface PromptSet {
  profiles: Profile[];
  queries: Query[];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A profile for a real prompt: synthetic, but with interests that fit what the prompt asks. */
function promptProfile(seed: number, id: string, label: string, text: string, hinted: string[] = []): Profile {
  const preferred = [...new Set([...hinted, ...interestsForText(text)])];
  return synthesizeProfile(Rng.derive(seed, 'gem-bench', label), id, preferred);
}

/**
 * The real chat prompts of a GEM-Bench folder as an extra test set: the 100 lm_market prompts
 * (`Q-LM-001`…) and the 10 mt_human prompts (`Q-MT-01`…), all with split "test", each asked by its
 * own synthetic profile (`U-LM-001`…), fixed by the seed. Prompts repeat in the source; they keep
 * their own ids so the set stays aligned with the category file.
 */
export function loadGemBenchPrompts(dir: string, opts: { seed?: number } = {}): PromptSet {
  const seed = opts.seed ?? 0;
  const profiles: Profile[] = [];
  const queries: Query[] = [];
  const lmFile = join(dir, GEM_BENCH_FILES.lmPrompts);
  const catFile = join(dir, GEM_BENCH_FILES.lmCategories);
  const lm = readStringArray(lmFile);
  const cats = readStringArray(catFile);
  if (cats.values.length !== lm.values.length) {
    throw new InputError(catFile, undefined, undefined, `has ${cats.values.length} categories for ${lm.values.length} prompts in ${GEM_BENCH_FILES.lmPrompts}`);
  }
  lm.values.forEach((raw, k) => {
    const text = raw.trim();
    if (text === '') throw new InputError(lmFile, lm.lines[k], `[${k}]`, 'empty prompt');
    const n = pad(k + 1, 3);
    const profile = promptProfile(seed, `U-LM-${n}`, `lm/${k}`, text, PROMPT_CATEGORY_INTERESTS[cats.values[k]!] ?? []);
    profiles.push(profile);
    queries.push({ id: `Q-LM-${n}`, profile_id: profile.id, text, split: 'test' });
  });
  const humanFile = join(dir, GEM_BENCH_FILES.humanPrompts);
  const human = readStringArray(humanFile);
  human.values.forEach((raw, k) => {
    const text = raw.trim();
    if (text === '') throw new InputError(humanFile, human.lines[k], `[${k}]`, 'empty prompt');
    const n = pad(k + 1, 2);
    const profile = promptProfile(seed, `U-MT-${n}`, `mt/${k}`, text);
    profiles.push(profile);
    queries.push({ id: `Q-MT-${n}`, profile_id: profile.id, text, split: 'test' });
  });
  return { profiles, queries };
}

/** The search queries of `ca_prod_queries.tsv` (`Q-CA-<query_id>`), each with its own profile. */
export function readGemBenchQueries(file: string, seed = 0): PromptSet {
  const table = readTsv(file, ['query_id', 'query_text']);
  const seen = new Map<string, number>();
  const profiles: Profile[] = [];
  const queries: Query[] = [];
  for (const { line, cells } of table.rows) {
    const qid = (cells.query_id ?? '').trim();
    if (!/^[A-Za-z0-9_-]+$/.test(qid)) throw new InputError(file, line, 'query_id', qid === '' ? 'missing query id' : `${JSON.stringify(qid)} must be letters, digits, "_" or "-"`);
    const first = seen.get(qid);
    if (first !== undefined) throw new InputError(file, line, 'query_id', `duplicate query id ${JSON.stringify(qid)} (first on line ${first})`);
    seen.set(qid, line);
    const text = decodeQueryText(cells.query_text ?? '');
    if (text === '') throw new InputError(file, line, 'query_text', 'missing query text');
    const profile = promptProfile(seed, `U-CA-${qid}`, `ca/${qid}`, text);
    profiles.push(profile);
    queries.push({ id: `Q-CA-${qid}`, profile_id: profile.id, text, split: 'test' });
  }
  return { profiles, queries };
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

export interface ImportSummary {
  from: string;
  out: string;
  ads: number;
  categories: number;
  queries: number;
  profiles: number;
  sources: { file: string; queries: number }[];
  files: string[];
}

function writeJsonl(file: string, records: readonly object[]): void {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''));
}

/**
 * Convert a GEM-Bench folder to the contract's files in `outDir`: `catalog.jsonl` (every product,
 * id `Ad-<product_id>`), `queries.jsonl` (the search queries, then the lm_market and mt_human
 * prompts when the folder has them; all split "test") and `profiles.jsonl` (one synthetic profile per
 * query, since the source has none). Products and queries files are required.
 */
export function importGemBench(fromDir: string, outDir: string, opts: { seed?: number } = {}): ImportSummary {
  const seed = opts.seed ?? 0;
  if (!existsSync(fromDir)) throw new InputError(fromDir, undefined, undefined, 'no such folder');
  const productsFile = join(fromDir, GEM_BENCH_FILES.products);
  const queriesFile = join(fromDir, GEM_BENCH_FILES.queries);
  const catalog = readGemBenchProducts(productsFile).map((p) => productToAd(p));
  const sets: { file: string; set: PromptSet }[] = [{ file: queriesFile, set: readGemBenchQueries(queriesFile, seed) }];
  const promptFiles = [GEM_BENCH_FILES.lmPrompts, GEM_BENCH_FILES.lmCategories, GEM_BENCH_FILES.humanPrompts];
  if (promptFiles.some((f) => existsSync(join(fromDir, f)))) {
    // Once any prompt file is there, all three must be: a half-present set is a broken folder.
    const prompts = loadGemBenchPrompts(fromDir, { seed });
    const lmCount = prompts.queries.filter((q) => q.id.startsWith('Q-LM-')).length;
    sets.push({ file: join(fromDir, GEM_BENCH_FILES.lmPrompts), set: { profiles: prompts.profiles.slice(0, lmCount), queries: prompts.queries.slice(0, lmCount) } });
    sets.push({ file: join(fromDir, GEM_BENCH_FILES.humanPrompts), set: { profiles: prompts.profiles.slice(lmCount), queries: prompts.queries.slice(lmCount) } });
  }
  const profiles = sets.flatMap((s) => s.set.profiles);
  const queries = sets.flatMap((s) => s.set.queries);
  mkdirSync(outDir, { recursive: true });
  const files = ['catalog.jsonl', 'queries.jsonl', 'profiles.jsonl'].map((f) => join(outDir, f));
  writeJsonl(files[0]!, catalog);
  writeJsonl(files[1]!, queries);
  writeJsonl(files[2]!, profiles);
  return {
    from: fromDir,
    out: outDir,
    ads: catalog.length,
    categories: new Set(catalog.map((a) => a.category)).size,
    queries: queries.length,
    profiles: profiles.length,
    sources: sets.map((s) => ({ file: s.file, queries: s.set.queries.length })),
    files,
  };
}
