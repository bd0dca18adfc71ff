/**
 * Truthfulness for value maximizers (Thm. 4.5): a value maximizer (v, tau) bidding b* = v / tau
 * does best among the bids that keep its ROI constraint v itctr >= tau p.
 *
 * Cases: an auction, a focal ad whose instance bid is b*, a target ROI tau in {1, 1.25, ..., 2},
 * so v = tau b*. The others keep their bids. A violation is an alternative bid b that is
 * ROI-feasible and gives more value than the truthful bid by more than the tolerated relative
 * amount: (1 - rho) itctr(b) > itctr(b*) (v is fixed; rho as in monotonicity, so the definition
 * is on the ad's own scale). A truthful bid that itself breaks the ROI constraint is a violation
 * too (the theorem says it is feasible).
 *
 * Under first price per click the ROI constraint v itctr >= tau b itctr holds exactly for the bids
 * b <= b*, so this property is monotonicity on [1, b*] seen from one advertiser: the verdict
 * says so (details.equivalent_to), and summaries do not count it as separate evidence.
 *
 * Per alternative b, paired within a batch:
 *   gain  D = (1 - rho) x(b) - x(b*)              in [-1, 1 - rho]
 *   slack g = (v x(b) - tau p(b)) / max(v, tau b)  (ROI slack, normalized; feasible iff E[g] >= 0)
 * - fail: "feasible and better" needs both shown: H0 E[D] <= 0 and H0 E[g] <= 0 both rejected at
 *   alpha / (cases * 14) (an intersection-union test, so no extra correction);
 * - equivalence: "not (feasible and better beyond effect S)" is shown by either H0
 *   E[D - effect (x(1) + x(100))] >= 0 or H0 E[g] >= 0 rejected at alpha / 2 (Bonferroni over
 *   the two routes); S = itctr(1) + itctr(100) is the curve's scale, as in monotonicity.
 * Truthful bid: fail when H0 E[g*] >= 0 is rejected (infeasible); equivalence when H0
 * E[g*] <= -effect is rejected.
 *
 * Alternatives, sampled: the paper grid {1, 10, ..., 100} plus b* - 1 and b* + 1 (where the first
 * price bites), at most 13, and the truthful check: 14 planned comparisons per case. Exact: every
 * bid 1..100.
 *
 * Power at the defaults (10 cases, ~2,000 responses per case), measured over 20 seeds on
 * minimal:dip (exposure drops once so that every bid <= 40 gains exactly 0.05 itctr over any bid
 * above, and is feasible under first price per click) with common random numbers: detected in
 * 100% of runs, after about 1,200 responses per case; correct rules pass after ~550-650 per case.
 */
import { type Comparison, PairComparison, pairedSummary, runSequentialCase } from './case-loop.ts';
import { curveStep, focalPrefix, num } from './evidence.ts';
import { FULL_GRID, PAPER_GRID, SCALE_BIDS } from './monotonicity.ts';
import { type ArmData, armSummary, chargedPrice, ExactEvaluator, withBid } from './sampling.ts';
import { affineRange, BettingTest } from './sequential.ts';
import type { MechanismUnderTest, VerdictProperty } from './types.ts';
import { type CaseContext, type CaseOutcome, exactOutcome, plannedProperty } from './verdict.ts';
import { round } from '../lib/numbers.ts';

const PER_CASE = PAPER_GRID.length + 2 + 1;

interface Bidder {
  k: number;
  truthful: number;
  value: number;
  tau: number;
  /** The price per click actually charged at each bid (GSP), when the rule sets one. */
  price: (bid: number) => number | undefined;
}

function paymentOf(m: MechanismUnderTest, who: Bidder, bid: number, x: number, e: number): number {
  const price = who.price(bid);
  return m.payment.expectedPayment({ bid, itctr: x, exposure: e, ...(price !== undefined ? { price } : {}) });
}

/** Normalized ROI slack of one response at bid b (see the module comment). */
function slackOf(m: MechanismUnderTest, who: Bidder, bid: number, x: number, e: number): number {
  const pay = paymentOf(m, who, bid, x, e);
  return (who.value * x - who.tau * pay) / Math.max(who.value, who.tau * bid);
}

