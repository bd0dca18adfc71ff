// One IRPO run in a worker thread (training/parallel.ts). Plain JavaScript so it can start tsx's
// loader before importing the TypeScript sources, whatever loader the parent thread runs under.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { trainIrpo } = await import('./irpo.ts');
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
