/**
 * The embedded world's shared parts: one Ad-LLM policy (its plan tables are cached, so every rule
 * shares them) and one simulated user per world seed (the seed draws the user's latent tastes).
 */
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { ParametricUser } from '../simulation/user-model.ts';

const perSeed = new Map<number, { policy: EmbeddedPolicy; user: ParametricUser }>();
let sharedPolicy: EmbeddedPolicy | undefined;

export function embeddedParts(worldSeed = 0): { policy: EmbeddedPolicy; user: ParametricUser } {
  let parts = perSeed.get(worldSeed);
  if (!parts) {
    parts = { policy: (sharedPolicy ??= new EmbeddedPolicy()), user: new ParametricUser({ worldSeed }) };
    perSeed.set(worldSeed, parts);
  }
  return parts;
}
