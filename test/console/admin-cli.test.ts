// `twostep admin create|list` through the real CLI (SPEC §3.15: the first admin is created on the
// server machine). The password and the authenticator key are printed once; the key is stored sealed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { matchTotp, totpCode } from '../../src/core/totp.ts';
import { openTotpSecret } from '../../src/flows/staff/staff-totp.ts';
import { openDatabase } from '../../src/store/database.ts';
import { TEST_SECRET } from '../helpers/app.ts';
import { startCli } from '../helpers/cli.ts';

describe('twostep admin', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'twostep-admin-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = (args: string[]) =>
    startCli(args, { DATA_DIR: dataDir, NODE_ENV: 'development', TWOSTEP_SECRET: TEST_SECRET }).done(30_000);

  test('create prints the password and the authenticator key once; list shows the member; a taken email is refused', async () => {
    const created = await run(['admin', 'create', '--email', 'Ada@Example.com', '--name', 'Ada Admin', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const out = JSON.parse(created.stdout.trim());
    assert.equal(out.email, 'ada@example.com');
    assert.equal(out.role, 'admin');
    assert.match(out.password, /^[A-Za-z0-9_-]{32}$/);
    assert.match(out.totpSecret, /^[A-Z2-7]{32}$/);
    assert.match(out.totpUri, /^otpauth:\/\/totp\/.*secret=/);
    const now = new Date();
    assert.notEqual(matchTotp(out.totpSecret, totpCode(out.totpSecret, now), now), undefined);

    const listed = await run(['admin', 'list']);
    assert.match(listed.stdout, /ada@example\.com {2}admin {2}yes {2}active/);
    const again = await run(['admin', 'create', '--email', 'ada@example.com']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /EMAIL_TAKEN/);
    const badRole = await run(['admin', 'create', '--email', 'bob@example.com', '--role', 'root']);
    assert.equal(badRole.code, 2);

    const db = await openDatabase({ dataDir });
    try {
      const row = await db
        .selectFrom('staff')
        .selectAll()
        .where('email', '=', 'ada@example.com')
        .executeTakeFirstOrThrow();
      assert.ok(row.totp_secret_sealed && !row.totp_secret_sealed.includes(out.totpSecret));
      assert.equal(openTotpSecret({ secret: TEST_SECRET }, row.totp_secret_sealed), out.totpSecret);
      assert.ok(!row.password_hash.includes(out.password));
      assert.ok(row.totp_confirmed_at);
    } finally {
      await db.destroy();
    }
  });
});
