// `npm run test:crash`: the long crash run, on PGlite and (when it answers) PostgreSQL. CRASH_KILLS
// SIGKILLs per backend (default 5) after CRASH_LOAD_SECONDS of load each (default 10). Prints the
// numbers and fails if any invariant is broken.

import { runCrash } from '../test/faults/crash-run.ts';
import { findPostgres } from '../test/helpers/server-process.ts';

const kills = Number(process.env.CRASH_KILLS ?? 5);
const loadMsPerKill = Number(process.env.CRASH_LOAD_SECONDS ?? 10) * 1000;
const postgres = await findPostgres();
const backends = postgres ? (['pglite', 'postgresql'] as const) : (['pglite'] as const);
let broken = 0;
for (const backend of backends) {
  const started = Date.now();
  const report = await runCrash({
    backend,
    ...(postgres ? { databaseUrl: postgres } : {}),
    kills,
    loadMsPerKill,
    concurrency: 6,
  });
  console.log(JSON.stringify({ ...report, wallSeconds: Math.round((Date.now() - started) / 1000) }, null, 2));
  broken += report.violations.length;
}
if (!postgres) console.log('PostgreSQL did not answer: PGlite only');
console.log(broken === 0 ? 'crash run passed: every invariant held' : `crash run failed: ${broken} violations`);
process.exitCode = broken === 0 ? 0 : 1;
