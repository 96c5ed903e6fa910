// SPEC §2, §3.13: app-specific passwords for legacy mail and calendar clients. Generated with a label
// on a two-step account after a recent verification, shown once as xxxx-xxxx-xxxx-xxxx, at most 25,
// listed with their last use, revoked one by one or all at once, and all revoked when the password
// changes or is reset, when "This wasn't me" is reported and when two-step verification goes off.
// The legacy-client check says yes only for a live app-specific password: never for the account
// password, the same answer (after the same argon2 work) for an unknown email, and throttled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { finishRecovery, recoverToCodeVerified } from '../helpers/recovery.ts';
import { enrolTwoStep, type TwoStepAccount } from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', SMS_PER_IP_PER_DAY: '10000' });
});
after(() => t.close());

const STALE = 10 * 60_000 + 1000;
const FORMAT = /^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/;
let nextAddress = 0;
/** A client address of its own, so one test's failures never spend another's per-address budget. */
const freshAddress = (): string => `198.51.100.${++nextAddress}`;

async function create(token: string, label: string) {
  return t.request({ method: 'POST', url: '/api/v1/app-passwords', headers: bearer(token), payload: { label } });
}

async function createOk(token: string, label = 'Mail on the old laptop'): Promise<{ id: string; password: string }> {
  const response = await create(token, label);
  assert.equal(response.statusCode, 201, response.body);
  return { id: response.json().appPassword.id, password: response.json().password };
}

async function list(token: string) {
  const response = await t.request({ method: 'GET', url: '/api/v1/app-passwords', headers: bearer(token) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as {
    appPasswords: {
      id: string;
      label: string;
      createdAt: string;
      lastUsedAt: string | null;
      lastUsedIp: string | null;
    }[];
    max: number;
  };
}

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
}

async function legacy(email: string, password: string, remoteAddress = '198.51.100.250') {
  return t.request({
    method: 'POST',
    url: '/api/v1/legacy/verify',
    headers: { authorization: basic(email, password) },
    remoteAddress,
  });
}

async function legacyValid(email: string, password: string, remoteAddress?: string): Promise<boolean> {
  const response = await legacy(email, password, remoteAddress);
  assert.equal(response.statusCode, 200, response.body);
  return response.json().valid;
}

async function events(token: string): Promise<{ event: string }[]> {
  const response = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(token) });
  return response.json().events;
}

/** A two-step account whose session just verified, holding one app-specific password. */
async function ownerWithAppPassword(): Promise<TwoStepAccount & { appPassword: string; appPasswordId: string }> {
  const owner = await enrolTwoStep(t);
  const { id, password } = await createOk(owner.token);
  assert.equal(await legacyValid(owner.email, password), true);
  return { ...owner, appPassword: password, appPasswordId: id };
}

