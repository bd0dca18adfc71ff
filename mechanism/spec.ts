/**
 * The mechanism spec grammar (`-m SPEC`), one grammar for every command:
 *
 *   embedded:pretrained | embedded:optimal        the embedded Ad-LLM before training / its exact KL optimum
 *   embedded:ceiling | embedded:best-in-class     per-query best response / best theta of the policy class
 *   run:DIR[@EPOCH]                               a rule trained by `train` (last epoch by default)
 *   mosaic:SPEC[?n=20&rm=oracle|DIR]             MOSAIC aggregation over another rule (rm: its reward model)
 *   gsp:SPEC[?k=1]                                pre-generation position auction over another rule
 *   local:NAME|PATH.gguf                          a GGUF model in-process on the CPU
 *   openai:BASE_URL?model=NAME[&k=v…]             any OpenAI-compatible endpoint
 *   module:PATH                                   a JS/TS module whose default export is a rule
 *
 * Wrappers nest (`gsp:mosaic:embedded:pretrained?n=5?k=2`). A trailing `?…` belongs to the
 * outermost wrapper only when all of its keys are that wrapper's own (n for mosaic, k for gsp);
 * otherwise it stays with the inner spec, so `mosaic:openai:http://h/v1?model=m` keeps its model.
 * Parsing is pure: resolving a spec into a running rule happens elsewhere.
 */
import { UsageError } from './errors.ts';

export type MechanismSpec =
  | { kind: 'embedded'; name: string }
  | { kind: 'run'; dir: string; epoch?: number }
  | { kind: 'mosaic'; inner: MechanismSpec; n: number; rm?: string }
  | { kind: 'gsp'; inner: MechanismSpec; k: number }
  | { kind: 'local'; model: string }
  | { kind: 'openai'; baseURL: string; params: Record<string, string> }
  | { kind: 'module'; path: string };

export const SPEC_KINDS = ['embedded', 'run', 'mosaic', 'gsp', 'local', 'openai', 'module'] as const;

const WRAPPER_KEYS: Record<'mosaic' | 'gsp', string[]> = { mosaic: ['n', 'rm'], gsp: ['k'] };
const WRAPPER_DEFAULTS = { mosaic: { n: 20 }, gsp: { k: 1 } };

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

function bad(spec: string, why: string): never {
  throw new UsageError(`bad mechanism spec ${JSON.stringify(spec)}: ${why}`);
}

