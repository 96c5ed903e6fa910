// The soak (issue 9, load): mixed journeys at a steady rate against a real `twostep serve` on
// loopback. Passing means zero errors (every answer the one the journey expects), memory flat (the
// server's RSS after warm-up grows by less than a stated bound) and latency reported. The CI test
// (soak.test.ts) runs it for ~25 s; `npm run test:soak` for SOAK_SECONDS (default 600).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Load, percentile } from '../helpers/http-load.ts';
import { LOAD_SETTINGS, startServer } from '../helpers/server-process.ts';

export interface SoakOptions {
  seconds: number;
  /** Journeys started per second. */
  rate: number;
  /** Share of the run before the memory baseline is taken: caches, JIT and the database warm up. */
  warmUpShare: number;
}

export interface SoakReport {
  seconds: number;
  journeys: Record<string, number>;
  requests: number;
  errors: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server RSS in MiB: after warm-up, at the end, and the highest sample after warm-up. */
  rssWarmMiB: number;
  rssEndMiB: number;
  rssPeakMiB: number;
}

const MiB = 1024 * 1024;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-soak-'));
  const server = await startServer({ ...LOAD_SETTINGS, DATA_DIR: dataDir });
  const load = new Load(server.baseUrl);
  const inFlight = new Set<Promise<void>>();
  const samples: { at: number; rss: number }[] = [];
  const started = Date.now();
  const warmUpEnds = started + options.seconds * 1000 * options.warmUpShare;
  try {
    // A steady rate, not as-fast-as-possible: each tick starts the journeys due by now.
    let launched = 0;
    while (Date.now() - started < options.seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
      for (; launched < due; launched += 1) {
        const journey = load.step().catch(() => {});
        inFlight.add(journey);
        void journey.finally(() => inFlight.delete(journey));
      }
      if (samples.length === 0 || Date.now() - (samples.at(-1)?.at ?? 0) >= 1000)
        samples.push({ at: Date.now(), rss: server.rssBytes() });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(inFlight);
    samples.push({ at: Date.now(), rss: server.rssBytes() });
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const warm = samples.filter((s) => s.at >= warmUpEnds);
  const latencies = load.stats.latencies;
  return {
    seconds: options.seconds,
    journeys: { ...load.stats.operations },
    requests: latencies.length,
    errors: load.stats.errors,
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
    maxMs: Math.round(Math.max(...latencies)),
    rssWarmMiB: Math.round((warm[0]?.rss ?? 0) / MiB),
    rssEndMiB: Math.round((samples.at(-1)?.rss ?? 0) / MiB),
    rssPeakMiB: Math.round(Math.max(...warm.map((s) => s.rss)) / MiB),
  };
}
