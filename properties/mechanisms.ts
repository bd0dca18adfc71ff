/**
 * Mechanisms the property test suite runs every property on (tests/properties.test.ts).
 *
 * The planted fixtures register themselves from the test; the lead adds the embedded mechanisms
 * (`embedded:optimal`, `embedded:pretrained`) with `registerMechanism` from any module the test
 * imports, saying what each property should answer. The matrix then runs registry x mechanisms.
 */
import type { PropertyName } from './registry.ts';
import type { CheckOptions, MechanismUnderTest, VerdictKind } from './types.ts';

export interface RegisteredMechanism {
  /** Unique name, also the test title. */
  name: string;
  /** Built lazily, once, when the matrix first needs it. */
  create: () => MechanismUnderTest | Promise<MechanismUnderTest>;
  /**
   * What each property must answer; a property left out is only checked for a well-formed
   * result. 'not-fail' accepts pass or inconclusive (for sampled mechanisms at small budgets).
   */
  expect?: Partial<Record<PropertyName, VerdictKind | 'not-fail'>>;
  /** Options for this mechanism's checks (budget, cases, exact: false…). */
  options?: CheckOptions;
  /** Property names to leave out for this mechanism (too slow, not meaningful). */
  skip?: PropertyName[];
}

const mechanisms = new Map<string, RegisteredMechanism>();

/** Add (or replace, by name) a mechanism for the property matrix. */
export function registerMechanism(entry: RegisteredMechanism): void {
  mechanisms.set(entry.name, entry);
}

export function registeredMechanisms(): readonly RegisteredMechanism[] {
  return [...mechanisms.values()];
}
