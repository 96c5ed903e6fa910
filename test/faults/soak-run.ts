// The soak (issue 9, load): mixed journeys at a steady rate against a real `twostep serve` on
// loopback, on the embedded PGlite or, given a PostgreSQL URL (and a Redis URL), on those servers.
// Passing means zero errors (every answer the one the journey expects), memory flat after warm-up
// and latency reported. Memory is read two ways: the server's RSS every second from /proc, and every
// `sampleSeconds` from inside the server (test/helpers/memory-probe.ts) after a full garbage
// collection: the JS heap in use, external and array-buffer memory, and the WebAssembly memory that
// is PGlite's Postgres. The CI test (soak.test.ts) runs it for ~25 s; `npm run test:soak` for
// SOAK_SECONDS (default 600).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { Load, percentile } from '../helpers/http-load.ts';
import type { MemorySample } from '../helpers/memory-probe.ts';
import { LOAD_SETTINGS, startServer, withSearchPath } from '../helpers/server-process.ts';

export interface SoakOptions {
  seconds: number;
  /** Journeys started per second. */
  rate: number;
  /** Share of the run before the memory baseline is taken: caches, JIT and the database warm up. */
  warmUpShare: number;
  /** Seconds between samples from inside the server; each forces a full garbage collection there. */
  sampleSeconds: number;
  /** A PostgreSQL server URL: the run gets its own schema there, dropped at the end. Unset: PGlite. */
  databaseUrl?: string;
  /** A Redis URL for the budgets and rate limits. Unset: the server keeps them in memory. */
  redisUrl?: string;
}

/** One figure in MiB at the first sample, after warm-up, at the end; the slope after warm-up per minute. */
export interface Trend {
  startMiB: number;
  warmMiB: number;
  endMiB: number;
  /** Least-squares slope over the samples from the end of warm-up on, MiB per minute. */
  slopeMiBPerMin: number;
}

export interface MemoryPoint {
  atS: number;
  rssMiB: number;
  rssAnonMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  wasmMiB: number;
  gcMs: number;
}

export interface SoakReport {
  backend: string;
  seconds: number;
  /** Seconds of load before the memory baseline (`warmMiB`). */
  warmUpSeconds: number;
  journeys: Record<string, number>;
  requests: number;
  errors: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server RSS, sampled every second from /proc; `peakMiB` is the highest after warm-up. */
  rss: Trend & { peakMiB: number };
  /** JS heap in use after a full garbage collection. */
  heap: Trend;
  /** Memory outside the JS heap that V8 knows of (buffers, array buffers, WebAssembly memory), after the collection. */
  external: Trend;
  /** WebAssembly memory: PGlite's Postgres (0 on PostgreSQL). */
  wasm: Trend;
  /** RSS less the WebAssembly memory, from the same samples: the Node process apart from the embedded database. */
  rssLessWasm: Trend;
  samples: MemoryPoint[];
}

const MiB = 1024 * 1024;

interface Backend {
  name: string;
  env: Record<string, string>;
  cleanUp(): Promise<void>;
}