describe('generating an app-specific password', () => {
  test('is shown once as xxxx-xxxx-xxxx-xxxx, stored only as an argon2 hash, listed by its trimmed label', async () => {
    const owner = await enrolTwoStep(t);
    const response = await create(owner.token, '  Mail on the office PC  ');
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    const { appPassword, password } = response.json();
    assert.match(password, FORMAT);
    assert.equal(appPassword.label, 'Mail on the office PC');
    assert.equal(appPassword.lastUsedAt, null);

    const listed = await list(owner.token);
    assert.equal(listed.max, 25);
    assert.deepEqual(
      listed.appPasswords.map((p) => p.label),
      ['Mail on the office PC'],
    );
    assert.ok(!JSON.stringify(listed).includes(password.replaceAll('-', '').slice(0, 8)), 'never listed again');

    const rows = await t.database.db.selectFrom('app_passwords').selectAll().where('id', '=', appPassword.id).execute();
    assert.equal(rows.length, 1);
    assert.match(rows[0]?.password_hash ?? '', /^\$argon2id\$/);
    const stored = JSON.stringify(rows);
    assert.ok(!stored.includes(password) && !stored.includes(password.replaceAll('-', '')), 'no clear text stored');
  });

  test('each one is random: 16 letters of a CSPRNG, never the same twice', async () => {
    const owner = await enrolTwoStep(t);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i += 1) seen.add((await createOk(owner.token, `App ${i}`)).password);
    assert.equal(seen.size, 5);
  });

  test('emails the owner every time, with the label and a "This wasn\'t me" link, and is audited', async () => {
    const owner = await enrolTwoStep(t);
    await createOk(owner.token, 'Calendar at home');
    await createOk(owner.token, 'Mail at work');
    const notices = (await outboxFor(t, owner.email)).filter(
      (m) => m.subject === 'An app-specific password was created',
    );
    assert.equal(notices.length, 2);
    assert.ok(notices.some((m) => m.body.includes('“Calendar at home”')));
    assert.ok(notices.every((m) => m.links.some((l) => new URL(l).pathname === '/not-me')));
    assert.equal((await events(owner.token)).filter((e) => e.event === 'app_password.created').length, 2);
  });

  test('needs a label of 1 to 64 characters', async () => {
    const owner = await enrolTwoStep(t);
    for (const label of ['', '   ', 'x'.repeat(65), 'tab\tinside']) {
      const refused = await create(owner.token, label);
      assert.equal(refused.statusCode, 400, label);
      assert.equal(refused.json().error.code, 'INVALID_LABEL');
    }
    assert.equal((await create(owner.token, 'x'.repeat(64))).statusCode, 201);
  });

  test('is for two-step accounts only', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const refused = await create(token, 'Mail');
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'APP_PASSWORDS_NEED_TWO_STEP');
    assert.deepEqual((await list(token)).appPasswords, []);
  });

  test('is a protected change: a stale verification gets STEP_UP_REQUIRED, for revoking too', async () => {
    const owner = await ownerWithAppPassword();
    t.clock.advance(STALE);
    const stale = await create(owner.token, 'Mail');
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json().error.code, 'STEP_UP_REQUIRED');
    const revokeOne = await t.request({
      method: 'DELETE',
      url: `/api/v1/app-passwords/${owner.appPasswordId}`,
      headers: bearer(owner.token),
    });
    assert.equal(revokeOne.json().error.code, 'STEP_UP_REQUIRED');
    const revokeAll = await t.request({ method: 'DELETE', url: '/api/v1/app-passwords', headers: bearer(owner.token) });
    assert.equal(revokeAll.json().error.code, 'STEP_UP_REQUIRED');
    assert.equal((await list(owner.token)).appPasswords.length, 1, 'nothing changed');
    assert.equal(await legacyValid(owner.email, owner.appPassword), true);
  });

  test('at most 25 live ones; revoking one makes room', async () => {
    const owner = await enrolTwoStep(t);
    const created = [];
    for (let i = 0; i < 25; i += 1) created.push(await createOk(owner.token, `App ${i}`));
    const refused = await create(owner.token, 'One too many');
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'APP_PASSWORD_LIMIT');
    assert.equal(refused.json().error.detail.max, 25);
    const first = created[0] as { id: string };
    const revoked = await t.request({
      method: 'DELETE',
      url: `/api/v1/app-passwords/${first.id}`,
      headers: bearer(owner.token),
    });
    assert.equal(revoked.statusCode, 204);
    assert.equal((await create(owner.token, 'Room again')).statusCode, 201);
    assert.equal((await list(owner.token)).appPasswords.length, 25);
  });

  test('parallel creations never pass the limit', async () => {
    const small = await startTestApp({ APP_PASSWORDS_MAX: '3' }, { shareDatabaseWith: t });
    try {
      const owner = await enrolTwoStep(small);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          small.request({
            method: 'POST',
            url: '/api/v1/app-passwords',
            headers: bearer(owner.token),
            payload: { label: `Parallel ${i}` },
          }),
        ),
      );
      assert.equal(answers.filter((a) => a.statusCode === 201).length, 3);
      assert.ok(answers.filter((a) => a.statusCode !== 201).every((a) => a.json().error.code === 'APP_PASSWORD_LIMIT'));
    } finally {
      await small.close();
    }
  });
});

