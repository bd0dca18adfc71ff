/** `module:PATH`: a JS/TS module whose default export is an allocation rule (the contract's shape). */
import { existsSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../lib/errors.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import type { MechanismKind } from './kind.ts';

export interface ModuleSpec {
  kind: 'module';
  path: string;
}

async function loadModule(path: string): Promise<AllocationRule> {
  const file = resolvePath(path);
  if (!existsSync(file)) throw new UsageError(`bad mechanism spec ${JSON.stringify(`module:${path}`)}: no such file ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`${file}: cannot load the module (${(e as Error).message.split('\n')[0]})`);
  }
  const rule = mod.default as Partial<AllocationRule> | undefined;
  if (!rule || typeof rule.sample !== 'function') throw new UsageError(`${file}: the default export must be an allocation rule with a sample(input, n, opts) method`);
  const payment = rule.payment;
  if (payment !== undefined && payment !== 'first-price-click' && payment !== 'first-price-impression') {
    throw new UsageError(`${file}: field "payment": must be "first-price-click" or "first-price-impression"`);
  }
  const name = typeof rule.name === 'string' && rule.name.trim() !== '' ? rule.name : `module:${path}`;
  const out: AllocationRule = { name, sample: rule.sample.bind(rule) };
  if (payment !== undefined) out.payment = payment;
  if (typeof rule.enumerate === 'function') out.enumerate = rule.enumerate.bind(rule);
  return out;
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
