/**
 * The property checks: the types, the registry and the skeleton a new verdict property is built
 * on. Each property is reached through the registry (`getProperty(name).check`), so adding one
 * changes nothing here; its own file exports its spec and check for direct use.
 */
export * from './types.ts';
export { registry, registerProperty, getProperty, propertyNames, defaultPropertyNames, reportPropertyNames, type PropertyName } from './registry.ts';
export { registerMechanism, registeredMechanisms, type RegisteredMechanism } from './mechanisms.ts';
export { plannedProperty, type PropertyPlan, type CaseContext, type CaseOutcome } from './verdict.ts';
export { BettingTest, OneSidedPair, affineRange } from './sequential.ts';
