// `twostep secret reseal`, step 2 of rotating TWOSTEP_SECRET, through the real CLI as an operator runs
// it: on a database whose sealed values (seeded authenticator apps, a staff authenticator, a client
// secret, signing keys) were all made by the same commands under the old secret, it reseals each one
// under the new secret in batches, prints counts and never a secret, does nothing the second time,
// and names by id (leaving alone) what no configured secret opens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seededAccount } from '../../src/cli/seed-accounts.ts';
import { keyring } from '../../src/core/secrets.ts';
import { openDatabase } from '../../src/store/database.ts';
import { createStore } from '../../src/store/index.ts';
import { SEALED_KINDS } from '../../src/store/sealed-values.ts';
import { TEST_SECRET } from '../helpers/app.ts';
import { type CliResult, runCli } from '../helpers/cli.ts';

const OLD = TEST_SECRET;
const NEW = 'the-new-secret-after-rotation-0123456789abcdef';
const SHARE = 0.5;

describe('twostep secret reseal', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-reseal-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { DATA_DIR: dataDir, ARGON2_MEMORY_KIB: '19456' };
  const before_ = { ...base, TWOSTEP_SECRET: OLD };
  const rotated = { ...base, TWOSTEP_SECRET: NEW, TWOSTEP_SECRET_PREVIOUS: OLD };
  /** What the commands printed that must never come back out of `reseal`. */
  const secrets: string[] = [OLD, NEW];

  async function ok(args: string[], env: Record<string, string>): Promise<CliResult> {
    const run = await runCli(args, '', env);
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    return run;
  }

  /** The sealed values of the database, by kind. */
  async function sealedValues(): Promise<Record<string, { id: string; sealed: string }[]>> {
    const db = await openDatabase({ dataDir });
    try {
      const store = createStore(db);
      const out: Record<string, { id: string; sealed: string }[]> = {};
      for (const kind of SEALED_KINDS) out[kind] = await store.sealedValues.page(kind, undefined, 1000);
      return out;
    } finally {
      await db.destroy();
    }
  }

  before(async () => {
    // Under the old secret: 4 accounts, 2 with an authenticator app; a staff member with one; a
    // confidential service; the first signing key and a rotated one.
    await ok(['seed', '--accounts', '4', '--two-step-share', String(SHARE)], before_);
    const admin = await ok(['admin', 'create', '--email', 'ops@example.com', '--json'], before_);
    const member = JSON.parse(admin.stdout) as { password: string; totpSecret: string };
    secrets.push(member.password, member.totpSecret);
    const added = await ok(
      ['services', 'add', '--name', 'Messages', '--redirect-uri', 'https://messages.example/cb', '--json'],
      before_,
    );
    secrets.push((JSON.parse(added.stdout) as { clientSecret: string }).clientSecret);
    await ok(['oidc', 'rotate-keys'], before_);
  });

  test('reseals everything under the new secret, in batches, printing counts and no secret', async () => {
    const run = await ok(['secret', 'reseal', '--batch', '1'], rotated);
    assert.deepEqual(run.stdout.trim().split('\n'), [
      'authenticator: 2 resealed, 0 already current, 0 unreadable',
      'staff-totp: 1 resealed, 0 already current, 0 unreadable',
      'oidc-client-secret: 1 resealed, 0 already current, 0 unreadable',
      'oidc-signing-key: 2 resealed, 0 already current, 0 unreadable',
      'resealed 6 value(s) under the current TWOSTEP_SECRET; 0 unreadable',
    ]);
    // One progress line per batch of one, on stderr.
    assert.equal(run.stderr.trim().split('\n').length, 6, run.stderr);
    for (const secret of secrets) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret was printed');
    }

    // Every value opens under the new secret alone now, with the same plaintext as before.
    const newOnly = keyring({ secret: NEW });
    const values = await sealedValues();
    const purposes = {
      authenticator: 'account-totp',
      'staff-totp': 'staff-totp',
      'oidc-client-secret': 'oidc-client-secrets',
      'oidc-signing-key': 'oidc-signing-keys',
    };
    for (const [kind, rows] of Object.entries(values)) {
      for (const row of rows) {
        const opened = newOnly.unsealAny(purposes[kind as keyof typeof purposes], row.sealed);
        assert.ok(opened && !opened.stale, `${kind} ${row.id} does not open under the new secret`);
      }
    }
    const appSecrets = (values.authenticator ?? []).map(
      (row) => newOnly.unsealAny('account-totp', row.sealed)?.plaintext,
    );
    const expected = [0, 1, 2, 3].flatMap((n) => seededAccount(OLD, n, SHARE).totpSecret ?? []);
    assert.deepEqual(appSecrets.sort(), expected.sort(), 'the apps keep their secrets');
    assert.equal(newOnly.unsealAny('staff-totp', values['staff-totp']?.[0]?.sealed ?? '')?.plaintext, secrets[3]);
    assert.equal(
      newOnly.unsealAny('oidc-client-secrets', values['oidc-client-secret']?.[0]?.sealed ?? '')?.plaintext,
      secrets[4],
    );
  });

  test('a second run changes nothing, with or without the previous secret', async () => {
    const sealed = await sealedValues();
    for (const env of [rotated, { ...base, TWOSTEP_SECRET: NEW }]) {
      const run = await ok(['secret', 'reseal'], env);
      assert.match(run.stdout, /^authenticator: 0 resealed, 2 already current, 0 unreadable$/m);
      assert.match(run.stdout, /^oidc-signing-key: 0 resealed, 2 already current, 0 unreadable$/m);
      assert.match(run.stdout, /^resealed 0 value\(s\) under the current TWOSTEP_SECRET; 0 unreadable$/m);
    }
    assert.deepEqual(await sealedValues(), sealed);
  });

  test('values no configured secret opens are counted and named by id, and left as they were', async () => {
    const sealed = await sealedValues();
    const run = await ok(['secret', 'reseal'], { ...base, TWOSTEP_SECRET: 'a-third-secret-nobody-used-0123456789abc' });
    const ids = (sealed.authenticator ?? []).map((row) => row.id).join(', ');
    assert.match(
      run.stdout,
      new RegExp(`^authenticator: 0 resealed, 0 already current, 2 unreadable \\(ids: ${ids}\\)$`, 'm'),
    );
    assert.match(run.stdout, /^resealed 0 value\(s\) under the current TWOSTEP_SECRET; 6 unreadable$/m);
    for (const secret of secrets) assert.ok(!run.stdout.includes(secret), 'a secret was printed');
    assert.deepEqual(await sealedValues(), sealed);
  });

  test('each run leaves a secret.resealed event with the counts', async () => {
    const db = await openDatabase({ dataDir });
    try {
      const events = await db
        .selectFrom('audit_events')
        .select(['actor', 'details'])
        .where('event', '=', 'secret.resealed')
        .orderBy('id')
        .execute();
      assert.equal(events.length, 4);
      const [first] = events;
      assert.ok(first);
      assert.equal(first.actor, 'operator:cli');
      assert.deepEqual((first.details as Record<string, unknown>).authenticator, {
        resealed: 2,
        current: 0,
        unreadable: 0,
      });
    } finally {
      await db.destroy();
    }
  });

  test('a previous secret shorter than 32 characters is refused without being printed', async () => {
    const run = await runCli(['secret', 'reseal'], '', { ...rotated, TWOSTEP_SECRET_PREVIOUS: `${OLD},tooshort` });
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, /TWOSTEP_SECRET_PREVIOUS: every secret must be at least 32 characters/);
    assert.ok(!run.stderr.includes('tooshort') && !run.stderr.includes(OLD));
  });

  test('twostep config masks TWOSTEP_SECRET_PREVIOUS', async () => {
    const run = await ok(['config'], rotated);
    assert.match(run.stdout, /^TWOSTEP_SECRET_PREVIOUS\s+\*{8}$/m);
    assert.ok(!run.stdout.includes(OLD) && !run.stdout.includes(NEW));
  });
});
