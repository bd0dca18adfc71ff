/** `module:PATH`: a JS/TS module whose default export is an allocation rule (the contract's shape). */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../lib/errors.ts';
import { checkedRule } from '../../mechanism/checked-rule.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import type { MechanismKind } from './kind.ts';

export interface ModuleSpec {
  kind: 'module';
  path: string;
}

/** Seconds a module rule's sample() or enumerate() may take before the run stops (LLM_AUCTION_MODULE_TIMEOUT_S; 0: no limit). */
export const MODULE_TIMEOUT_ENV = 'LLM_AUCTION_MODULE_TIMEOUT_S';
export const DEFAULT_MODULE_TIMEOUT_S = 600;

export function moduleTimeoutMs(): number {
  const raw = process.env[MODULE_TIMEOUT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MODULE_TIMEOUT_S * 1000;
  const x = Number(raw);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw) || !Number.isFinite(x) || x > 86_400) throw new UsageError(`${MODULE_TIMEOUT_ENV}: must be a number of seconds from 0 to 86400 (0: no limit), got ${JSON.stringify(raw)}`);
  return x * 1000;
}

async function loadModule(path: string): Promise<AllocationRule> {
  const file = resolvePath(path);
  if (!existsSync(file)) throw new UsageError(`bad mechanism spec ${JSON.stringify(`module:${path}`)}: no such file ${file}`);
  if (!statSync(file).isFile()) throw new UsageError(`bad mechanism spec ${JSON.stringify(`module:${path}`)}: ${file} is not a regular file`);
  const timeoutMs = moduleTimeoutMs();
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    // A module may throw anything, not only an Error (`throw 42`).
    const why = e instanceof Error ? e.message.split('\n')[0] : `threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`;
    throw new UsageError(`${file}: cannot load the module (${why})`);
  }
  const rule = mod.default as Partial<AllocationRule> | undefined;
  if (!rule || typeof rule.sample !== 'function') throw new UsageError(`${file}: the default export must be an allocation rule with a sample(input, n, opts) method`);
  const payment = rule.payment;
  if (payment !== undefined && payment !== 'first-price-click' && payment !== 'first-price-impression') {
    throw new UsageError(`${file}: field "payment": must be "first-price-click" or "first-price-impression"`);
  }
  if (rule.name !== undefined && (typeof rule.name !== 'string' || rule.name.trim() === '' || /[\u0000-\u001f\u007f]/.test(rule.name))) {
    throw new UsageError(`${file}: field "name": must be a non-empty string of printable characters`);
  }
  if (rule.enumerate !== undefined && typeof rule.enumerate !== 'function') throw new UsageError(`${file}: field "enumerate": must be a function`);
  const name = rule.name ?? `module:${path}`;
  const out: AllocationRule = { name, sample: rule.sample.bind(rule) };
  if (payment !== undefined) out.payment = payment;
  if (typeof rule.enumerate === 'function') out.enumerate = rule.enumerate.bind(rule);
  // Checked on every call: n strings from sample, a distribution from enumerate, within the time limit.
  return checkedRule(out, timeoutMs);
}

export const moduleKind: MechanismKind<ModuleSpec> = {
  kind: 'module',
  usage: 'module:PATH',
  parse({ rest, fail }) {
    if (rest.trim() === '') fail('expected module:PATH');
    return { kind: 'module', path: rest };
  },
  format: (s) => `module:${s.path}`,
  resolve: (spec) => loadModule(spec.path),
  label: (s) => `module ${basename(s.path)}`,
};