async function prepareBackend(options: SoakOptions): Promise<Backend> {
  const state = options.redisUrl ? 'Redis' : 'in-memory state';
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-soak-'));
  const redis: Record<string, string> = options.redisUrl ? { REDIS_URL: options.redisUrl } : {};
  if (!options.databaseUrl) {
    return {
      name: `PGlite + ${state}`,
      env: { DATA_DIR: dataDir, ...redis },
      cleanUp: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const url = options.databaseUrl;
  const schema = `soak_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const db = await openDatabase({ databaseUrl: url, schema, poolSize: 1 });
  await migrateToLatest(db, { schema });
  await db.destroy();
  return {
    name: `PostgreSQL + ${state}`,
    // The generated development files still go to DATA_DIR, which the run owns and removes.
    env: { DATA_DIR: dataDir, DATABASE_URL: withSearchPath(url, schema), ...redis },
    async cleanUp() {
      rmSync(dataDir, { recursive: true, force: true });
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  const spread = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  if (spread === 0) return 0;
  return points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0) / spread;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

function trend<T extends { at: number }>(samples: T[], warmUpEnds: number, bytes: (sample: T) => number): Trend {
  const warm = samples.filter((s) => s.at >= warmUpEnds);
  const first = samples[0];
  const last = samples.at(-1);
  const warmFirst = warm[0] ?? last;
  return {
    startMiB: first ? round1(bytes(first) / MiB) : 0,
    warmMiB: warmFirst ? round1(bytes(warmFirst) / MiB) : 0,
    endMiB: last ? round1(bytes(last) / MiB) : 0,
    slopeMiBPerMin: round1(slope(warm.map((s) => ({ x: s.at / 60_000, y: bytes(s) / MiB })))),
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const backend = await prepareBackend(options);
  const rssSamples: { at: number; rss: number }[] = [];
  const memorySamples: (MemorySample & { at: number })[] = [];
  let started = Date.now();
  let warmUpEnds = started;
  const load = new Load('http://127.0.0.1');
  try {
    const server = await startServer({ ...LOAD_SETTINGS, ...backend.env }, { memoryProbe: true });
    try {
      load.baseUrl = server.baseUrl;
      const inFlight = new Set<Promise<void>>();
      started = Date.now();
      warmUpEnds = started + options.seconds * 1000 * options.warmUpShare;
      let sampling: Promise<void> | undefined;
      // A sample that fails (the server stopped answering) ends the run, through the clean-up below.
      let samplingFailed: unknown;
      const takeSample = (): Promise<void> =>
        server.memory().then((memory) => {
          memorySamples.push({ ...memory, at: Date.now() - started });
        });
      // The server as it booted, before any load.
      await takeSample();
      rssSamples.push({ at: 0, rss: server.rssBytes() });
      // A steady rate, not as-fast-as-possible: each tick starts the journeys due by now.
      let launched = 0;
      while (samplingFailed === undefined && Date.now() - started < options.seconds * 1000) {
        const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
        for (; launched < due; launched += 1) {
          const journey = load.step().catch(() => {});
          inFlight.add(journey);
          void journey.finally(() => inFlight.delete(journey));
        }
        const now = Date.now() - started;
        if (now - (rssSamples.at(-1)?.at ?? 0) >= 1000) rssSamples.push({ at: now, rss: server.rssBytes() });
        const lastSample = memorySamples.at(-1)?.at ?? 0;
        if (!sampling && now - lastSample >= options.sampleSeconds * 1000)
          sampling = takeSample()
            .catch((error: unknown) => {
              samplingFailed = error;
            })
            .finally(() => {
              sampling = undefined;
            });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await Promise.all(inFlight);
      await sampling;
      if (samplingFailed !== undefined) throw samplingFailed;
      rssSamples.push({ at: Date.now() - started, rss: server.rssBytes() });
      await takeSample();
    } finally {
      await server.stop();
    }
  } finally {
    await backend.cleanUp();
  }
  const warmAt = warmUpEnds - started;
  const latencies = load.stats.latencies;
  const rssWarm = rssSamples.filter((s) => s.at >= warmAt);
  return {
    backend: backend.name,
    seconds: options.seconds,
    warmUpSeconds: Math.round(warmAt / 1000),
    journeys: { ...load.stats.operations },
    requests: latencies.length,
    errors: load.stats.errors,
    p50Ms: round1(percentile(latencies, 50)),
    p99Ms: round1(percentile(latencies, 99)),
    maxMs: Math.round(Math.max(...latencies)),
    rss: {
      ...trend(rssSamples, warmAt, (s) => s.rss),
      peakMiB: round1(Math.max(...rssWarm.map((s) => s.rss)) / MiB),
    },
    heap: trend(memorySamples, warmAt, (s) => s.heapUsed),
    external: trend(memorySamples, warmAt, (s) => s.external),
    wasm: trend(memorySamples, warmAt, (s) => s.wasm),
    rssLessWasm: trend(memorySamples, warmAt, (s) => s.rss - s.wasm),
    samples: memorySamples.map((s) => ({
      atS: Math.round(s.at / 1000),
      rssMiB: round1(s.rss / MiB),
      rssAnonMiB: round1(s.rssAnon / MiB),
      heapUsedMiB: round1(s.heapUsed / MiB),
      heapTotalMiB: round1(s.heapTotal / MiB),
      externalMiB: round1(s.external / MiB),
      arrayBuffersMiB: round1(s.arrayBuffers / MiB),
      wasmMiB: round1(s.wasm / MiB),
      gcMs: s.gcMs,
    })),
  };
}

export interface MemoryBounds {
  /** Growth of the JS heap in use after a full collection, from the end of warm-up to the end, in MiB. */
  heapGrowthMiB: number;
  /** Bound on the heap's slope after warm-up, judged only when that window is at least `slopeWindowMinutes` long. */
  heapSlopeMiBPerMin?: number;
  slopeWindowMinutes?: number;
  /** Growth of RSS less the WebAssembly memory (the Node process apart from PGlite's Postgres), in MiB. */
  rssLessWasmGrowthMiB: number;
}

/**
 * What breaks the memory bounds, in a sentence each; empty when memory is flat. The heap after a full
 * collection is what a leak in our code grows. RSS is judged less the WebAssembly memory: that is
 * PGlite's Postgres (shared buffers, caches), which grows with its working set and can never shrink,
 * so it is reported apart, not counted as a leak of the Node process.
 */
export function memoryFailures(report: SoakReport, bounds: MemoryBounds): string[] {
  const failures: string[] = [];
  const heapGrowth = report.heap.endMiB - report.heap.warmMiB;
  if (heapGrowth >= bounds.heapGrowthMiB)
    failures.push(`heap after GC grew ${round1(heapGrowth)} MiB after warm-up (bound ${bounds.heapGrowthMiB})`);
  const window = (report.seconds - report.warmUpSeconds) / 60;
  if (
    bounds.heapSlopeMiBPerMin !== undefined &&
    window >= (bounds.slopeWindowMinutes ?? 0) &&
    report.heap.slopeMiBPerMin >= bounds.heapSlopeMiBPerMin
  )
    failures.push(
      `heap after GC grew ${report.heap.slopeMiBPerMin} MiB/min after warm-up (bound ${bounds.heapSlopeMiBPerMin})`,
    );
  const rssGrowth = report.rssLessWasm.endMiB - report.rssLessWasm.warmMiB;
  if (rssGrowth >= bounds.rssLessWasmGrowthMiB)
    failures.push(
      `RSS less WebAssembly memory grew ${round1(rssGrowth)} MiB after warm-up (bound ${bounds.rssLessWasmGrowthMiB})`,
    );
  return failures;
}
