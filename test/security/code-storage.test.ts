// Codes are stored as a keyed hash (SPEC §2, DESIGN.md convention 6, SECURITY.md items 11–12): the
// challenges row holds an HMAC of the code keyed with the server secret and bound to the challenge,
// so a copy of the database gives neither the code nor a table to look it up in (a 6-digit code's
// plain SHA-256 falls to a million guesses), and a code's hash is worthless for any other challenge.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

async function storedHash(challengeId: string): Promise<string> {
  const row = await t.database.db
    .selectFrom('challenges')
    .select('code_hash')
    .where('id', '=', challengeId)
    .executeTakeFirstOrThrow();
  assert.ok(row.code_hash, 'a code was stored');
  return row.code_hash;
}

function hmac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

describe('stored codes', () => {
  test('the challenges row holds an HMAC keyed with the server secret and bound to the challenge, not the code', async () => {
    const account = await enrolTwoStep(t);
    const challenge = await passwordStep(t, account.email, account.password);
    assert.equal((await sendCode(t, challenge.id, challenge.channels[0]?.id ?? '')).statusCode, 202);
    const code = await smsCode(t, account.phone);
    const stored = await storedHash(challenge.id);

    assert.ok(!stored.includes(code), 'the code is not in the row');
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      assert.notEqual(stored, createHash('sha256').update(code).digest(encoding), `not a plain sha256 (${encoding})`);
    }
    assert.notEqual(stored, hmac('', `code:${challenge.id}:${code}`), 'not an unkeyed HMAC');
    assert.notEqual(stored, hmac(TEST_SECRET, code), 'bound to its challenge, not only keyed');
    assert.equal(stored, hmac(TEST_SECRET, `code:${challenge.id}:${code}`));
  });
});
