// `npm run test:soak`: the long soak (SOAK_SECONDS, default 600; SOAK_RATE journeys per second,
// default 4). Prints the numbers and fails on any error or on RSS growth after warm-up over the bound.
import { runSoak } from '../test/faults/soak-run.ts';

const GROWTH_BOUND_MIB = 64;
const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const rate = Number(process.env.SOAK_RATE ?? 4);
const report = await runSoak({ seconds, rate, warmUpShare: 0.2 });
console.log(JSON.stringify(report, null, 2));
const growth = report.rssEndMiB - report.rssWarmMiB;
const failures = [
  ...(report.errors.length > 0 ? [`${report.errors.length} errors, first: ${report.errors[0]}`] : []),
  ...(growth >= GROWTH_BOUND_MIB ? [`RSS grew ${growth} MiB after warm-up (bound ${GROWTH_BOUND_MIB})`] : []),
];
console.log(failures.length === 0 ? 'soak passed' : `soak failed: ${failures.join('; ')}`);
process.exitCode = failures.length === 0 ? 0 : 1;