/** Bounds of the slack at bid b: from the payment rule when affine, else [-1, 1]. */
function slackRange(m: MechanismUnderTest, who: Bidder, bid: number): [number, number] {
  const r = affineRange((x, e) => slackOf(m, who, bid, x, e)) ?? [-1, 1];
  return [Math.max(-1, r[0]), Math.min(1, r[1])];
}

function slack(m: MechanismUnderTest, who: Bidder, bid: number, x: number, e: number): number {
  const pay = paymentOf(m, who, bid, x, e);
  if (!(pay >= -1e-9 && pay <= bid + 1e-9)) {
    throw new RangeError(`vm-truthfulness: payment rule ${m.payment.name} charged ${pay} for one response at bid ${bid}; the check needs a payment in [0, bid]`);
  }
  return slackOf(m, who, bid, x, e);
}

class DeviationComparison implements Comparison {
  readonly bids: readonly number[];
  private readonly gains: number[] = [];
  private readonly slacks: number[] = [];
  private readonly better = new BettingTest(0, -1); // H0 E[D] <= 0
  private readonly feasible: BettingTest; // H0 E[g] <= 0
  private readonly notBetter: BettingTest; // H0 E[D - effect S] >= 0, fed its negation
  private readonly infeasible: BettingTest; // H0 E[g] >= 0, fed -g
  private eq = false;

  readonly extraBids: readonly number[];

  constructor(
    private readonly m: MechanismUnderTest,
    private readonly who: Bidder,
    readonly bid: number,
    private readonly rho: number,
    private readonly effect: number,
  ) {
    this.bids = [bid, who.truthful];
    this.extraBids = SCALE_BIDS.filter((b) => !this.bids.includes(b));
    // -(D - effect S) >= -(1 - rho).
    this.notBetter = new BettingTest(0, -(1 - rho));
    // Under a first price per click the slack has a known sign at each bid (feasible below b*,
    // infeasible above once the ad is exposed); bounds from the payment rule let one exposure
    // settle feasibility instead of hundreds.
    const [lo, hi] = slackRange(m, who, bid);
    this.feasible = new BettingTest(0, lo);
    this.infeasible = new BettingTest(0, -hi);
  }

  observe(j: number, batch: (bid: number) => ArmData, has: (bid: number) => boolean): void {
    const alt = batch(this.bid);
    const tru = batch(this.who.truthful);
    const x = alt.x[this.who.k]![j]!;
    const d = (1 - this.rho) * x - tru.x[this.who.k]![j]!;
    const g = slack(this.m, this.who, this.bid, x, alt.e[this.who.k]![j]!);
    this.gains.push(d);
    this.slacks.push(g);
    this.better.push(d);
    if (SCALE_BIDS.every(has)) {
      const s = SCALE_BIDS.reduce((acc, b) => acc + batch(b).x[this.who.k]![j]!, 0);
      this.notBetter.push(-(d - this.effect * s));
    }
    this.feasible.push(g);
    this.infeasible.push(-g);
  }

  decide(alphaFail: number, alphaPass: number) {
    if (this.better.rejects(alphaFail) && this.feasible.rejects(alphaFail)) return 'fail' as const;
    this.eq ||= this.notBetter.rejects(alphaPass / 2) || this.infeasible.rejects(alphaPass / 2);
    return this.eq ? ('pass' as const) : ('open' as const);
  }

  count(): number {
    return this.better.count;
  }

  failP(): number {
    return Math.max(this.better.pValue(), this.feasible.pValue());
  }

  violationWealth(): number {
    return Math.min(this.better.wealth, this.feasible.wealth);
  }

  passP(): number {
    return Math.min(1, 2 * Math.min(this.notBetter.pValue(), this.infeasible.pValue()));
  }

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const gain = pairedSummary(this.gains);
    const s = pairedSummary(this.slacks);
    return {
      comparison: 'deviation',
      advertiser: { kind: 'value', value: this.who.value, target_roi: this.who.tau },
      truthful_bid: this.who.truthful,
      deviation_bid: this.bid,
      itctr: [armSummary(arm(this.who.truthful), this.who.k), armSummary(arm(this.bid), this.who.k)],
      exposure: [armSummary(arm(this.who.truthful), this.who.k).exposure, armSummary(arm(this.bid), this.who.k).exposure],
      rho: this.rho,
      excess_gain: gain.mean,
      excess_gain_ci95: gain.ci95,
      roi_slack: s.mean,
      roi_slack_ci95: s.ci95,
    };
  }
}

