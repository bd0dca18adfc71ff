/**
 * LoRA adapters for `local:` models. The trainer (training/python/train_dpo.py) writes PEFT
 * adapter directories; llama.cpp reads GGUF LoRA files. `convertPeftAdapter` turns the first into
 * the second with llama.cpp's own `convert_lora_to_gguf.py`, taken from the llama.cpp source that
 * node-llama-cpp ships as a git bundle, so the converter always matches the runtime that loads
 * its output. The source is extracted once into `.cache/llama.cpp` (re-extracted only when the
 * bundle's commit changes); the conversion runs on the training venv's python (it needs torch,
 * transformers and the base model's config.json) and is cached beside the adapter.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InputError, UsageError } from '../lib/errors.ts';
import { manifest, modelCacheDir, PROJECT_ROOT } from './registry.ts';

/** What the converted file is called inside the adapter directory. */
export const ADAPTER_GGUF = 'adapter.gguf';

const BUNDLE = path.join(PROJECT_ROOT, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
const MARKER = '.llm-auction-bundle-commit';

/** `$LLM_AUCTION_PYTHON`, else the training venv's python (the one with torch and transformers). */
export function trainingPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.LLM_AUCTION_PYTHON ? path.resolve(env.LLM_AUCTION_PYTHON) : path.join(PROJECT_ROOT, '.cache', 'venv-train', 'bin', 'python');
}

/** Where the llama.cpp source goes: `$LLM_AUCTION_LLAMA_CPP_DIR`, else `<project>/.cache/llama.cpp`. */
export function llamaCppDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LLM_AUCTION_LLAMA_CPP_DIR ? path.resolve(env.LLM_AUCTION_LLAMA_CPP_DIR) : path.join(PROJECT_ROOT, '.cache', 'llama.cpp');
}

const execFileP = promisify(execFile);

/** The files of llama.cpp the converter needs (a sparse checkout: 2 MB instead of 170). */
const SPARSE = ['/convert_lora_to_gguf.py', '/conversion/', '/gguf-py/', '/LICENSE'];

async function git(args: string[], cwd?: string): Promise<string> {
  try {
    return (await execFileP('git', ['-c', 'advice.detachedHead=false', ...args], { cwd, encoding: 'utf8', timeout: 120_000 })).stdout.trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new UsageError("LoRA conversion: git is needed to extract llama.cpp from node-llama-cpp's bundle, and it is not on PATH");
    throw new Error(`git ${args[0]} failed: ${(err.stderr || err.message).trim().split('\n').at(-1)}`);
  }
}

function markerSays(dir: string, head: string): boolean {
  const f = path.join(dir, MARKER);
  return existsSync(f) && readFileSync(f, 'utf8').trim() === head;
}

/**
 * The llama.cpp source of the node-llama-cpp in use (the converter's files only), extracted from
 * its bundle on first call. Idempotent: a directory whose marker names the bundle's commit is
 * reused as it is; another commit (node-llama-cpp upgraded) is replaced. Concurrent callers each
 * extract into their own temporary directory and the first rename wins.
 */
