/**
 * Builds `data/catalog.jsonl`, the embedded 100-ad catalog, from the GEM-Bench product listings
 * (`ca_prod_products.tsv`, Apache-2.0; see data/NOTICE.md).
 *
 *   npx tsx data/build-catalog.ts [SOURCE_DIR] [OUT_FILE]
 *
 * SOURCE_DIR defaults to ../shared/data/gem-bench (relative to the repository root) and OUT_FILE
 * to data/catalog.jsonl. The output is committed, so runs never need the source folder.
 *
 * Deterministic: the same TSV gives the same file byte for byte. Within a category, products are
 * ranked by a fixed hash of their product id (not by file order, which clusters near-identical
 * listings), and a listing whose brand or model already appears in the category is skipped so the
 * 100 ads stay varied.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hash32 } from '../lib/rng.ts';
import type { Ad } from '../mechanism/types.ts';
import { CATEGORY_RULES } from './gem-bench/categories.ts';
import { readGemBenchProducts, type GemBenchProduct } from './gem-bench/products.ts';
import { GEM_BENCH_FILES } from './gem-bench/source.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Ads per category. Categories cover what people ask an assistant about (tech, home, food,
 * fitness, travel, pets, kids, style); the counts sum to 100 and lean towards the categories with
 * many distinct real products.
 */
export const QUOTAS: Readonly<Record<string, number>> = {
  'Laptops & Computers': 3,
  Smartphones: 2,
  Tablets: 2,
  'Cameras & Photography': 3,
  'Computer Accessories': 2,
  'TV & Home Theater': 2,
  'Smart Home & Security': 2,
  'Bedroom Furniture': 3,
  'Living Room Furniture': 3,
  'Dining Room': 2,
  Kitchen: 2,
  'Home Office': 2,
  'Books & Reading': 2,
  'Storage & Organization': 2,
  'Home Decor': 1,
  'Home Improvement': 2,
  'Outdoor & Patio': 1,
  'Backyard Playhouses': 1,
  'Lawn & Garden': 2,
  'Cars & Trucks': 3,
  'Vitamins & Supplements': 3,
  'Protein & Sports Nutrition': 2,
  'Soups & Broths': 2,
  'Breakfast & Cereal': 2,
  'Healthy Snacks': 2,
  'Smoothies & Superfoods': 2,
  'Baby & Toddler': 2,
  'Allergy Relief': 1,
  'Skin Care': 2,
  'Hair Care': 1,
  'Pet Care': 3,
  'Running Shoes': 2,
  'Walking Shoes': 2,
  'Hiking & Outdoor': 3,
  'Gym & Training': 2,
  'Yoga & Fitness': 2,
  'Team Sports': 2,
  Golf: 1,
  Sandals: 2,
  Boots: 2,
  'Comfort & Work Shoes': 2,
  "Kids' Fashion": 2,
  'Dresses & Formal Wear': 2,
  'Workwear & Suits': 2,
  'Coats & Jackets': 2,
  'Swimwear & Beach': 1,
  'Watches & Accessories': 2,
  'Travel Essentials': 3,
  'Back to School': 2,
};

/**
 * Kinds of product a category should show before repeats, tried in order (one pick each): three
 * phone-lens kits would make "Cameras & Photography" useless to a user who wants a camera.
 */
