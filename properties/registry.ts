/**
 * The properties by name, env-checker style: each entry is a plain async function of the
 * mechanism. `verdict` entries answer pass / fail / inconclusive with a known error rate;
 * `report` entries (um-equilibrium) measure something the theory does not promise and never
 * decide an exit code.
 */
import { UsageError } from '../mechanism/errors.ts';
import { continuity, continuitySpec } from './continuity.ts';
import { type PropertySpec, structuralReason } from './verdict.ts';
import { ir, irSpec } from './ir.ts';
import { monotonicity, monotonicitySpec } from './monotonicity.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from './types.ts';
import { type EquilibriumOptions, type EquilibriumReport, umEquilibrium } from './um-equilibrium.ts';
import { vmTruthfulness, vmTruthfulnessSpec } from './vm-truthfulness.ts';

export type VerdictPropertyName = 'monotonicity' | 'continuity' | 'ir' | 'vm-truthfulness';
export type ReportPropertyName = 'um-equilibrium';
export type PropertyName = VerdictPropertyName | ReportPropertyName;

export interface VerdictProperty {
  name: VerdictPropertyName;
  kind: 'verdict';
  /** One line: what is checked, and the paper's reference. */
  description: string;
  /** Planned cases when `cases` is not given. */
  defaultCases: number;
  check: (m: MechanismUnderTest, opts?: CheckOptions) => Promise<Verdict>;
  /** Why the mechanism's payment rule makes the property hold for every allocation, or null. */
  byConstruction: (m: MechanismUnderTest) => string | null;
}

const structural = (spec: PropertySpec) => (m: MechanismUnderTest) => structuralReason(spec, m);

export interface ReportProperty {
  name: ReportPropertyName;
  kind: 'report';
  description: string;
  defaultCases: number;
  run: (m: MechanismUnderTest, opts?: EquilibriumOptions) => Promise<EquilibriumReport>;
}

export type RegisteredProperty = VerdictProperty | ReportProperty;

export const registry: readonly RegisteredProperty[] = [
  {
    name: 'monotonicity',
    kind: 'verdict',
    description: "Def. 3.2: raising an ad's bid never lowers its itctr by more than a share rho (relative dip)",
    defaultCases: monotonicitySpec.defaultCases,
    check: monotonicity,
    byConstruction: structural(monotonicitySpec),
  },
  {
    name: 'continuity',
    kind: 'verdict',
    description: "Thm. 4.3: no step b -> b+1 moves itctr by more than kappa x (itctr(1) + itctr(100)), the curve's own scale",
    defaultCases: continuitySpec.defaultCases,
    check: continuity,
    byConstruction: structural(continuitySpec),
  },
  {
    name: 'ir',
    kind: 'verdict',
    description: 'Def. 3.6: bidding truthfully, expected payment <= v * itctr (UM, and VM with tau >= 1)',
    defaultCases: irSpec.defaultCases,
    check: ir,
    byConstruction: structural(irSpec),
  },
  {
    name: 'vm-truthfulness',
    kind: 'verdict',
    description: 'Thm. 4.5: a value maximizer bidding v/tau has no ROI-feasible bid with more value',
    defaultCases: vmTruthfulnessSpec.defaultCases,
    check: vmTruthfulness,
    byConstruction: structural(vmTruthfulnessSpec),
  },
  {
    name: 'um-equilibrium',
    kind: 'report',
    description: 'Cor. 4.4 (report only): epsilon-Nash gap and bid shading of utility maximizers under best-response dynamics',
    defaultCases: 3,
    run: umEquilibrium,
  },
];

/** The four properties `verify` runs by default (the contract's list). */
export const VERDICT_PROPERTIES: readonly VerdictPropertyName[] = ['monotonicity', 'continuity', 'ir', 'vm-truthfulness'];

export const PROPERTY_NAMES: readonly PropertyName[] = registry.map((p) => p.name);

export function getProperty(name: string): RegisteredProperty {
  const p = registry.find((q) => q.name === name);
  if (!p) throw new UsageError(`unknown property "${name}"; expected one of ${PROPERTY_NAMES.join(', ')}`);
  return p;
}
