/**
 * The mechanism kinds of `-m SPEC`, one file each. Parsing, formatting, resolving, labelling and
 * `--help` all dispatch on one grammar built from the list below, so nothing else needs to know
 * which kinds exist.
 *
 * Two ways to add a kind. Built in: a new file here exporting a `MechanismKind` (kind.ts) and one
 * line in MECHANISM_KINDS, the one place built-in kinds are named. At run time:
 * `registerMechanismKind(kind)` before the CLI parses its arguments (a plugin, or a test fixture
 * such as tests/fixtures/throwaway-kind.ts); the kind then parses, formats, resolves, labels and
 * shows in `-m`'s help like a built-in one, and built-in wrappers (gsp:, mosaic:) take it inside.
 */
import { SpecGrammar, type SpecNode } from '../../mechanism/spec.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import { embeddedKind } from './embedded.ts';
import { gspKind } from './gsp.ts';
import { injectKind } from './inject.ts';
import type { MechanismKind, ResolveContext } from './kind.ts';
import { localKind } from './local.ts';
import { moduleKind } from './module.ts';
import { mosaicKind } from './mosaic.ts';
import { openaiKind } from './openai.ts';
import { prominenceKind } from './prominence.ts';
import { runKind } from './run.ts';
import { segmentKind } from './segment.ts';
import { tokenKind } from './token.ts';

export const MECHANISM_KINDS = [embeddedKind, runKind, mosaicKind, gspKind, injectKind, segmentKind, prominenceKind, tokenKind, localKind, openaiKind, moduleKind] as const;

type SpecOf<K> = K extends MechanismKind<infer S> ? S : never;
/**
 * A parsed spec of a built-in kind, narrowed by `kind`. A registered kind's spec is a plain
 * `SpecNode`; parseSpec returns it under this type too, which stays sound for code that checks
 * `kind` before reading a kind's fields, since a registered kind cannot take a built-in name.
 */
export type MechanismSpec = SpecOf<(typeof MECHANISM_KINDS)[number]>;

// Each kind reads only its own specs, which the grammar guarantees by dispatching on `kind`.
const grammar = new SpecGrammar<MechanismSpec, MechanismKind<SpecNode>>(
  'mechanism',
  MECHANISM_KINDS.map((k) => k as MechanismKind<SpecNode>),
);

/**
 * Add a mechanism kind after the built-in ones. Its name must be new (refused with a usage error
 * otherwise) and usable as the KIND of `KIND:…`.
 */
export function registerMechanismKind<S extends SpecNode>(kind: MechanismKind<S>): void {
  grammar.add(kind as MechanismKind<SpecNode>);
}

/** Every kind's name, built-in then registered. */
export const mechanismKindNames = (): readonly string[] => grammar.kinds;

export const parseSpec = (text: string): MechanismSpec => grammar.parse(text);
export const parseSpecList = (list: string): MechanismSpec[] => grammar.parseList(list);
/** The canonical text of a spec (parse, then format, gives back an equivalent spec). */
export const formatSpec = (spec: SpecNode): string => grammar.format(spec as MechanismSpec);
/** Every kind's form, for --help. */
export const mechanismUsage = (): string => grammar.usage();

/** A kind's definition; a spec that came from parseSpec always has one. */
function kindOf(spec: SpecNode): MechanismKind<SpecNode> {
  const def = grammar.get(spec.kind);
  if (!def) throw new Error(`no mechanism kind ${JSON.stringify(spec.kind)}`);
  return def;
}

/** What Table 2 calls a mechanism: "Pretrained LLM", "LLM-Auction (pCTR)", "MOSAIC (n=20)"… */
export function specLabel(spec: SpecNode): string {
  return kindOf(spec).label(spec, { labelInner: specLabel });
}

/** Whether a spec's mechanism reads only the prompt, as its kind declares (kind.ts `promptOnly`; absent: false). */
export function specPromptOnly(spec: SpecNode): boolean {
  return kindOf(spec).promptOnly?.(spec, { promptOnlyInner: specPromptOnly }) ?? false;
}

/** The running rule of a parsed spec; wrapped specs are resolved with the same options. */
export function resolveSpec(spec: SpecNode, opts: Omit<ResolveContext, 'resolveInner'> = {}): Promise<AllocationRule> {
  return kindOf(spec).resolve(spec, { ...opts, resolveInner: (inner) => resolveSpec(inner, opts) });
}
