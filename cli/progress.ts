/** Progress bars on stderr (only on a terminal, so logs and pipes stay clean). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const t0 = Date.now();
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done, { rate: '0' });
        started = true;
      }
      const secs = (Date.now() - t0) / 1000;
      bar.setTotal(total);
      bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0' });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
