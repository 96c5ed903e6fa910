// A short soak in every test run (issue 9, load): about 25 seconds of mixed journeys at a steady
// rate against a real server process, with no error and memory flat after warm-up: on PostgreSQL
// and Redis when DATABASE_URL and REDIS_URL are set (CI's second run), else on the embedded PGlite.
// The long form is `npm run test:soak`; its results are in docs/reliability.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryFailures, runSoak } from './soak-run.ts';

test('25 s of mixed traffic at a steady rate: zero errors, memory flat, latency reported', async () => {
  const report = await runSoak({
    seconds: 25,
    rate: 4,
    warmUpShare: 0.4,
    sampleSeconds: 5,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  });
  console.log(JSON.stringify(report));
  assert.deepEqual(report.errors, []);
  assert.ok(report.journeys.signup > 0 && report.journeys.signin > 0, JSON.stringify(report.journeys));
  // The memory was read from inside the server after a collection, and the embedded database's share apart.
  assert.ok(report.samples.length >= 5, `${report.samples.length} memory samples`);
  assert.ok(report.heap.warmMiB > 0, JSON.stringify(report.heap));
  if (!process.env.DATABASE_URL) assert.ok(report.wasm.endMiB > 0, 'PGlite runs in WebAssembly memory');
  // 15 s after warm-up are too short for a slope; the growth bounds catch a gross leak.
  assert.deepEqual(memoryFailures(report, { heapGrowthMiB: 16, rssLessWasmGrowthMiB: 64 }), []);
});
