// A short soak in every test run (issue 9, load): about 25 seconds of mixed journeys at a steady
// rate against a real server process, with no error and memory flat after warm-up. The long form is
// `npm run test:soak`; its results are in docs/reliability.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from './soak-run.ts';

/** Growth of the server's RSS allowed after warm-up in the short run: far below a leak of every request. */
const GROWTH_BOUND_MIB = 64;

test('25 s of mixed traffic at a steady rate: zero errors, memory flat, latency reported', async () => {
  const report = await runSoak({ seconds: 25, rate: 4, warmUpShare: 0.4 });
  console.log(JSON.stringify(report));
  assert.deepEqual(report.errors, []);
  assert.ok(report.journeys.signup > 0 && report.journeys.signin > 0, JSON.stringify(report.journeys));
  assert.ok(
    report.rssEndMiB - report.rssWarmMiB < GROWTH_BOUND_MIB,
    `RSS grew from ${report.rssWarmMiB} to ${report.rssEndMiB} MiB after warm-up`,
  );
});
