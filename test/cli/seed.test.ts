// `twostep seed`: the operator's command fills a database, and the accounts it makes behave like real
// ones: they sign in with their known password, and those with two-step verification need a code
// from their authenticator app, whose secret a load generator can compute.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { SEED_PASSWORDS, seedAccounts, seededAccount } from '../../src/cli/seed-accounts.ts';
import { totpCode } from '../../src/core/totp.ts';
import { openDatabase } from '../../src/store/database.ts';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';
import { bearer } from '../helpers/journeys.ts';
import { answer, passwordStep } from '../helpers/two-step.ts';

const SHARE = 0.5;

describe('twostep seed (the command)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-seed-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, TWOSTEP_SECRET: TEST_SECRET, ARGON2_MEMORY_KIB: '19456' };

  test('--help names the emails, the passwords and what goes into the audit log', async () => {
    const help = await runCli(['seed', '--help'], '', env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--accounts <n>/);
    assert.match(help.stdout, /seed-<n>@bench\.example/);
    assert.match(help.stdout, new RegExp(SEED_PASSWORDS[0]));
    assert.match(help.stdout, /one account\.created event per account/);
  });

  test('--accounts 20 creates 20 verified accounts, half of them with two-step verification', async () => {
    const run = await runCli(['seed', '--accounts', '20', '--two-step-share', String(SHARE), '--batch', '7'], '', env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /seeded 20 accounts \(seed-0@bench\.example … seed-19@bench\.example\)/);
    const db = await openDatabase({ dataDir });
    try {
      const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
        Number((await query.execute(db)).rows[0]?.n);
      assert.equal(await count(sql`select count(*) as n from accounts where email_verified_at is not null`), 20);
      assert.equal(
        await count(sql`select count(*) as n from accounts where two_step_enabled_at is not null
        and recovery_key_hash is not null`),
        10,
      );
      assert.equal(await count(sql`select count(*) as n from phones where verified_at is not null`), 10);
      assert.equal(await count(sql`select count(*) as n from authenticators where confirmed_at is not null`), 10);
      assert.equal(await count(sql`select count(*) as n from devices where trusted_at is not null`), 5);
      assert.equal(await count(sql`select count(*) as n from audit_events where event = 'account.created'`), 20);
      assert.equal(await count(sql`select count(distinct password_hash) as n from accounts`), SEED_PASSWORDS.length);
    } finally {
      await db.destroy();
    }
  });

  test('a second seed with the same numbers is refused; one that continues with --from is not', async () => {
    const again = await runCli(['seed', '--accounts', '5'], '', env);
    assert.notEqual(again.code, 0);
    const more = await runCli(['seed', '--accounts', '5', '--from', '20'], '', env);
    assert.equal(more.code, 0, more.stderr);
    assert.match(more.stdout, /seeded 5 accounts \(seed-20@bench\.example … seed-24@bench\.example\)/);
  });
});

describe('seeded accounts sign in like real ones', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await seedAccounts(t.database.db, {
      serverSecret: TEST_SECRET,
      cost: { memoryKib: t.config.policy.argon2MemoryKib, iterations: t.config.policy.argon2Iterations },
      from: 0,
      count: 6,
      twoStepShare: SHARE,
      batchSize: 4,
      now: t.clock.now(),
      onProgress: () => {},
    });
  });
  after(() => t.close());

  test('an account without two-step verification signs in with its password alone', async () => {
    const plain = seededAccount(TEST_SECRET, 0, SHARE);
    assert.equal(plain.twoStep, false);
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: plain.email, password: plain.password },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().status, 'signed_in');
  });

  test('a two-step account needs its authenticator code, and its status shows every factor', async () => {
    const seeded = seededAccount(TEST_SECRET, 1, SHARE);
    assert.equal(seeded.twoStep, true);
    assert.equal(seeded.trustedDevice, true);
    const challenge = await passwordStep(t, seeded.email, seeded.password);
    assert.deepEqual(challenge.channels.map((c) => c.type).sort(), ['device', 'sms', 'totp'].sort());
    const wrong = await answer(
      t,
      challenge.id,
      totpCode(seededAccount(TEST_SECRET, 3, SHARE).totpSecret as string, t.clock.now()),
    );
    assert.equal(wrong.statusCode, 400, wrong.body);
    const right = await answer(t, challenge.id, totpCode(seeded.totpSecret as string, t.clock.now()));
    assert.equal(right.statusCode, 200, right.body);
    const token = right.json().token as string;
    const status = await t.request({ method: 'GET', url: '/api/v1/two-step', headers: bearer(token) });
    assert.equal(status.statusCode, 200, status.body);
    const body = status.json();
    assert.equal(body.enabled, true);
    assert.equal(body.recoveryKeyConfirmed, true);
    assert.equal(body.verifiedPhones, 1);
    assert.equal(body.authenticators, 1);
    assert.equal(body.trustedDevices, 1);
    assert.equal(body.waitingUntil, null);
  });

  test('a wrong password is refused as for any account', async () => {
    const seeded = seededAccount(TEST_SECRET, 2, SHARE);
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: seeded.email, password: SEED_PASSWORDS[(2 + 1) % SEED_PASSWORDS.length] },
    });
    assert.equal(response.statusCode, 401, response.body);
  });
});
