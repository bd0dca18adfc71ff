/**
 * The mechanism kinds of `-m SPEC`, one file each, listed once here: adding a kind is a new file
 * and a line in MECHANISM_KINDS. Parsing, formatting, resolving and labelling all dispatch on this
 * list, so nothing else needs to know which kinds exist.
 */
import { SpecGrammar, type SpecNode } from '../../mechanism/spec.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import { embeddedKind } from './embedded.ts';
import { gspKind } from './gsp.ts';
import type { MechanismKind, ResolveContext } from './kind.ts';
import { localKind } from './local.ts';
import { moduleKind } from './module.ts';
import { mosaicKind } from './mosaic.ts';
import { openaiKind } from './openai.ts';
import { runKind } from './run.ts';

export const MECHANISM_KINDS = [embeddedKind, runKind, mosaicKind, gspKind, localKind, openaiKind, moduleKind] as const;

type SpecOf<K> = K extends MechanismKind<infer S> ? S : never;
export type MechanismSpec = SpecOf<(typeof MECHANISM_KINDS)[number]>;

const grammar = new SpecGrammar<MechanismSpec>('mechanism', MECHANISM_KINDS);
const byKind = new Map<string, MechanismKind<SpecNode>>(MECHANISM_KINDS.map((k) => [k.kind, k as MechanismKind<SpecNode>]));

export const parseSpec = (text: string): MechanismSpec => grammar.parse(text);
export const parseSpecList = (list: string): MechanismSpec[] => grammar.parseList(list);
/** The canonical text of a spec (parse, then format, gives back an equivalent spec). */
export const formatSpec = (spec: MechanismSpec): string => grammar.format(spec);
/** Every kind's form, for --help. */
export const mechanismUsage = (): string => grammar.usage();

/** What Table 2 calls a mechanism: "Pretrained LLM", "LLM-Auction (pCTR)", "MOSAIC (n=20)"… */
export function specLabel(spec: SpecNode): string {
  return byKind.get(spec.kind)!.label(spec, { labelInner: specLabel });
}

/** The running rule of a parsed spec; wrapped specs are resolved with the same options. */
export function resolveSpec(spec: SpecNode, opts: Omit<ResolveContext, 'resolveInner'> = {}): Promise<AllocationRule> {
  return byKind.get(spec.kind)!.resolve(spec, { ...opts, resolveInner: (inner) => resolveSpec(inner, opts) });
}
