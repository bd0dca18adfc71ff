/**
 * Measured click rates of the embedded world's simulated user, for simulation/README.md:
 * `npx tsx benchmarks/click-rates.ts [--queries 600] [--world-seed 0]`.
 *
 * On the first N test queries (bench bids of seed 0), every single-ad answer with well-formed
 * markup the embedded Ad-LLM can write is scored by the user: the click probability of the ad,
 * grouped by how relevant the title is to the question (the user's own similarity, >= 0.35
 * relevant, < 0.1 unrelated) and by whether it is woven into the answer or listed after it. Also:
 * the share of the pretrained model's exposures that are clicked (exact expectation), and how
 * much of the click logit's spread the latent terms (affinity, quality, noise) carry.
 */
import { ResponseParser } from '../mechanism/parser.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';

const arg = (name: string, dflt: number) => {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : dflt;
};
const N = arg('--queries', 600);
const worldSeed = arg('--world-seed', 0);
const world = embeddedWorld(worldSeed);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const policy = new EmbeddedPolicy();
const user = new ParametricUser({ worldSeed });
const cells = new Map<string, { p: number; n: number }>();
const add = (key: string, p: number) => {
  const c = cells.get(key) ?? { p: 0, n: 0 };
  c.p += p;
  c.n++;
  cells.set(key, c);
};
let preClicks = 0;
let preExposures = 0;
const latent: number[] = [];
for (const q of world.queries.filter((x) => x.split === 'test').slice(0, N)) {
  const input = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'bench', epoch: 0, candidates: 10 });
  const t = policy.table(input);
  const parser = new ResponseParser(input.ads);
  const lp = policy.logProbs(input, new Float64Array(7), t);
  for (let j = 0; j < t.plans.length; j++) {
    const plan = t.plans[j]!;
    const response = policy.render(input, plan, t);
    const parsed = parser.parse(response);
    const ctx = { input, response, parsed };
    const ctr = await user.clickProbabilities(ctx);
    const prob = Math.exp(lp[j]!);
    for (const e of parsed.exposures) {
      preClicks += prob * (ctr[e.id] ?? 0);
      preExposures += prob;
    }
    if (plan.ads.length === 1 && plan.ok[0]) {
      const { ads } = await user.assess(ctx);
      const a = ads[0]!;
      const rel = Math.max(a.relQuery, a.relProfile);
      const band = rel >= 0.35 ? 'relevant' : rel < 0.1 ? 'unrelated' : 'in between';
      add(`${band} ${plan.woven ? 'woven' : 'listed'}`, ctr[a.id] ?? 0);
      latent.push(user.latentLogit(input.profile.id, input.query, a.id));
    }
  }
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
for (const [k, c] of [...cells].sort()) console.log(`${k.padEnd(20)} ${pct(c.p / c.n)}  (${c.n} answers)`);
console.log(`pretrained: ${pct(preClicks / preExposures)} of exposures clicked (exact expectation over its answers)`);
const m = latent.reduce((s, x) => s + x, 0) / latent.length;
console.log(`latent logit term: mean ${m.toFixed(2)}, sd ${Math.sqrt(latent.reduce((s, x) => s + (x - m) ** 2, 0) / latent.length).toFixed(2)}`);
console.log(`${N} test queries, world seed ${worldSeed}`);