function positiveInt(spec: string, key: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) bad(spec, `${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Split a wrapper's rest into inner spec and its own params, per the rule above. */
function splitWrapper(rest: string, keys: string[]): { inner: string; params: Map<string, string> } {
  const q = rest.lastIndexOf('?');
  if (q < 0) return { inner: rest, params: new Map() };
  const params = new Map<string, string>();
  for (const part of rest.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!keys.includes(key)) return { inner: rest, params: new Map() };
    params.set(key, eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1)));
  }
  return { inner: rest.slice(0, q), params };
}

export function parseSpec(spec: string): MechanismSpec {
  const raw = spec.trim();
  const colon = raw.indexOf(':');
  if (colon <= 0) bad(spec, `expected KIND:…, with KIND one of ${SPEC_KINDS.join(', ')}`);
  const kind = raw.slice(0, colon);
  const rest = raw.slice(colon + 1);
  switch (kind) {
    case 'embedded':
      if (!/^[a-z][a-z0-9-]*$/.test(rest)) bad(spec, 'expected embedded:pretrained, embedded:optimal, embedded:ceiling or embedded:best-in-class');
      return { kind, name: rest };
    case 'run': {
      const m = /^(.+?)(?:@(\d+))?$/.exec(rest);
      if (!m || m[1]!.trim() === '') bad(spec, 'expected run:DIR or run:DIR@EPOCH');
      return m[2] === undefined ? { kind, dir: m[1]! } : { kind, dir: m[1]!, epoch: Number(m[2]) };
    }
    case 'mosaic':
    case 'gsp': {
      const { inner, params } = splitWrapper(rest, WRAPPER_KEYS[kind]);
      if (inner === '') bad(spec, `expected ${kind}:SPEC`);
      let innerSpec: MechanismSpec;
      try {
        innerSpec = parseSpec(inner);
      } catch (e) {
        // A trailing ?… that the inner spec cannot take either was meant for the wrapper: name the key it does not know.
        const q = rest.lastIndexOf('?');
        const unknown = q < 0 ? [] : [...new URLSearchParams(rest.slice(q + 1)).keys()].filter((k) => !WRAPPER_KEYS[kind].includes(k));
        if (unknown.length > 0) {
          const near = didYouMean(unknown[0]!, WRAPPER_KEYS[kind]);
          bad(spec, `unknown ${kind} parameter ${JSON.stringify(unknown[0])}${near} (known: ${WRAPPER_KEYS[kind].join(', ')})`);
        }
        throw e;
      }
      if (kind === 'mosaic') {
        const n = params.has('n') ? positiveInt(spec, 'n', params.get('n')!) : WRAPPER_DEFAULTS.mosaic.n;
        const rm = params.get('rm');
        if (rm !== undefined && rm.trim() === '') bad(spec, 'rm must be "oracle" or a run directory');
        return rm === undefined ? { kind, inner: innerSpec, n } : { kind, inner: innerSpec, n, rm };
      }
      const k = params.has('k') ? positiveInt(spec, 'k', params.get('k')!) : WRAPPER_DEFAULTS.gsp.k;
      return { kind, inner: innerSpec, k };
    }
    case 'local':
      if (rest.trim() === '') bad(spec, 'expected local:NAME or local:PATH.gguf');
      return { kind, model: rest };
    case 'openai': {
      const q = rest.indexOf('?');
      const baseURL = q < 0 ? rest : rest.slice(0, q);
      if (!/^https?:\/\/[^\s]+$/.test(baseURL)) bad(spec, 'expected openai:http(s)://HOST[:PORT]/PATH?model=NAME');
      const params: Record<string, string> = {};
      if (q >= 0) {
        for (const [key, value] of new URLSearchParams(rest.slice(q + 1))) params[key] = value;
      }
      return { kind, baseURL, params };
    }
    case 'module':
      if (rest.trim() === '') bad(spec, 'expected module:PATH');
      return { kind, path: rest };
    default:
      return bad(spec, `unknown kind ${JSON.stringify(kind)}${didYouMean(kind, SPEC_KINDS)}; expected one of ${SPEC_KINDS.join(', ')}`);
  }
}

/** The canonical text of a spec (parse, then format, gives back an equivalent spec). */
export function formatSpec(s: MechanismSpec): string {
  switch (s.kind) {
    case 'embedded':
      return `embedded:${s.name}`;
    case 'run':
      return s.epoch === undefined ? `run:${s.dir}` : `run:${s.dir}@${s.epoch}`;
    case 'mosaic':
      return `mosaic:${formatSpec(s.inner)}?n=${s.n}${s.rm === undefined ? '' : `&rm=${encodeURIComponent(s.rm)}`}`;
    case 'gsp':
      return `gsp:${formatSpec(s.inner)}?k=${s.k}`;
    case 'local':
      return `local:${s.model}`;
    case 'openai': {
      const q = new URLSearchParams(s.params).toString();
      return q ? `openai:${s.baseURL}?${q}` : `openai:${s.baseURL}`;
    }
    case 'module':
      return `module:${s.path}`;
  }
}

/** `-m a,b,c` for `bench`: a comma splits specs only where the next part starts a new KIND:. */
export function parseSpecList(list: string): MechanismSpec[] {
  const parts: string[] = [];
  for (const piece of list.split(',')) {
    const startsKind = SPEC_KINDS.some((k) => piece.trim().startsWith(`${k}:`));
    if (parts.length > 0 && !startsKind) parts[parts.length - 1] += `,${piece}`;
    else parts.push(piece);
  }
  if (parts.length === 0 || parts.every((p) => p.trim() === '')) throw new UsageError('no mechanism spec given');
  return parts.map(parseSpec);
}
