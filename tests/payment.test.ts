import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  firstPriceClick,
  firstPriceImpression,
  gsp,
  gspAllocate,
  Ledger,
  LedgerInvariantError,
  type PaymentRule,
  type SettlementEvent,
} from '../mechanism/payment.ts';
import type { BiddedAd, Exposure } from '../mechanism/types.ts';

const adId = fc.integer({ min: 1, max: 12 }).map((k) => `Ad-${String(k).padStart(4, '0')}`);
const bidValue = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1000, noNaN: true }));

/** An auction outcome: candidates with bids, some validly exposed, and arbitrary clicks (also on ads never exposed). */
const event = fc
  .uniqueArray(fc.tuple(adId, bidValue), { minLength: 1, maxLength: 10, selector: ([id]) => id })
  .chain((cands) => {
    const ads: BiddedAd[] = cands.map(([id, bid]) => ({ id, title: `Title ${id}`, bid }));
    return fc.record({
      ads: fc.constant(ads),
      exposed: fc.subarray(ads.map((a) => a.id)),
      clicked: fc.array(fc.oneof(adId, fc.constantFrom(...ads.map((a) => a.id))), { maxLength: 15 }),
      k: fc.integer({ min: 1, max: 4 }),
      quality: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: ads.length, maxLength: ads.length }),
    });
  })
  .map(({ ads, exposed, clicked, k, quality }) => {
    const exposures: Exposure[] = exposed.map((id, j) => ({ id, title: `Title ${id}`, start: j * 10, end: j * 10 + 5 }));
    const q = new Map(ads.map((a, j) => [a.id, quality[j]!]));
    const slots = gspAllocate(ads, (a) => q.get(a.id)!, k);
    const ev: SettlementEvent = { queryId: 'Q-00001', sample: 0, ads, exposures, clicked, slots };
    return ev;
  });

const rules: PaymentRule[] = [firstPriceClick, firstPriceImpression, gsp];

