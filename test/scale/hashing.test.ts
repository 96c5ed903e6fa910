// Hashing never blocks the event loop (issue 10): argon2 runs on libuv's thread pool, so while 50
// sign-ins are hashing, the node still answers /healthz, and /metrics shows the hashes queued.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp(
    { SIGNIN_FREE_FAILURES_PER_IP: '10000', SIGNIN_FREE_FAILURES: '100' },
    { memoryKeyValue: true },
  );
});
after(() => t.close());

/** The gauge as a scraper sees it. */
async function hashesInFlight(): Promise<number> {
  const text = (await t.request({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('twostep_hashes_in_flight '));
  return Number(line?.split(' ')[1]);
}

test('50 concurrent sign-ins hash on the thread pool while /healthz is answered', async () => {
  const account = await createVerifiedAccount(t);
  assert.equal(await hashesInFlight(), 0);
  let finished = 0;
  const signIns = Array.from({ length: 50 }, (_, i) =>
    t
      .request({
        method: 'POST',
        url: '/api/v1/signin',
        payload: { email: account.email, password: i % 2 === 0 ? account.password : `wrong password ${i}` },
      })
      .finally(() => {
        finished += 1;
      }),
  );
  // Sample between turns of the event loop (bounded by the sign-ins finishing, not by time). With a
  // synchronous hash no sample could ever see two hashes outstanding, nor could /healthz run between them.
  const hasher = t.app.services.hasher;
  let most = 0;
  let healthWhileHashing: number | undefined;
  while (finished < 50) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = hasher.inFlight();
    most = Math.max(most, now);
    if (healthWhileHashing === undefined && now >= 2) {
      const health = await t.request({ method: 'GET', url: '/healthz' });
      if (hasher.inFlight() > 0) healthWhileHashing = health.statusCode;
    }
  }
  assert.ok(most >= 2, `several hashes in flight at once, saw at most ${most}`);
  assert.equal(healthWhileHashing, 200, '/healthz answered while hashes were still running');
  const answers = await Promise.all(signIns);
  assert.deepEqual(
    [...new Set(answers.map((a) => a.statusCode))].sort(),
    [200, 401],
    'every sign-in got its own answer',
  );
  assert.equal(await hashesInFlight(), 0);
});
