// SIGKILL in the middle of mixed load loses nothing and breaks no rule (issue 9, faults): after a
// restart on the same data, every acknowledged account signs in, no accepted code works again, and
// the database holds no two-step account without its recovery key and trusted factor and no change
// without its audit event. A few seconds of load per backend here; `npm run test:crash` runs longer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findPostgres } from '../helpers/server-process.ts';
import { runCrash } from './crash-run.ts';

const postgres = await findPostgres();
const SHORT = { kills: 1, loadMsPerKill: 3000, concurrency: 4 };

describe('a server killed with SIGKILL under load', () => {
  test('on the embedded PGlite, restarts on its data with every invariant holding', async () => {
    const report = await runCrash({ backend: 'pglite', ...SHORT });
    assert.deepEqual(report.violations, []);
    assert.ok(report.confirmedAccounts > 0 && report.codesReplayed > 0, JSON.stringify(report));
    assert.ok(report.cutOff > 0, 'the kill cut journeys off in the middle');
  });

  test('on PostgreSQL, restarts on its data with every invariant holding', {
    skip: postgres ? false : 'no PostgreSQL server answers',
  }, async () => {
    const report = await runCrash({ backend: 'postgresql', databaseUrl: postgres as string, ...SHORT });
    assert.deepEqual(report.violations, []);
    assert.ok(report.confirmedAccounts > 0 && report.codesReplayed > 0, JSON.stringify(report));
    assert.ok(report.cutOff > 0, 'the kill cut journeys off in the middle');
  });
});
