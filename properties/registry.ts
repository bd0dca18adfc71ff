/**
 * The properties, as one list of specs. Everything else reads this list: the names `--property`
 * accepts, its default and its help, verify's evidence column, the test matrix. A new property is
 * one file that exports its spec and one line below; `registerProperty` adds one at run time (a
 * test fixture, or a user's plugin that calls it before the CLI runs).
 *
 * `verdict` properties answer pass / fail / inconclusive / holds by construction with a known
 * error rate and run by default; `report` properties (um-equilibrium) measure something the
 * theory does not promise, run only when asked for, and never decide an exit code.
 */
import { UsageError } from '../lib/errors.ts';
import { continuitySpec } from './continuity.ts';
import { irSpec } from './ir.ts';
import { monotonicitySpec } from './monotonicity.ts';
import type { PropertySpec } from './types.ts';
import { umEquilibriumSpec } from './um-equilibrium.ts';
import { vmTruthfulnessSpec } from './vm-truthfulness.ts';

const specs: PropertySpec[] = [
  monotonicitySpec,
  continuitySpec,
  irSpec,
  vmTruthfulnessSpec,
  umEquilibriumSpec,
];

/** Every property, built in or registered, in the order verify runs and prints them (live: it grows with `registerProperty`). */
export const registry: readonly PropertySpec[] = specs;

/** A property's name as `--property` and verify.json spell it. */
export type PropertyName = PropertySpec['name'];

/**
 * Add a property after the built-in ones. Its name must be new (a plugin cannot quietly replace a
 * built-in check) and usable in `--property`'s comma-separated list.
 */
export function registerProperty(spec: PropertySpec): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.name)) throw new UsageError(`property name "${spec.name}": use lower-case letters, digits and dashes`);
  if (specs.some((p) => p.name === spec.name)) throw new UsageError(`property "${spec.name}" is already registered`);
  specs.push(spec);
}

export function propertyNames(): PropertyName[] {
  return specs.map((p) => p.name);
}

/** What `verify` runs when no `--property` is given: every verdict property. */
export function defaultPropertyNames(): PropertyName[] {
  return specs.filter((p) => p.kind === 'verdict').map((p) => p.name);
}

/** The report-only properties, which run only when named. */
export function reportPropertyNames(): PropertyName[] {
  return specs.filter((p) => p.kind === 'report').map((p) => p.name);
}

export function getProperty(name: string): PropertySpec {
  const p = specs.find((q) => q.name === name);
  if (!p) throw new UsageError(`unknown property "${name}"; expected one of ${propertyNames().join(', ')}`);
  return p;
}
