/**
 * The machinery of the spec grammar (`-m SPEC`, `--user SPEC`): `KIND:REST`, where each kind reads
 * its own rest. The kinds themselves (what `embedded:`, `run:`, `mosaic:`… mean and how they run)
 * live in evaluation/kinds/, above training and the baselines, since running them reaches every layer; this file knows only
 * the shape of the text, so it stays pure and at the bottom.
 *
 * Wrappers nest (`gsp:mosaic:embedded:pretrained?n=5?k=2`). A trailing `?…` belongs to the
 * outermost wrapper only when all of its keys are that wrapper's own (n for mosaic, k for gsp);
 * otherwise it stays with the inner spec, so `mosaic:openai:http://h/v1?model=m` keeps its model.
 */
import { UsageError } from '../lib/errors.ts';

/** A parsed spec: every kind's struct has its kind's name. */
export interface SpecNode {
  readonly kind: string;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** ` (did you mean "x"?)` for the closest known word within a few edits, else ''. */
export function didYouMean(word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = distance(word.toLowerCase(), k.toLowerCase());
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? ` (did you mean "${best}"?)` : '';
}

/** `head?k=v&…` split at the first `?`, values URL-decoded. */
export function splitQuery(text: string): { head: string; params: Record<string, string> } {
  const q = text.indexOf('?');
  const params: Record<string, string> = {};
  if (q >= 0) {
    checkPercentEncoding(text, text.slice(q + 1));
    for (const [key, value] of new URLSearchParams(text.slice(q + 1))) {
      if (Object.hasOwn(params, key)) throw new UsageError(`bad spec ${JSON.stringify(text)}: parameter ${JSON.stringify(key)} is given twice`);
      params[key] = value;
    }
  }
  return { head: q < 0 ? text : text.slice(0, q), params };
}

/** A `%` not followed by two hex digits, or escapes that do not decode to UTF-8, are refused. */
function checkPercentEncoding(spec: string, query: string): void {
  try {
    decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    throw new UsageError(`bad spec ${JSON.stringify(spec)}: bad percent-encoding in ${JSON.stringify(query)} (write % as %25)`);
  }
}

/** Wrappers nested deeper than this are refused (a spec is written by hand; 200 levels are a mistake). */
export const MAX_SPEC_DEPTH = 16;

/** Split a wrapper's rest into inner spec and its own params, per the ownership rule above. */
function splitWrapper(rest: string, keys: readonly string[], fail: (why: string) => never): { inner: string; params: Map<string, string> } {
  const q = rest.lastIndexOf('?');
  if (q < 0) return { inner: rest, params: new Map() };
  const params = new Map<string, string>();
  for (const part of rest.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!keys.includes(key)) return { inner: rest, params: new Map() };
    if (params.has(key)) fail(`parameter ${JSON.stringify(key)} is given twice`);
    let value = '';
    try {
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      fail(`bad percent-encoding in ${JSON.stringify(part)} (write % as %25)`);
    }
    params.set(key, value);
  }
  return { inner: rest.slice(0, q), params };
}

/** What a kind's parse gets: its rest, and for a wrapper the inner spec already parsed and its own params. */
export interface ParseInput {
  rest: string;
  inner: SpecNode | undefined;
  params: ReadonlyMap<string, string>;
  /** A usage error naming the whole spec and saying why it is wrong. */
  fail(why: string): never;
}

/** One kind's text form. */
export interface KindGrammar<S extends SpecNode = SpecNode> {
  readonly kind: S['kind'];
  /** The form of the spec, for errors and --help (`gsp:SPEC[?k=1]`). */
  readonly usage: string;
  /** Set for a wrapper: the keys of a trailing `?…` it owns; its rest is then another spec. */
  readonly wrapperKeys?: readonly string[];
  /** Whether the bare kind name (no `:`) is accepted, as the kind with an empty rest. */
  readonly bare?: boolean;
  parse(p: ParseInput): S;
  /** The canonical text; `formatInner` gives a wrapped spec's. Parse, then format, gives back an equivalent spec. */
  format(spec: S, formatInner: (inner: SpecNode) => string): string;
}

