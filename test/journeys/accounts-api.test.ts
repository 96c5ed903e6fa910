// SPEC §3.1–3.3 through the JSON API: sign up, confirm, sign in, manage, sign out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD, startTestApp, type TestApp, uniqueEmail } from '../helpers/app.ts';
import {
  bearer,
  createVerifiedAccount,
  outboxFor,
  signInToken,
  signUpFields,
  verificationToken,
} from '../helpers/journeys.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe('sign up and confirm the email', () => {
  test('a new account gets a confirmation link and can sign in only after using it', async () => {
    const fields = signUpFields();
    const signup = await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
    assert.equal(signup.statusCode, 202);
    assert.deepEqual(signup.json(), { status: 'check_email' });

    const early = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: fields.password },
    });
    assert.equal(early.statusCode, 403);
    assert.equal(early.json().error.code, 'EMAIL_NOT_VERIFIED');

    const token = await verificationToken(t, fields.email);
    const verify = await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token } });
    assert.equal(verify.statusCode, 200);
    const again = await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token } });
    assert.equal(again.statusCode, 400, 'a confirmation link works once');
    assert.equal(again.json().error.code, 'INVALID_TOKEN');

    const signin = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email.toUpperCase(), password: fields.password },
    });
    assert.equal(signin.statusCode, 200);
    assert.equal(signin.json().status, 'signed_in');
  });

  test('a taken email gets the same answer, and its owner is told by email', async () => {
    const fields = await createVerifiedAccount(t);
    const before = (await outboxFor(t, fields.email)).length;
    const second = await t.request({
      method: 'POST',
      url: '/api/v1/signup',
      payload: { ...fields, password: 'another quite long phrase' },
    });
    assert.equal(second.statusCode, 202);
    assert.deepEqual(second.json(), { status: 'check_email' });
    const mails = await outboxFor(t, fields.email);
    assert.equal(mails.length, before + 1);
    assert.match(mails[0]?.subject ?? '', /tried to create an account/);
    // The original password still works: nothing about the account changed.
    await signInToken(t, fields.email, fields.password);
  });

  test('an address a stranger signed up with but never confirmed is freed once the link expires', async () => {
    const victim = signUpFields();
    await t.request({
      method: 'POST',
      url: '/api/v1/signup',
      payload: { ...victim, password: 'stranger chose this phrase' },
    });
    const strangersLink = await verificationToken(t, victim.email);
    // Within the link's lifetime the address stays taken: the owner is told someone tried.
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: victim });
    assert.match((await outboxFor(t, victim.email))[0]?.subject ?? '', /tried to create an account/);

    t.clock.advance(t.config.policy.emailTokenHours * 3_600_000 + 1000);
    const retry = await t.request({ method: 'POST', url: '/api/v1/signup', payload: victim });
    assert.equal(retry.statusCode, 202);
    const ownLink = await verificationToken(t, victim.email);
    assert.notEqual(ownLink, strangersLink);
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token: strangersLink } })).statusCode,
      400,
    );
    assert.equal(
      (await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token: ownLink } })).statusCode,
      200,
    );
    await signInToken(t, victim.email, victim.password);
    const strangers = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: victim.email, password: 'stranger chose this phrase' },
    });
    assert.equal(strangers.statusCode, 401);
  });

  test('a confirmation link expires', async () => {
    const fields = signUpFields();
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
    const token = await verificationToken(t, fields.email);
    t.clock.advance(t.config.policy.emailTokenHours * 3_600_000 + 1000);
    const verify = await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token } });
    assert.equal(verify.json().error.code, 'INVALID_TOKEN');
  });
});

