/**
 * Rounds for what still fails: an endpoint call that failed after all of its own retries (an
 * `OpenAIBackendError` marked retryable, not aborted) is tried again, whole, after a pause. A seeded
 * call asks the same question again, so a run that needed a round gives what a healthy one gives.
 * Anything else (a refusal, a bad rule, a stopped run) passes through at once.
 */
import { abortableSleep, inFlightSignal } from './abort.ts';

/** An endpoint failure that may pass if asked again later (recognized by shape, from any layer). */
export function transientFailure(e: unknown): boolean {
  const x = e as { name?: string; retryable?: boolean; aborted?: boolean } | null;
  return x?.name === 'OpenAIBackendError' && x.retryable === true && x.aborted !== true;
}

export const DEFAULT_ROUNDS = 3;

/** `fn()`, called up to `rounds` times while it fails transiently, `pauseMs` x round between tries. */
export async function withRounds<T>(fn: () => Promise<T>, rounds = DEFAULT_ROUNDS, pauseMs = 1000): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await fn();
    } catch (e) {
      if (round >= rounds || !transientFailure(e)) throw e;
      try {
        await abortableSleep(pauseMs * round, inFlightSignal());
      } catch {
        throw e;
      }
    }
  }
}
