/**
 * GEM-Bench products (`ca_prod_products.tsv`) and their mapping to the suite's ads: a cleaned title
 * and description, a readable category, and the id `Ad-<product_id>`.
 */
import { InputError } from '../../lib/errors.ts';
import { AD_ID_PATTERN } from '../../mechanism/schemas.ts';
import type { Ad } from '../../mechanism/types.ts';
import { categorize, clusterCategory } from './categories.ts';
import { cleanTitle, plainTitle, summarizeDescription } from './clean.ts';
import { readTsv } from './source.ts';

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
    if (title === '') title = plainTitle(rawTitle);
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