class TruthfulFeasibility extends PairComparison implements Comparison {
  readonly bids: readonly number[];
  private readonly slacks: number[] = [];
  /** H0 E[g*] >= 0, fed -g*: rejecting it shows the truthful bid is infeasible. */
  protected readonly violation: BettingTest;
  /** H0 E[g*] <= -effect: rejecting it shows the truthful bid keeps the ROI constraint. */
  protected readonly equivalence: BettingTest;

  constructor(
    private readonly m: MechanismUnderTest,
    private readonly who: Bidder,
    effect: number,
  ) {
    super();
    this.bids = [who.truthful];
    const [lo, hi] = slackRange(m, who, who.truthful);
    this.violation = new BettingTest(0, -hi);
    this.equivalence = new BettingTest(-effect, lo);
  }

  observe(j: number, batch: (bid: number) => ArmData): void {
    const a = batch(this.who.truthful);
    const g = slack(this.m, this.who, this.who.truthful, a.x[this.who.k]![j]!, a.e[this.who.k]![j]!);
    this.slacks.push(g);
    this.violation.push(-g);
    this.equivalence.push(g);
  }

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const s = pairedSummary(this.slacks);
    return {
      advertiser: { kind: 'value', value: this.who.value, target_roi: this.who.tau },
      truthful_bid: this.who.truthful,
      itctr: armSummary(arm(this.who.truthful), this.who.k),
      roi_slack: s.mean,
      roi_slack_ci95: s.ci95,
      comparison: 'truthful-feasibility',
    };
  }
}

function bidder(ctx: CaseContext): Bidder {
  const { c, m } = ctx;
  const truthful = c.instance.ads[c.focal]!.bid;
  if (!(truthful > 0)) throw new RangeError(`vm-truthfulness: the focal ad's bid is ${truthful}; bids must be positive`);
  return { k: c.focal, truthful, value: c.tau * truthful, tau: c.tau, price: (bid) => chargedPrice(m, withBid(c.instance, c.focal, bid), c.focal) };
}

/** Deviations tried on the sampled path: the paper grid and the neighbours of b*. */
export function deviations(truthful: number): number[] {
  const set = new Set<number>([...PAPER_GRID, truthful - 1, truthful + 1]);
  set.delete(truthful);
  return [...set].filter((b) => b >= 1 && b <= 100).sort((a, b) => a - b);
}

async function exactCase(ctx: CaseContext): Promise<CaseOutcome> {
  const { m, c, opts } = ctx;
  const who = bidder(ctx);
  const ev = new ExactEvaluator(m, c.instance, c.focal);
  const tru = await ev.at(who.truthful);
  const xT = tru.itctr[who.k]!;
  const gT = slack(m, who, who.truthful, xT, tru.exposure[who.k]!);
  const base = { advertiser: { kind: 'value', value: who.value, target_roi: who.tau }, truthful_bid: who.truthful, exact: true };
  // ROI slack is compared with a tolerance relative to the sums it subtracts: near itctr = 0 both
  // sides are tiny, and an absolute tolerance would call an overbid "feasible" by rounding alone.
  const tol = (b: number, x: number) => opts.tolerance * (who.value * x + who.tau * b * x);
  if (gT < -tol(who.truthful, xT)) {
    return exactOutcome(true, ev.responses, { ...base, itctr: round(xT, 6), roi_slack: round(gT, 6), infeasible_truthful_bid: true });
  }
  let best: { bid: number; gain: number; g: number; x: number; e: number } | undefined;
  let top = xT;
  for (const b of FULL_GRID) {
    if (b === who.truthful) continue;
    const p = await ev.at(b);
    const x = p.itctr[who.k]!;
    top = Math.max(top, x);
    const g = slack(m, who, b, x, p.exposure[who.k]!);
    const gain = (1 - opts.rho) * x - xT;
    if (g >= -tol(b, x) && (!best || gain > best.gain)) best = { bid: b, gain, g, x, e: p.exposure[who.k]! };
  }
  const fail = best !== undefined && best.gain > opts.tolerance * top + 1e-15;
  return exactOutcome(
    fail,
    ev.responses,
    best
      ? {
          ...base,
          deviation_bid: best.bid,
          itctr: [round(xT, 6), round(best.x, 6)],
          exposure: [round(tru.exposure[who.k]!, 6), round(best.e, 6)],
          rho: opts.rho,
          excess_gain: round(best.gain, 6),
          roi_slack: round(best.g, 6),
        }
      : base,
  );
}

