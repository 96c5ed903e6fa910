// `npm run test:soak`: the long soak (SOAK_SECONDS, default 600; SOAK_RATE journeys per second,
// default 4; SOAK_SAMPLE_SECONDS between memory samples, default 30), on PostgreSQL when DATABASE_URL
// is set (in a schema of its own) and with Redis when REDIS_URL is set, else on the embedded PGlite
// with in-memory state. Prints the numbers and the memory samples, and fails on any error or on
// memory growth after warm-up over the bounds (soak-run.ts, memoryFailures; docs/reliability.md).
import { type MemoryBounds, memoryFailures, runSoak } from '../test/faults/soak-run.ts';

/**
 * At ~16 requests a second, 1 MiB/min is a leak of about 1 KiB per request; the slope is judged only
 * over 5 minutes or more after warm-up, where the heap's moves without a leak (~10 MiB) do not
 * dominate it.
 */
const BOUNDS: MemoryBounds = {
  heapGrowthMiB: 16,
  heapSlopeMiBPerMin: 1,
  slopeWindowMinutes: 5,
  rssLessWasmGrowthMiB: 64,
};

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const rate = Number(process.env.SOAK_RATE ?? 4);
const sampleSeconds = Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
const report = await runSoak({
  seconds,
  rate,
  warmUpShare: 0.2,
  sampleSeconds,
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
});
const { samples, ...summary } = report;
console.log(JSON.stringify(summary, null, 2));
console.table(samples);
const failures = [
  ...(report.errors.length > 0 ? [`${report.errors.length} errors, first: ${report.errors[0]}`] : []),
  ...memoryFailures(report, BOUNDS),
];
console.log(failures.length === 0 ? 'soak passed' : `soak failed: ${failures.join('; ')}`);
process.exitCode = failures.length === 0 ? 0 : 1;