describe('payment rules and ledger invariants', () => {
  for (const rule of rules) {
    it(`${rule.name}: charges only valid exposures, never more than the bid per click, and revenue is the ledger's sum`, () => {
      fc.assert(
        fc.property(event, (ev) => {
          const ledger = new Ledger();
          const charges = ledger.settle(rule, ev);
          const exposed = new Set(ev.exposures.map((e) => e.id));
          const bids = new Map(ev.ads.map((a) => [a.id, a.bid]));
          let sum = 0;
          for (const c of charges) {
            expect(exposed.has(c.ad_id)).toBe(true);
            expect(c.amount).toBeGreaterThanOrEqual(0);
            expect(c.amount).toBeLessThanOrEqual(bids.get(c.ad_id)! + 1e-9);
            sum += c.amount;
          }
          // Each ad is charged at most once per response (one exposure, one click).
          expect(new Set(charges.map((c) => c.ad_id)).size).toBe(charges.length);
          expect(ledger.revenue).toBeCloseTo(sum, 9);
          expect(ledger.entries.length).toBe(charges.length);
        }),
        { numRuns: 1000, seed: 5 },
      );
    });
  }

  it('first-price per click charges exactly the bid for each clicked valid exposure', () => {
    fc.assert(
      fc.property(event, (ev) => {
        const charges = firstPriceClick.settle(ev);
        const exposed = new Set(ev.exposures.map((e) => e.id));
        const expected = [...new Set(ev.clicked.filter((id) => exposed.has(id)))];
        expect(charges.map((c) => c.ad_id)).toEqual(expected);
        for (const c of charges) expect(c.amount).toBe(ev.ads.find((a) => a.id === c.ad_id)!.bid);
        expect(charges.every((c) => c.event === 'click')).toBe(true);
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it('first-price per impression charges every valid exposure, clicked or not', () => {
    fc.assert(
      fc.property(event, (ev) => {
        const charges = firstPriceImpression.settle(ev);
        expect(charges.map((c) => c.ad_id)).toEqual(ev.exposures.map((e) => e.id));
        expect(charges.every((c) => c.event === 'impression')).toBe(true);
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('GSP: slots go to the top k by bid x quality, and a winner pays the least bid that keeps its rank', () => {
    const ads: BiddedAd[] = [
      { id: 'Ad-0001', title: 'a', bid: 10 },
      { id: 'Ad-0002', title: 'b', bid: 50 },
      { id: 'Ad-0003', title: 'c', bid: 40 },
    ];
    const q: Record<string, number> = { 'Ad-0001': 0.9, 'Ad-0002': 0.2, 'Ad-0003': 0.5 };
    const slots = gspAllocate(ads, (a) => q[a.id]!, 2);
    // Scores: Ad-0003 20, Ad-0001 9, Ad-0002 10 -> Ad-0003 first, Ad-0002 second.
    expect(slots.map((s) => s.id)).toEqual(['Ad-0003', 'Ad-0002']);
    expect(slots[0]!.price).toBeCloseTo(10 / 0.5); // next score / own quality
    expect(slots[1]!.price).toBeCloseTo(9 / 0.2 > 50 ? 50 : 9 / 0.2);
    const ev: SettlementEvent = {
      queryId: 'Q-1',
      sample: 0,
      ads,
      exposures: [{ id: 'Ad-0003', title: 'c', start: 0, end: 1 }, { id: 'Ad-0001', title: 'a', start: 2, end: 3 }],
      clicked: ['Ad-0003', 'Ad-0001'],
      slots,
    };
    // Ad-0001 is exposed and clicked but won no slot: it cannot be charged.
    expect(gsp.settle(ev).map((c) => [c.ad_id, c.amount])).toEqual([['Ad-0003', 20]]);
  });

  it('expected payment: first price per click is b * itctr', () => {
    expect(firstPriceClick.expectedPayment({ bid: 40, itctr: 0.25, exposure: 0.5 })).toBe(10);
    expect(firstPriceImpression.expectedPayment({ bid: 40, itctr: 0.25, exposure: 0.5 })).toBe(20);
    expect(gsp.expectedPayment({ bid: 40, itctr: 0.25, exposure: 0.5, price: 12 })).toBe(3);
  });

  it('the ledger refuses charges that break the invariants', () => {
    const exposures: Exposure[] = [{ id: 'Ad-0001', title: 't', start: 0, end: 1 }];
    const base = { query_id: 'Q-1', sample: 0, ad_id: 'Ad-0001', bid: 10, event: 'click' as const, amount: 10 };
    const ledger = new Ledger();
    expect(() => ledger.record({ ...base, ad_id: 'Ad-0002' }, exposures)).toThrow(LedgerInvariantError);
    expect(() => ledger.record({ ...base, amount: 10.5 }, exposures)).toThrow(/exceeds the bid/);
    expect(() => ledger.record({ ...base, amount: -1 }, exposures)).toThrow(LedgerInvariantError);
    expect(() => ledger.record({ ...base, amount: Number.NaN }, exposures)).toThrow(LedgerInvariantError);
    ledger.record(base, exposures);
    ledger.record({ ...base, query_id: 'Q-2', amount: 4 }, exposures);
    expect(ledger.revenue).toBe(14);
    expect(ledger.revenueByQuery()).toEqual(new Map([['Q-1', 10], ['Q-2', 4]]));
    expect(ledger.toJsonl().trim().split('\n')).toHaveLength(2);
  });

  it('a payment rule that overcharges is caught by the ledger (the invariant check has teeth)', () => {
    const greedy: PaymentRule = {
      name: 'first-price-click',
      settle: (ev) => ev.clicked.map((id) => ({ query_id: ev.queryId, sample: 0, ad_id: id, bid: 1, event: 'click', amount: 2 })),
      expectedPayment: () => 0,
    };
    const ev: SettlementEvent = {
      queryId: 'Q-1',
      sample: 0,
      ads: [{ id: 'Ad-0001', title: 't', bid: 1 }],
      exposures: [{ id: 'Ad-0001', title: 't', start: 0, end: 1 }],
      clicked: ['Ad-0001'],
    };
    expect(() => new Ledger().settle(greedy, ev)).toThrow(LedgerInvariantError);
    expect(() => new Ledger().settle(greedy, { ...ev, exposures: [], clicked: ['Ad-0001'] })).toThrow(/not a valid exposure/);
  });
});
