/**
 * Shared harness for the suite's benchmarks: runs tinybench tasks, keeps medians and spreads, and
 * writes `benchmarks/results/NAME.json` with the machine it ran on. `summarize.ts` turns all
 * results into BENCHMARKS.md. No test asserts a timing; targets are checked here and reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';

export const RESULTS_DIR = new URL('./results/', import.meta.url);

export interface TaskFigure {
  name: string;
  median_ms: number;
  mean_ms: number;
  p99_ms: number;
  ops_per_s: number;
  samples: number;
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResult {
  suite: string;
  date: string;
  machine: { cpu: string; cores: number; memory_gib: number; node: string; platform: string };
  tasks: TaskFigure[];
  targets: Target[];
  notes?: string[];
  /** A paragraph BENCHMARKS.md shows under the section's machine line (what the run is, beside what). */
  intro?: string;
  /** Lines BENCHMARKS.md shows as they are (tables a suite builds itself). */
  markdown?: string[];
  extra?: Record<string, unknown>;
}

export function machine(): BenchResult['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

export async function runTasks(tasks: Record<string, () => unknown>, opts: { time?: number } = {}): Promise<TaskFigure[]> {
  const bench = new Bench({ time: opts.time ?? 1000, warmup: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as { latency: { p50: number; mean: number; p99: number; samplesCount?: number; samples?: number[] }; throughput: { mean: number } };
    return {
      name: t.name,
      median_ms: r.latency.p50,
      mean_ms: r.latency.mean,
      p99_ms: r.latency.p99,
      ops_per_s: r.throughput.mean,
      samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0,
    };
  });
}

export function writeResult(result: Omit<BenchResult, 'date' | 'machine'>): BenchResult {
  const full: BenchResult = { date: new Date().toISOString(), machine: machine(), ...result };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(new URL(`${result.suite}.json`, RESULTS_DIR), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
