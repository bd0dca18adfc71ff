// The same rule as a TypeScript module, typed against the published declarations.
import type { AllocationRule } from 'llm-auction';
import { softmaxRule } from './softmax-rule.mjs';

const rule: AllocationRule = softmaxRule('softmax (typescript module)');
export default rule;