describe('sign in and sessions', () => {
  test('a wrong password and an unknown email get the same answer', async () => {
    const fields = await createVerifiedAccount(t);
    const wrong = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: 'not the password at all' },
    });
    const unknown = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: uniqueEmail('nobody'), password: 'not the password at all' },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(wrong.json(), unknown.json());
  });

  test('me, rename and activity through a bearer token', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().account.email, fields.email);
    assert.equal(me.json().twoStep.enabled, false);
    assert.equal(me.json().account.password_hash, undefined, 'responses are allow-listed');

    const renamed = await t.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(token),
      payload: { name: '  Ann   Renamed ' },
    });
    assert.equal(renamed.statusCode, 200);
    assert.equal(renamed.json().account.name, 'Ann Renamed');

    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(token) });
    const events = activity.json().events.map((e: { event: string }) => e.event);
    assert.deepEqual(events.slice(0, 4), [
      'account.renamed',
      'session.created',
      'account.email_verified',
      'account.created',
    ]);
  });

  test('without a session the account API answers 401', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/sessions'],
      ['GET', '/api/v1/activity'],
    ] as const) {
      const response = await t.request({ method, url });
      assert.equal(response.statusCode, 401, url);
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
    }
    const forged = await t.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: bearer(`${'a'.repeat(22)}.${'b'.repeat(43)}`),
    });
    assert.equal(forged.statusCode, 401);
  });

  test('sign out ends the session on the server', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const out = await t.request({ method: 'POST', url: '/api/v1/signout', headers: bearer(token) });
    assert.equal(out.statusCode, 204);
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
    assert.equal(me.statusCode, 401);
  });

  test('a session can be listed and another one revoked', async () => {
    const fields = await createVerifiedAccount(t);
    const first = await signInToken(t, fields.email);
    const second = await signInToken(t, fields.email);
    assert.notEqual(first, second, 'every sign-in gets a new token');
    const list = await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(first) });
    const sessions = list.json().sessions as { id: string; current: boolean }[];
    assert.equal(sessions.length, 2);
    const other = sessions.find((s) => !s.current);
    assert.ok(other);
    const revoke = await t.request({ method: 'DELETE', url: `/api/v1/sessions/${other.id}`, headers: bearer(first) });
    assert.equal(revoke.statusCode, 204);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(second) })).statusCode, 401);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(first) })).statusCode, 200);
    const missing = await t.request({ method: 'DELETE', url: `/api/v1/sessions/${other.id}`, headers: bearer(first) });
    assert.equal(missing.statusCode, 404);
  });

  test('a session ends after an hour idle, and after 24 hours whatever its use', async () => {
    const fields = await createVerifiedAccount(t);
    const idle = await signInToken(t, fields.email);
    t.clock.advance(60 * 60_000 + 1000);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(idle) })).statusCode, 401);

    const busy = await signInToken(t, fields.email);
    for (let hour = 0; hour < 24; hour += 1) {
      t.clock.advance(50 * 60_000);
      const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(busy) });
      const alive = (hour + 1) * 50 < 24 * 60;
      assert.equal(me.statusCode, alive ? 200 : 401, `after ${(hour + 1) * 50} minutes`);
      if (!alive) break;
    }
  });
});

describe('change the password', () => {
  test('needs the current password, signs out other sessions and sends an email', async () => {
    const fields = await createVerifiedAccount(t);
    const mine = await signInToken(t, fields.email);
    const other = await signInToken(t, fields.email);
    const newPassword = 'a completely new passphrase';

    const missing = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(mine),
      payload: { newPassword },
    });
    assert.equal(missing.statusCode, 400);
    const wrong = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(mine),
      payload: { currentPassword: 'wrong wrong wrong', newPassword },
    });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'CURRENT_PASSWORD_WRONG');

    const ok = await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(mine),
      payload: { currentPassword: GOOD_PASSWORD, newPassword },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(mine) })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(other) })).statusCode, 401);
    const [mail] = await outboxFor(t, fields.email);
    assert.match(mail?.subject ?? '', /password was changed/);

    const oldPassword = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: GOOD_PASSWORD },
    });
    assert.equal(oldPassword.statusCode, 401);
    await signInToken(t, fields.email, newPassword);
  });
});

describe('metrics behind a token', () => {
  test('with METRICS_TOKEN set, /metrics needs it as a bearer token', async () => {
    const guarded = await startTestApp({ METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      assert.equal((await guarded.request({ method: 'GET', url: '/metrics' })).statusCode, 401);
      assert.equal(
        (await guarded.request({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } }))
          .statusCode,
        401,
      );
      const ok = await guarded.request({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-token-0123456789' },
      });
      assert.equal(ok.statusCode, 200);
    } finally {
      await guarded.close();
    }
  });
});

describe('caching', () => {
  test('answers are never cached, except the static files', async () => {
    for (const url of ['/healthz', '/signin', '/api/v1/me', '/dev/outbox.json']) {
      assert.equal((await t.request({ method: 'GET', url })).headers['cache-control'], 'no-store', url);
    }
    assert.match(
      String((await t.request({ method: 'GET', url: '/static/styles.css' })).headers['cache-control']),
      /max-age=3600/,
    );
  });
});

describe('operations', () => {
  test('health, readiness and metrics answer', async () => {
    assert.deepEqual((await t.request({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    const ready = await t.request({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json().checks, { database: 'ok', keyValue: 'ok' });
    const metrics = await t.request({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /twostep_http_requests_total\{method="GET",route="\/readyz",status="200"\} \d+/);
    assert.doesNotMatch(metrics.body, /token=/, 'labels are route patterns, never raw URLs');
  });
});