describe('revoking', () => {
  test('one: that password stops working at once, the others keep working; audited', async () => {
    const owner = await ownerWithAppPassword();
    const other = await createOk(owner.token, 'Calendar');
    const revoked = await t.request({
      method: 'DELETE',
      url: `/api/v1/app-passwords/${owner.appPasswordId}`,
      headers: bearer(owner.token),
    });
    assert.equal(revoked.statusCode, 204, revoked.body);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
    assert.equal(await legacyValid(owner.email, other.password), true);
    assert.deepEqual(
      (await list(owner.token)).appPasswords.map((p) => p.label),
      ['Calendar'],
    );
    const again = await t.request({
      method: 'DELETE',
      url: `/api/v1/app-passwords/${owner.appPasswordId}`,
      headers: bearer(owner.token),
    });
    assert.equal(again.statusCode, 404);
    assert.ok((await events(owner.token)).some((e) => e.event === 'app_password.revoked'));
  });

  test("one of another account's is not found", async () => {
    const owner = await ownerWithAppPassword();
    const stranger = await enrolTwoStep(t);
    const refused = await t.request({
      method: 'DELETE',
      url: `/api/v1/app-passwords/${owner.appPasswordId}`,
      headers: bearer(stranger.token),
    });
    assert.equal(refused.statusCode, 404);
    assert.equal(await legacyValid(owner.email, owner.appPassword), true);
  });

  test('all: none works any more; audited with the count', async () => {
    const owner = await ownerWithAppPassword();
    const other = await createOk(owner.token, 'Calendar');
    const revoked = await t.request({ method: 'DELETE', url: '/api/v1/app-passwords', headers: bearer(owner.token) });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().revoked, 2);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
    assert.equal(await legacyValid(owner.email, other.password), false);
    assert.deepEqual((await list(owner.token)).appPasswords, []);
    assert.ok((await events(owner.token)).some((e) => e.event === 'app_password.revoked_all'));
  });
});