/** A positive integer parameter of a spec, or a usage error saying so. */
export function positiveInt(p: ParseInput, key: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) p.fail(`${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * The grammar of one family of specs (`mechanism`, `user`) over its list of kinds. The list is
 * live: `add` puts a kind after the built-in ones, and parsing, formatting, usage and the errors
 * that list the known kinds all read it on each call.
 */
export class SpecGrammar<S extends SpecNode, K extends KindGrammar = KindGrammar> {
  private readonly byKind = new Map<string, K>();

  constructor(
    readonly noun: string,
    kinds: readonly K[],
  ) {
    for (const k of kinds) this.add(k);
  }

  /** The kind names, built-in first, then those added, in order. */
  get kinds(): readonly string[] {
    return [...this.byKind.keys()];
  }

  /** The definition of a kind, or undefined for a name no kind has. */
  get(kind: string): K | undefined {
    return this.byKind.get(kind);
  }

  /**
   * Add a kind. Its name must be new (a plugin cannot quietly replace a kind) and must read as the
   * KIND of `KIND:…` in a comma-separated `-m` list, so no `:`, `?` or `,`.
   */
  add(def: K): void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(def.kind)) throw new UsageError(`${this.noun} kind name "${def.kind}": use lower-case letters, digits and dashes`);
    if (this.byKind.has(def.kind)) throw new UsageError(`${this.noun} kind "${def.kind}" is already registered`);
    this.byKind.set(def.kind, def);
  }

  /** Every kind's form, for --help: `embedded:NAME, run:DIR[@EPOCH], …`. */
  usage(): string {
    return [...this.byKind.values()].map((k) => k.usage).join(', ');
  }

  parse(spec: string, depth = 0): S {
    const fail = (why: string): never => {
      throw new UsageError(`bad ${this.noun} spec ${JSON.stringify(spec.length > 120 ? `${spec.slice(0, 120)}…` : spec)}: ${why}`);
    };
    if (depth > MAX_SPEC_DEPTH) fail(`wrappers nested more than ${MAX_SPEC_DEPTH} deep`);
    if (spec !== spec.trim()) fail('white space at its start or end');
    const raw = spec;
    const colon = raw.indexOf(':');
    const bare = colon < 0 && this.byKind.get(raw)?.bare === true;
    if (colon <= 0 && !bare) fail(`expected KIND:…, with KIND one of ${this.kinds.join(', ')}`);
    const kind = bare ? raw : raw.slice(0, colon);
    const rest = bare ? '' : raw.slice(colon + 1);
    const def = this.byKind.get(kind);
    if (!def) return fail(`unknown kind ${JSON.stringify(kind)}${didYouMean(kind, this.kinds)}; expected one of ${this.kinds.join(', ')}`);
    const keys = def.wrapperKeys;
    if (keys === undefined) return def.parse({ rest, inner: undefined, params: new Map(), fail }) as S;
    const { inner, params } = splitWrapper(rest, keys, fail);
    if (inner === '') fail(`expected ${kind}:SPEC`);
    let innerSpec: S;
    try {
      innerSpec = this.parse(inner, depth + 1);
    } catch (e) {
      // A trailing ?… that the inner spec cannot take either was meant for the wrapper: name the key it does not know.
      const q = rest.lastIndexOf('?');
      const unknown = q < 0 ? [] : [...new URLSearchParams(rest.slice(q + 1)).keys()].filter((k) => !keys.includes(k));
      if (unknown.length > 0) fail(`unknown ${kind} parameter ${JSON.stringify(unknown[0])}${didYouMean(unknown[0]!, keys)} (known: ${keys.join(', ')})`);
      throw e;
    }
    return def.parse({ rest, inner: innerSpec, params, fail }) as S;
  }

  format(spec: S): string {
    const def = this.byKind.get(spec.kind);
    if (!def) throw new Error(`no ${this.noun} kind ${JSON.stringify(spec.kind)}`);
    return def.format(spec, (inner) => this.format(inner as S));
  }

  /** `-m a,b,c` for `bench`: a comma splits specs only where the next part starts a new KIND:. */
  parseList(list: string): S[] {
    const parts: string[] = [];
    for (const piece of list.split(',')) {
      const startsKind = this.kinds.some((k) => piece.trim().startsWith(`${k}:`));
      if (parts.length > 0 && !startsKind) parts[parts.length - 1] += `,${piece}`;
      else parts.push(piece);
    }
    if (parts.length === 0 || parts.every((p) => p.trim() === '')) throw new UsageError(`no ${this.noun} spec given`);
    // White space around the commas of a list is the list's, not the specs'.
    const specs = parts.map((p) => this.parse(p.trim()));
    // The same spec twice (however written) would be the same row twice: refused, not silently run twice.
    const seen = new Map<string, string>();
    specs.forEach((spec, k) => {
      const canonical = this.format(spec);
      const first = seen.get(canonical);
      if (first !== undefined) throw new UsageError(`${this.noun} spec ${JSON.stringify(parts[k]!.trim())} is given twice (as ${JSON.stringify(first)} too)`);
      seen.set(canonical, parts[k]!.trim());
    });
    return specs;
  }
}
