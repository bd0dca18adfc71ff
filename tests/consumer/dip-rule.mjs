// The same rule with a planted monotonicity violation (weights collapse for bids 35..55).
import { softmaxRule } from './softmax-rule.mjs';

export default softmaxRule('softmax with a dip (module)', { dip: true });