export const PREFER: Readonly<Record<string, RegExp[]>> = {
  'Laptops & Computers': [/macbook|imac|mac mini/i, /chromebook/i, /laptop|notebook/i],
  Smartphones: [/iphone/i, /galaxy|moto|lg /i],
  'Cameras & Photography': [/digital camera|mirrorless|dslr|powershot/i, /lens/i, /tripod|lighting/i],
  'Computer Accessories': [/keyboard/i, /wi-?fi|adapter|charg/i],
  'TV & Home Theater': [/\btv\b|hdtv/i, /blu-?ray|soundbar|display/i],
  'Living Room Furniture': [/sofa|sectional|loveseat|living room/i, /coffee table|cocktail table|console/i, /chair|recliner/i],
  'Books & Reading': [/timber-framed/i, /bookcase|bookshel/i],
  'Home Decor': [/blind|shade/i],
  'Lawn & Garden': [/zero-turn|riding|lawn tractor/i, /blower/i, /pressure washer/i],
  'Cars & Trucks': [/tires?\b/i, /dash|car camera/i, /plow|lift kit/i],
  'Vitamins & Supplements': [/multi/i, /vitamin c|emergen-c/i, /vitamin d|calm|omega|magnesium|coq/i],
  'Protein & Sports Nutrition': [/whey|protein powder/i, /shake|bone broth protein/i],
  'Healthy Snacks': [/\bbars?\b/i, /puffs|crackers/i],
  'Smoothies & Superfoods': [/superboost|greens|superfood/i, /flax/i],
  'Baby & Toddler': [/puffs|squeeze|stage \d|organic baby food/i, /juice/i],
  'Skin Care': [/serum/i, /cream|moistur|peel/i],
  'Pet Care': [/dog food|dry dog/i, /\bcats?\b|hairball/i, /horses?/i],
  'Running Shoes': [/running shoes?/i],
  'Walking Shoes': [/walking shoes?/i],
  'Hiking & Outdoor': [/trail/i, /jacket|coat|anorak|shell/i, /sun protect|\bhat\b/i],
  'Gym & Training': [/metcon|training/i],
  'Yoga & Fitness': [/yoga/i, /workout|fitness|running short|tank/i],
  'Team Sports': [/basketball|volleyball/i, /jersey/i],
  Boots: [/cowboy|western/i, /boots?\b/i],
  'Swimwear & Beach': [/swim|bikini/i, /hat|floppy/i],
  'Watches & Accessories': [/watch/i, /bag|satchel/i],
  'Travel Essentials': [/compression|mmhg/i, /sandal/i, /travelers/i],
  'Allergy Relief': [/zyrtec/i],
  'Backyard Playhouses': [/playhouse/i],
};

/**
 * Listings kept out of the embedded catalog: underwear and intimate apparel, medicines for
 * children, hormone and diet products, covert cameras, spare parts and repair kits (nobody asks an
 * assistant about a carburetor gasket), and second-hand or financed listings whose titles describe
 * the offer rather than the product.
 */
const EXCLUDE =
  /\b(panty|panties|bras?|blades?|belt|deck|cables?|attachment|bagger|starter|filter|chinese|pinyin|hydrocortisone|prevagen|histame|coupler|connector|nozzle|gun|wand|trigger|siphon|o-ring|seal|packing|children'?s|for kids|bralette|lingerie|bodysuit|briefs?|boyshorts?|trunks?|menstrual|sexy|hidden|spy|nanny|hormone|igf-1|ibuprofen|acetaminophen|tylenol|motrin|advil|mucinex|dimetapp|cough|fever|infants'|laxative|uti|prostate|menopause|diuretic|weight loss|garcinia|detox|cleanse|kidney|bladder|smoking|migraine|colic|thyroid|methylprednisolone|infecticin|waist trainer|costume|samples?|replacement|replaces|repair|rebuild|overhaul|parts?|carburetor|spindle|mandrel|solenoid|valve|pumps?|hose|gauge|bushing|puller|socket|pre-owned|used|refurbished|renewed|recertified|certified|installment|lease|monthly payments|prepaid|screen replacement|tempered glass|digitizer|nwot|nwt|like new|worn|as is|vintage|vtg|closeout|rare|tradesy|poshmark)\b|\bthongs?\b(?!\s+sandal)/i;

function acceptable(p: GemBenchProduct): boolean {
  if (p.ruleCategory === undefined || QUOTAS[p.ruleCategory] === undefined) return false;
  if (EXCLUDE.test(p.rawTitle)) return false;
  if (p.title.length < 12 || p.title.length > 80) return false;
  // An ad with next to no description gives a user (or a judge) nothing to go on.
  if (p.description.length < 20) return false;
  // Reseller boilerplate ("Find Boots at Target.com!", "Please see photos for condition") describes the listing, not the product.
  if (/\.com!|money back|see photos|condition|like new|never worn|100% authentic|supplied by|for sale|contact me|^brand:/i.test(p.description)) return false;
  if (/\b(size|color|colour)\s*:/i.test(p.title)) return false;
  return true;
}