describe('every app-specific password ends', () => {
  async function detailsOf(token: string, event: string): Promise<Record<string, unknown> | undefined> {
    const rows = await t.database.db
      .selectFrom('audit_events')
      .select(['details', 'account_id'])
      .where('event', '=', event)
      .execute();
    const me = (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json();
    return rows.find((r) => r.account_id === me.account.id)?.details;
  }

  test('when the password changes', async () => {
    const owner = await ownerWithAppPassword();
    const changed = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(owner.token),
      payload: { currentPassword: owner.password, newPassword: 'a completely new passphrase' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
    assert.deepEqual((await list(owner.token)).appPasswords, []);
    assert.equal((await detailsOf(owner.token, 'account.password_changed'))?.appPasswordsRevoked, 1);
  });

  test('when the password is reset (recovery key and a code)', async () => {
    const owner = await ownerWithAppPassword();
    const recoveryToken = await recoverToCodeVerified(t, owner);
    const done = await finishRecovery(t, recoveryToken, 'a completely new passphrase');
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
    const rows = await t.database.db
      .selectFrom('app_passwords')
      .select('revoked_at')
      .where('id', '=', owner.appPasswordId)
      .execute();
    assert.ok(rows[0]?.revoked_at, 'revoked in the reset');
  });

  test('when "This wasn\'t me" is reported', async () => {
    const owner = await ownerWithAppPassword();
    const notice = (await outboxFor(t, owner.email)).find((m) => m.subject === 'An app-specific password was created');
    const link = notice?.links.find((l) => new URL(l).pathname === '/not-me');
    assert.ok(link);
    const reported = await t.request({
      method: 'POST',
      url: '/api/v1/not-me',
      payload: { token: new URL(link).searchParams.get('token') },
    });
    assert.equal(reported.statusCode, 200, reported.body);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
  });

  test('when two-step verification is turned off (they belong to it)', async () => {
    const owner = await ownerWithAppPassword();
    const off = await t.request({
      method: 'POST',
      url: '/api/v1/two-step/disable',
      headers: bearer(owner.token),
      payload: { confirmed: true },
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(await legacyValid(owner.email, owner.appPassword), false);
    assert.deepEqual((await list(owner.token)).appPasswords, []);
    assert.equal((await detailsOf(owner.token, 'two_step.disabled'))?.appPasswordsRevoked, 1);
  });
});

describe('the legacy-client check', () => {
  test('says yes to a live app-specific password, however it is typed, and records the last use', async () => {
    const owner = await ownerWithAppPassword();
    const address = freshAddress();
    t.clock.advance(60_000);
    assert.equal(await legacyValid(owner.email, owner.appPassword, address), true);
    assert.equal(await legacyValid(owner.email.toUpperCase(), owner.appPassword.replaceAll('-', ''), address), true);
    assert.equal(await legacyValid(owner.email, owner.appPassword.toUpperCase().replaceAll('-', ' '), address), true);
    const [used] = (await list(owner.token)).appPasswords;
    assert.equal(used?.lastUsedAt, t.clock.now().toISOString());
    assert.equal(used?.lastUsedIp, address);
    // The Basic header is redacted from request logs; no line carries the password in any form.
    const logs = t.logText();
    assert.ok(!logs.includes(owner.appPassword) && !logs.includes(owner.appPassword.replaceAll('-', '')));
    assert.ok(!logs.includes(basic(owner.email, owner.appPassword).slice(6)));
  });

  test('never accepts the account password of a two-step account', async () => {
    const owner = await ownerWithAppPassword();
    assert.equal(await legacyValid(owner.email, owner.password, freshAddress()), false);
  });

  test('does not accept the account password of an account without two-step verification either', async () => {
    const fields = await createVerifiedAccount(t);
    assert.equal(await legacyValid(fields.email, fields.password, freshAddress()), false);
  });

  test("a wrong password, another account's password and an unknown email get the same answer", async () => {
    const owner = await ownerWithAppPassword();
    const other = await ownerWithAppPassword();
    const address = freshAddress();
    const answers = [
      await legacy(owner.email, 'abcd-efgh-ijkl-mnop', address),
      await legacy(owner.email, other.appPassword, address),
      await legacy(uniqueEmail('nobody'), owner.appPassword, address),
      await legacy('not an email', 'whatever', address),
    ];
    for (const answer of answers) {
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.body, '{"valid":false}');
    }
  });

  test('costs exactly one argon2 verification whatever the case', async () => {
    const owner = await ownerWithAppPassword();
    await createOk(owner.token, 'Second');
    const hasher = t.app.services.hasher;
    const original = hasher.verify;
    let calls = 0;
    hasher.verify = (stored, password) => {
      calls += 1;
      return original(stored, password);
    };
    try {
      for (const [email, password] of [
        [owner.email, owner.appPassword],
        [owner.email, 'abcd-efgh-ijkl-mnop'],
        [owner.email, owner.password],
        [uniqueEmail('nobody'), owner.appPassword],
        ['', 'x'],
      ] as const) {
        calls = 0;
        await legacy(email || 'x@', password, freshAddress());
        assert.equal(calls, 1, `${email} / ${password === owner.appPassword ? 'app password' : password}`);
      }
    } finally {
      hasher.verify = original;
    }
  });

  test('without well-formed Basic credentials: 401 with a Basic challenge', async () => {
    for (const authorization of [
      undefined,
      'Bearer abc',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/legacy/verify',
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
      assert.match(String(response.headers['www-authenticate']), /^Basic /);
    }
  });

  test('is throttled like a password, on a budget of its own, the same for unknown emails', async () => {
    const owner = await ownerWithAppPassword();
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1)
      statuses.push((await legacy(owner.email, 'abcd-efgh-ijkl-mnop', address)).statusCode);
    assert.ok(statuses.includes(429), statuses.join(','));
    const refused = await legacy(owner.email, owner.appPassword, address);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().error.code, 'TOO_MANY_ATTEMPTS');
    assert.ok(Number(refused.headers['retry-after']) > 0);

    const nobody = uniqueEmail('nobody');
    const unknown: number[] = [];
    for (let i = 0; i < 8; i += 1)
      unknown.push((await legacy(nobody, 'abcd-efgh-ijkl-mnop', freshAddress())).statusCode);
    assert.deepEqual(unknown, statuses, 'an unknown email is throttled exactly like a known one');

    // The owner's own sign-in is not slowed down by a mail client's failures.
    const signIn = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: owner.email, password: GOOD_PASSWORD },
      remoteAddress: freshAddress(),
    });
    assert.equal(signIn.statusCode, 200, signIn.body);
  });
});

