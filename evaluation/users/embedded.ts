/**
 * `embedded:parametric[?encoder=SPEC]` (or just `embedded`): the embedded world's simulated user;
 * with an encoder, the same user judging relevance through that text encoder (semantic similarity,
 * e.g. `onnx:all-minilm-l6-v2`, instead of shared words).
 */
import { UsageError } from '../../lib/errors.ts';
import { didYouMean, splitQuery } from '../../mechanism/spec.ts';
import type { UserKind } from './kind.ts';

export interface ParametricUserSpec {
  kind: 'embedded';
  name: 'parametric';
  encoder?: string;
}

const KEYS = ['encoder'];

export const parametricUser: UserKind<ParametricUserSpec> = {
  kind: 'embedded',
  usage: 'embedded:parametric[?encoder=onnx:all-minilm-l6-v2]',
  bare: true,
  parse({ rest, fail }) {
    const { head, params } = splitQuery(rest);
    if (head !== 'parametric' && rest !== '') fail('expected embedded:parametric');
    for (const key of Object.keys(params)) {
      if (!KEYS.includes(key)) fail(`unknown parameter ${JSON.stringify(key)}${didYouMean(key, KEYS)} (known: ${KEYS.join(', ')})`);
    }
    const encoder = params.encoder;
    if (encoder === undefined) return { kind: 'embedded', name: 'parametric' };
    if (encoder.trim() === '') fail('encoder must name a text encoder, e.g. onnx:all-minilm-l6-v2');
    return { kind: 'embedded', name: 'parametric', encoder };
  },
  format: (s) => (s.encoder === undefined ? 'embedded:parametric' : `embedded:parametric?encoder=${encodeURIComponent(s.encoder)}`),
  async resolve(spec, ctx) {
    if (spec.encoder === undefined) return (await import('../embedded-parts.ts')).embeddedParts(ctx.worldSeed).user;
    const { createEncoder } = await import('../../simulation/onnx-encoder.ts');
    const { ParametricUser } = await import('../../simulation/user-model.ts');
    try {
      return new ParametricUser({ worldSeed: ctx.worldSeed ?? 0 }, await createEncoder(spec.encoder));
    } catch (e) {
      throw new UsageError(`user spec ${JSON.stringify(`embedded:parametric?encoder=${spec.encoder}`)}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    }
  },
};
