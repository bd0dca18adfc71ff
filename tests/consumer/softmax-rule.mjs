// A user's allocation rule, as its own module: one ad at most, chosen with probability
// w_i / (1 + sum_j w_j), w_i = exp(bid_i / 25). Raising an ad's bid raises its share smoothly, so it
// is monotone and continuous; it enumerates its responses, so the checks compute itctr exactly.
// `dip` plants a violation: an ad's weight collapses for bids 35..55.
export function softmaxRule(name, { dip = false } = {}) {
  const weight = (bid) => (dip && bid >= 35 && bid <= 55 ? 0.05 : Math.exp(bid / 25));
  const answer = (input) => `Here is a short answer to: ${input.query}`;
  const distribution = (input) => {
    const w = input.ads.map((a) => weight(a.bid));
    const total = 1 + w.reduce((s, x) => s + x, 0);
    return [
      { response: answer(input), prob: 1 / total },
      ...input.ads.map((a, i) => ({ response: `${answer(input)} You may like @${a.title}@[${a.id}].`, prob: w[i] / total })),
    ];
  };
  return {
    name,
    async enumerate(input) {
      return distribution(input);
    },
    async sample(input, n, opts = {}) {
      const dist = distribution(input);
      let s = (opts.seed ?? 1) >>> 0 || 1;
      const out = [];
      for (let k = 0; k < n; k++) {
        s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0; // a small seeded generator
        let u = s / 2 ** 32;
        const pick = dist.find((d) => (u -= d.prob) < 0) ?? dist[dist.length - 1];
        out.push(pick.response);
      }
      return out;
    },
  };
}

export default softmaxRule('softmax (module)');