/** Model family: the first three words of the cleaned title, to spot near-duplicate listings. */
function family(p: GemBenchProduct): string {
  return p.title.toLowerCase().replace(/[^a-z0-9 ]/g, ' ').split(/\s+/).filter((w) => w !== '').slice(0, 3).join(' ');
}

/**
 * Pick `quota` products per category, brand and model family distinct where possible. Categories
 * come in the order of the keyword rules, so related categories sit together in the file.
 */
export function selectCatalog(products: readonly GemBenchProduct[]): { ads: Ad[]; sources: GemBenchProduct[] } {
  const byCategory = new Map<string, GemBenchProduct[]>();
  for (const p of products) {
    if (!acceptable(p)) continue;
    const list = byCategory.get(p.ruleCategory!) ?? [];
    list.push(p);
    byCategory.set(p.ruleCategory!, list);
  }
  const order = [...new Set(CATEGORY_RULES.map((r) => r.category))].filter((c) => QUOTAS[c] !== undefined);
  const chosen: GemBenchProduct[] = [];
  const shortfalls: string[] = [];
  for (const category of order) {
    const quota = QUOTAS[category]!;
    const ranked = (byCategory.get(category) ?? []).slice().sort((a, b) => hash32(`catalog|${a.productId}`) - hash32(`catalog|${b.productId}`));
    const picked: GemBenchProduct[] = [];
    const brands = new Set<string>();
    const families = new Set<string>();
    const take = (p: GemBenchProduct) => {
      picked.push(p);
      brands.add(p.brand.toLowerCase());
      families.add(family(p));
    };
    const fresh = (p: GemBenchProduct, strictBrand: boolean) =>
      !picked.includes(p) && !families.has(family(p)) && !(strictBrand && p.brand !== '' && brands.has(p.brand.toLowerCase()));
    // One of each preferred kind first, then the rest: a new brand and model if possible, else a new model.
    for (const kind of PREFER[category] ?? []) {
      if (picked.length >= quota) break;
      const p = ranked.find((q) => kind.test(q.title) && fresh(q, true)) ?? ranked.find((q) => kind.test(q.title) && fresh(q, false));
      if (p !== undefined) take(p);
    }
    for (const strict of [true, false]) {
      for (const p of ranked) {
        if (picked.length >= quota) break;
        if (fresh(p, strict)) take(p);
      }
    }
    if (picked.length < quota) shortfalls.push(`${category}: ${picked.length} of ${quota}`);
    chosen.push(...picked);
  }
  if (shortfalls.length > 0) throw new Error(`not enough distinct products for: ${shortfalls.join('; ')}`);
  const ads = chosen.map((p, k): Ad => ({ id: `Ad-${String(k + 1).padStart(4, '0')}`, title: p.title, description: p.description, category: p.ruleCategory! }));
  return { ads, sources: chosen };
}

export function buildCatalog(sourceDir: string, outFile: string): { ads: Ad[]; sources: GemBenchProduct[] } {
  const result = selectCatalog(readGemBenchProducts(join(sourceDir, GEM_BENCH_FILES.products)));
  // Fixed key order, one object per line, trailing newline: stable diffs when the rules change.
  const lines = result.ads.map((a) => JSON.stringify({ id: a.id, title: a.title, description: a.description, category: a.category }));
  writeFileSync(outFile, `${lines.join('\n')}\n`);
  return result;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const sourceDir = resolve(process.argv[2] ?? join(REPO_ROOT, '..', 'shared', 'data', 'gem-bench'));
  const outFile = resolve(process.argv[3] ?? join(REPO_ROOT, 'data', 'catalog.jsonl'));
  const { ads, sources } = buildCatalog(sourceDir, outFile);
  const categories = new Set(ads.map((a) => a.category));
  process.stdout.write(`wrote ${ads.length} ads in ${categories.size} categories to ${outFile}\n`);
  if (process.env.VERBOSE) {
    ads.forEach((a, k) => process.stdout.write(`${a.id}  [${a.category}]  ${a.title}   <- ${sources[k]!.productId}\n`));
  }
}
