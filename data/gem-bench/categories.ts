/**
 * Readable catalog categories for GEM-Bench products, from keyword rules on the title with the
 * source's numeric department as a guard and a fallback.
 */

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

/** The broad department of a numeric cluster, or undefined when the cluster is unknown. */
export function clusterCategory(cluster: string | undefined): string | undefined {
  const key = clusterKey(cluster);
  return key === undefined ? undefined : CLUSTER_CATEGORIES[key];
}
