/** The property checks: types, the registry, and each check as a plain async function. */
export * from './types.ts';
export { registry, getProperty, VERDICT_PROPERTIES, PROPERTY_NAMES } from './registry.ts';
export type { PropertyName, VerdictPropertyName, ReportPropertyName, RegisteredProperty, VerdictProperty, ReportProperty } from './registry.ts';
export { registerMechanism, registeredMechanisms, type RegisteredMechanism } from './mechanisms.ts';
export { monotonicity, PAPER_GRID, FULL_GRID } from './monotonicity.ts';
export { continuity } from './continuity.ts';
export { ir } from './ir.ts';
export { vmTruthfulness } from './vm-truthfulness.ts';
export { umEquilibrium, type EquilibriumOptions, type EquilibriumReport } from './um-equilibrium.ts';
export { BettingTest, OneSidedPair, affineRange } from './sequential.ts';