const planned = plannedProperty({
  name: 'vm-truthfulness',
  description: 'Thm. 4.5: a value maximizer bidding v/tau has no ROI-feasible bid with more value',
  defaultCases: 10,
  comparisons: (mode) => (mode === 'exact' ? FULL_GRID.length : PER_CASE),
  async runCase(ctx) {
    if (ctx.mode === 'exact') return exactCase(ctx);
    const who = bidder(ctx);
    const comps: Comparison[] = [new TruthfulFeasibility(ctx.m, who, ctx.opts.effect)];
    for (const b of deviations(who.truthful)) comps.push(new DeviationComparison(ctx.m, who, b, ctx.opts.rho, ctx.opts.effect));
    return runSequentialCase(ctx, ctx.c.focal, comps);
  },
  notes: (mode, m, opts) => [
    `a violation is an ROI-feasible bid b with ${round(1 - opts.rho)} itctr(b) > itctr(b*), or an infeasible truthful bid b*`,
    mode === 'exact'
      ? 'exact itctr (enumerate); deviations: every bid 1..100'
      : `deviations: ${PAPER_GRID.join(',')} and b*±1; pass rules out a feasible deviation beyond ${opts.effect} x (itctr(1) + itctr(100))`,
    ...(equivalentTo(m) ? ['first price per click: feasible bids are exactly b <= b*, so this is monotonicity on [1, b*]; not separate evidence'] : []),
  ],
  evidence: (ev, failing) => {
    const focal = focalPrefix(ev);
    if (ev.comparison === 'truthful-feasibility' || ev.infeasible_truthful_bid) {
      return failing
        ? `${focal}truthful bid ${String(ev.truthful_bid)} breaks the ROI constraint (slack ${num(ev.roi_slack)})`
        : `${focal}ROI slack ${num(ev.roi_slack)} at the truthful bid ${String(ev.truthful_bid)}`;
    }
    return failing
      ? `${focal}bid ${String(ev.deviation_bid)} instead of ${String(ev.truthful_bid)}: ${curveStep(ev)}, ROI-feasible`
      : `${focal}bid ${String(ev.deviation_bid)} vs ${String(ev.truthful_bid)}: ${curveStep(ev)}, ROI slack ${num(ev.roi_slack)}`;
  },
  passNote: (v) =>
    v.details?.equivalent_to ? `; equivalent to ${String(v.details.equivalent_to)} under first price per click, not separate evidence` : '',
});

/**
 * The property this one reduces to under the mechanism's payment rule, if any: under first price
 * per click, ROI feasibility is b <= b* for every allocation, so VM truthfulness is monotonicity.
 */
export function equivalentTo(m: MechanismUnderTest): 'monotonicity' | null {
  return m.payment.name === 'first-price-click' ? 'monotonicity' : null;
}

/**
 * Thm. 4.5 as a test: see the module comment. Its verdict says when it is monotonicity in
 * disguise (details.equivalent_to), so summaries do not count it twice.
 */
export const vmTruthfulnessSpec: VerdictProperty = {
  ...planned,
  async check(m, opts) {
    const v = await planned.check(m, opts);
    const eq = equivalentTo(m);
    if (eq && v.details) v.details.equivalent_to = eq;
    return v;
  },
};

export const vmTruthfulness = vmTruthfulnessSpec.check;