describe('the portal page', () => {
  async function portal(owner: TwoStepAccount): Promise<{ browser: Browser; csrf: string }> {
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', owner.token);
    return { browser, csrf: await browser.formToken('/account/app-passwords') };
  }

  test('is linked from Password & Security, generates one shown once, lists and revokes it', async () => {
    const owner = await enrolTwoStep(t);
    const { browser, csrf } = await portal(owner);
    const account = await browser.get('/account');
    assert.match(account.body, /href="\/account\/app-passwords"/);

    const shown = await browser.postForm('/account/app-passwords', {
      _csrf: csrf,
      label: 'Mail on the iMac',
      return: '/account/app-passwords',
    });
    assert.equal(shown.statusCode, 200, shown.body.slice(0, 300));
    assert.equal(shown.headers['cache-control'], 'no-store');
    const password = /data-app-password>([a-z-]+)</.exec(shown.body)?.[1] ?? '';
    assert.match(password, FORMAT);
    assert.equal(await legacyValid(owner.email, password), true);

    const page = await browser.get('/account/app-passwords');
    assert.match(page.body, /Mail on the iMac/);
    assert.ok(!page.body.includes(password), 'shown once');
    const id = /action="\/account\/app-passwords\/([^/"]+)\/revoke"/.exec(page.body)?.[1];
    assert.ok(id);
    const revoked = await browser.postForm(`/account/app-passwords/${id}/revoke`, { _csrf: csrf });
    assert.equal(revoked.statusCode, 303);
    assert.equal(revoked.headers.location, '/account/app-passwords?saved=revoked');
    assert.equal(await legacyValid(owner.email, password), false);
  });

  test('shows the error beside the form, keeping the label', async () => {
    const owner = await enrolTwoStep(t);
    const { browser, csrf } = await portal(owner);
    const refused = await browser.postForm('/account/app-passwords', { _csrf: csrf, label: 'x'.repeat(65) });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /role="alert">Give the password a label/);
  });

  test('in Dutch too', async () => {
    const owner = await enrolTwoStep(t);
    const { browser } = await portal(owner);
    browser.cookies.set('twostep_lang', 'nl');
    const page = await browser.get('/account/app-passwords');
    assert.match(page.body, /App-specifieke wachtwoorden/);
  });

  test('a stale verification goes to the step-up page and back to this page', async () => {
    const owner = await enrolTwoStep(t);
    const { browser, csrf } = await portal(owner);
    t.clock.advance(STALE);
    for (const [url, fields] of [
      ['/account/app-passwords', { label: 'Mail' }],
      ['/account/app-passwords/revoke-all', {}],
    ] as const) {
      const refused = await browser.postForm(url, { _csrf: csrf, return: '/account/app-passwords', ...fields });
      assert.equal(refused.statusCode, 303, url);
      assert.equal(refused.headers.location, '/account/verify?return=%2Faccount%2Fapp-passwords', url);
    }
  });

  test('refuses a form without its CSRF token', async () => {
    const owner = await enrolTwoStep(t);
    const { browser } = await portal(owner);
    const forged = await browser.postForm('/account/app-passwords', { _csrf: 'forged', label: 'Mail' });
    assert.equal(forged.statusCode, 403);
    assert.deepEqual((await list(owner.token)).appPasswords, []);
  });

  test('without two-step verification it says to turn it on first', async () => {
    const fields = await createVerifiedAccount(t);
    const browser = new Browser(t);
    browser.cookies.set('twostep_session', await signInToken(t, fields.email));
    const page = await browser.get('/account/app-passwords');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /for accounts with two-step verification/);
    assert.doesNotMatch(page.body, /name="label"/);
  });
});
