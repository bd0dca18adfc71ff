// One IRPO run in a worker thread (training/parallel.ts). Plain JavaScript so it can start tsx's
// loader before importing the TypeScript sources, whatever loader the parent thread runs under;
// in the published package (dist/training/) it imports the compiled irpo.js beside it.
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const compiled = new URL('./irpo.js', import.meta.url);
let trainIrpo;
if (existsSync(compiled)) {
  ({ trainIrpo } = await import(compiled.href));
} else {
  (await import('tsx/esm/api')).register();
  ({ trainIrpo } = await import('./irpo.ts'));
}
const { out, config, seed, resume, versions } = workerData;
const metrics = await trainIrpo({
  out,
  config,
  seed,
  resume,
  versions,
  onPhase: (epoch, phase) => parentPort.postMessage({ type: 'phase', epoch, phase }),
});
parentPort.postMessage({ type: 'done', metrics });