export async function ensureLlamaCppSource(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = llamaCppDir(env);
  if (!existsSync(BUNDLE)) throw new UsageError(`LoRA conversion: ${BUNDLE} is missing; reinstall node-llama-cpp (npm ci)`);
  const head = (await git(['bundle', 'list-heads', BUNDLE])).split(/\s+/)[0]!;
  if (markerSays(dir, head)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await git(['clone', '--quiet', '--no-checkout', BUNDLE, tmp]);
    await git(['sparse-checkout', 'set', '--no-cone', ...SPARSE], tmp);
    await git(['checkout', '--quiet', head], tmp);
    // Only the files at the pinned commit are needed, not the history.
    rmSync(path.join(tmp, '.git'), { recursive: true, force: true });
    if (!existsSync(path.join(tmp, 'convert_lora_to_gguf.py'))) throw new Error(`llama.cpp ${head} in ${BUNDLE} has no convert_lora_to_gguf.py`);
    writeFileSync(path.join(tmp, MARKER), `${head}\n`);
    if (markerSays(dir, head)) return dir;
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process got there first with the same commit: use theirs.
      if (!markerSays(dir, head)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The transformers directory a local model's adapters are trained on: the `?base=` parameter,
 * else `$LLM_AUCTION_LORA_BASE`, else, for smollm2, the trainer's copy in the model cache
 * (manifest.json `models.smollm2.trainerCopy.dir`). Undefined when none applies.
 */
export function defaultBaseModelDir(model: string, base?: string | null, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (base) return path.resolve(base);
  if (env.LLM_AUCTION_LORA_BASE) return path.resolve(env.LLM_AUCTION_LORA_BASE);
  const entry = manifest().models[model] as { trainerCopy?: { dir: string } } | undefined;
  return entry?.trainerCopy ? path.join(modelCacheDir(env), entry.trainerCopy.dir) : undefined;
}

function weightsOf(peftDir: string): string | undefined {
  return ['adapter_model.safetensors', 'adapter_model.bin'].map((f) => path.join(peftDir, f)).find((f) => existsSync(f));
}

export interface ConvertOptions {
  /** The base model's transformers directory (config.json is what the converter reads). */
  baseModelDir: string;
  /** Default `<peftDir>/adapter.gguf`. */
  outFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Gets each line the converter prints (default: dropped). */
  log?: (line: string) => void;
}

/** True when `p` is a PEFT adapter directory (an adapter_config.json inside). */
export function isPeftDir(p: string): boolean {
  return existsSync(path.join(p, 'adapter_config.json'));
}

/**
 * A PEFT adapter directory as a GGUF LoRA file, converted once: the result is cached beside the
 * adapter and reused while it is newer than the adapter's weights. Missing python, venv, base
 * directory or adapter files are UsageError/InputError (exit 2), each saying what to do.
 */
export function convertPeftAdapter(peftDir: string, opts: ConvertOptions): Promise<string> {
  // One conversion per output file at a time in this process; later callers share it.
  const key = path.resolve(opts.outFile ?? path.join(path.resolve(peftDir), ADAPTER_GGUF));
  let p = converting.get(key);
  if (!p) {
    p = convert(peftDir, opts).finally(() => converting.delete(key));
    converting.set(key, p);
  }
  return p;
}

const converting = new Map<string, Promise<string>>();

async function convert(peftDir: string, opts: ConvertOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const dir = path.resolve(peftDir);
  if (!existsSync(dir)) throw new InputError(dir, undefined, undefined, 'no such adapter directory');
  if (!isPeftDir(dir)) throw new InputError(dir, undefined, undefined, 'not a PEFT adapter directory (no adapter_config.json)');
  const weights = weightsOf(dir);
  if (!weights) throw new InputError(dir, undefined, undefined, 'no adapter_model.safetensors (or adapter_model.bin) beside adapter_config.json');
  const out = path.resolve(opts.outFile ?? path.join(dir, ADAPTER_GGUF));
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(weights).mtimeMs && statSync(out).size > 0) return out;

  const base = path.resolve(opts.baseModelDir);
  if (!existsSync(path.join(base, 'config.json'))) {
    throw new UsageError(`LoRA conversion: the base model directory ${base} has no config.json; make it with \`bash scripts/make-trainer-model.sh\`, or name another with ?base=DIR or LLM_AUCTION_LORA_BASE`);
  }
  const python = trainingPython(env);
  if (!existsSync(python)) {
    throw new UsageError(`LoRA conversion: no python at ${python}; create the training venv (bash training/python/smoke_test.sh) or set LLM_AUCTION_PYTHON to a python with torch, transformers and safetensors`);
  }
  const src = await ensureLlamaCppSource(env);
  const script = path.join(src, 'convert_lora_to_gguf.py');
  const tmp = `${out}.tmp-${process.pid}`;
  // The converter's default type (f32 for a PEFT adapter saved in f32) keeps the trained weights as they are.
  const args = [script, '--base', base, '--outfile', tmp, dir];
  const lines: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(python, args, { cwd: src, env: { ...env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer) => {
      for (const l of chunk.toString('utf8').split(/\r?\n|\r/)) {
        if (l.trim() === '') continue;
        lines.push(l);
        if (lines.length > 40) lines.shift();
        opts.log?.(l);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    const why = lines.filter((l) => !/^\s*(Writing|INFO)/.test(l)).slice(-3).join(' | ') || lines.slice(-2).join(' | ');
    const missingModule = /ModuleNotFoundError: No module named '([^']+)'/.exec(lines.join('\n'))?.[1];
    if (missingModule) throw new UsageError(`LoRA conversion: ${python} has no module ${missingModule}; use the training venv (bash training/python/smoke_test.sh) or set LLM_AUCTION_PYTHON`);
    throw new Error(`LoRA conversion of ${dir} failed (exit ${code}): ${why}`);
  }
  renameSync(tmp, out);
  return out;
}

/**
 * An adapter path as the GGUF file llama.cpp loads: a `.gguf` file is used as it is, a PEFT
 * directory is converted (needing the base model directory).
 */
export async function resolveAdapterFile(adapter: string, opts: { model: string; base?: string | null; env?: NodeJS.ProcessEnv; log?: (line: string) => void }): Promise<string> {
  const p = path.resolve(adapter);
  if (!existsSync(p)) throw new InputError(p, undefined, undefined, 'no such LoRA adapter (expected a PEFT adapter directory or a .gguf LoRA file)');
  if (statSync(p).isFile()) {
    if (!p.toLowerCase().endsWith('.gguf')) throw new InputError(p, undefined, undefined, 'a LoRA adapter file must be a .gguf (or give the PEFT adapter directory)');
    return p;
  }
  const baseModelDir = defaultBaseModelDir(opts.model, opts.base, opts.env);
  if (!baseModelDir) {
    throw new UsageError(`LoRA conversion: no base model directory known for local:${opts.model}; add ?base=DIR (the transformers copy the adapter was trained on) or set LLM_AUCTION_LORA_BASE, or give a .gguf LoRA`);
  }
  return convertPeftAdapter(p, { baseModelDir, ...(opts.env ? { env: opts.env } : {}), ...(opts.log ? { log: opts.log } : {}) });
}
