/**
 * One process-wide "stop now" signal for work in flight. When a run stops (a fatal error, exit 2),
 * `abortInFlight` aborts every endpoint request and backoff sleep at once, so the process exits
 * right after its message instead of lingering on retries nobody will read. A fresh signal is
 * installed afterwards, so a later run in the same process (the tests' in-process CLI) starts clean.
 */
import { setMaxListeners } from 'node:events';

/** Every request and sleep in flight listens to the signal: no listener limit, so no warning. */
function fresh(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

let controller = fresh();

/** The signal that requests and sleeps started now should listen to. */
export function inFlightSignal(): AbortSignal {
  return controller.signal;
}

export function abortInFlight(reason = 'the run stopped'): void {
  const old = controller;
  controller = fresh();
  old.abort(new Error(reason));
}

/** Sleep that ends early (rejecting) when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal = inFlightSignal()): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
