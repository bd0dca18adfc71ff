/**
 * Exact itctr (mechanism/itctr.ts) of one ad as its bid moves, fast enough for Figure 4.
 *
 * Why it takes a shortcut for the embedded Ad-LLM: enumerating its ~2,300 responses and scoring
 * each costs ~65 ms, and Figure 4(a) needs N x 11 x (T + 1) of them (minutes). But neither the
 * text of a plan nor the user's click probability depends on the bids or on theta; only the plan
 * probabilities do. So the focal ad's click probability is scored once per plan and query, and
 * each (epoch, bid) is then one pass over the plan log-probabilities. The result is the same
 * number `estimateItctr` computes from `enumerate` (tests/report.test.ts checks this).
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import { estimateItctr } from '../mechanism/itctr.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import type { AllocationRule, AuctionInput } from '../mechanism/types.ts';
import { withBid } from '../properties/sampling.ts';
import { EmbeddedRule } from '../simulation/embedded-policy.ts';

/**
 * Exact itctr of one ad for one rule, auction and bid. Embedded rules take the plan shortcut
 * described above; any other rule that enumerates goes through `estimateItctr`.
 */
export class ExactItctr {
  private readonly planCtr = new Map<string, { plans: Int32Array; ctr: Float64Array }>();

  constructor(private readonly user: ClickModel) {}

  async at(rule: AllocationRule, input: AuctionInput, index: number, bid: number): Promise<number> {
    const arm = withBid(input, index, bid);
    if (rule instanceof EmbeddedRule) {
      const policy = rule.policy;
      const table = policy.table(arm);
      const focal = await this.focalCtr(rule, arm, index);
      if (focal.plans.length === 0) return 0;
      const lp = policy.logProbs(arm, rule.theta, table);
      let s = 0;
      for (let k = 0; k < focal.plans.length; k++) s += Math.exp(lp[focal.plans[k]!]!) * focal.ctr[k]!;
      return s;
    }
    if (!rule.enumerate) throw new Error(`${rule.name}: cannot compute exact itctr: the rule does not enumerate its responses`);
    const est = await estimateItctr(rule, arm, this.user);
    return est.find((e) => e.id === input.ads[index]!.id)?.itctr ?? 0;
  }

  /** The focal ad's click probability in every plan that inserts it with the right markup. */
  private async focalCtr(rule: EmbeddedRule, input: AuctionInput, index: number): Promise<{ plans: Int32Array; ctr: Float64Array }> {
    const policy = rule.policy;
    const table = policy.table(input);
    const key = `${table.key}\u0002${index}`;
    const hit = this.planCtr.get(key);
    if (hit) return hit;
    const s = table.shortlist.indexOf(index);
    const plans: number[] = [];
    const ctr: number[] = [];
    // An ad outside the policy's short list is never inserted: itctr 0 at every bid.
    if (s >= 0) {
      const id = input.ads[index]!.id;
      const parser = new ResponseParser(input.ads);
      for (let j = 0; j < table.plans.length; j++) {
        const plan = table.plans[j]!;
        const at = plan.ads.indexOf(s);
        // Only a well-formed insertion is an exposure; every other plan contributes zero.
        if (at < 0 || !plan.ok[at]) continue;
        const response = policy.render(input, plan, table);
        const parsed = parser.parse(response);
        if (!parsed.exposures.some((e) => e.id === id)) continue;
        const p = (await this.user.clickProbabilities({ input, response, parsed }))[id] ?? 0;
        if (p > 0) {
          plans.push(j);
          ctr.push(p);
        }
      }
    }
    const out = { plans: Int32Array.from(plans), ctr: Float64Array.from(ctr) };
    if (this.planCtr.size > 2000) this.planCtr.clear();
    this.planCtr.set(key, out);
    return out;
  }
}
