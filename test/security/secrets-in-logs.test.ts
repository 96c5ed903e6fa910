// An attacker (or a curious operator) reads the logs hoping for credentials (SECURITY.md item 37;
// DESIGN.md convention 6): after sign-up, confirmation, sign-in, wrong passwords, a password change
// and sign-out, through the API and the portal, no password, session token, verification token or
// form token ever appears in the log, whatever its encoding, while every request is logged; nor,
// after the second-step journeys, any code, recovery key, authenticator secret, app-specific
// password or security key answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { type TestApp, uniqueEmail } from '../helpers/app.ts';
import { bearer, signUpFields, verificationToken } from '../helpers/journeys.ts';
import { startRecovery } from '../helpers/recovery.ts';
import { registerSoftKey } from '../helpers/security-keys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode } from '../helpers/two-step.ts';
import { Browser, startTestApp } from './support.ts';

/** The spellings a secret can take in a log line: as is, JSON-escaped, percent- and form-encoded. */
function spellings(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
  ];
}

class Secrets {
  readonly values = new Map<string, string>();
  add(label: string, value: string | undefined): void {
    assert.ok(value && value.length >= 8, `${label}: no secret to track`);
    this.values.set(value, label);
    // A session token is `id.secret`: the secret half alone is what must never leak.
    const secretHalf = value.split('.')[1];
    if (secretHalf && secretHalf.length >= 22) this.values.set(secretHalf, `${label} (secret half)`);
  }
  fromResponse(label: string, response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) if (cookie.value) this.add(`${label}: cookie ${cookie.name}`, cookie.value);
  }
}

/** The journeys of SPEC §3.1–3.3 through the API and the portal, remembering every secret on the way. */
async function runJourneys(t: TestApp): Promise<Secrets> {
  const secrets = new Secrets();
  const status = (response: LightMyRequestResponse, expected: number, label: string): LightMyRequestResponse => {
    assert.equal(response.statusCode, expected, `${label}: ${response.body.slice(0, 300)}`);
    secrets.fromResponse(label, response);
    return response;
  };

  // API: sign up, confirm, a wrong password, sign in, use the token, change the password, sign out.
  const api = signUpFields({ password: 'api first passphrase Quokka 481' });
  secrets.add('api password', api.password);
  status(await t.request({ method: 'POST', url: '/api/v1/signup', payload: api }), 202, 'api sign-up');
  const apiVerify = await verificationToken(t, api.email);
  secrets.add('api verification token', apiVerify);
  status(
    await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token: apiVerify } }),
    200,
    'api verify',
  );
  const wrong = 'api wrong passphrase Wombat 913';
  secrets.add('api wrong password', wrong);
  status(
    await t.request({ method: 'POST', url: '/api/v1/signin', payload: { email: api.email, password: wrong } }),
    401,
    'api wrong password',
  );
  const signin = status(
    await t.request({ method: 'POST', url: '/api/v1/signin', payload: { email: api.email, password: api.password } }),
    200,
    'api sign-in',
  );
  const token = signin.json().token as string;
  secrets.add('api session token', token);
  for (const url of ['/api/v1/me', '/api/v1/sessions', '/api/v1/activity?limit=5']) {
    status(await t.request({ method: 'GET', url, headers: bearer(token) }), 200, url);
  }
  status(
    await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: `twostep_session=${token}` } }),
    200,
    'me by cookie',
  );
  const wrongCurrent = 'api wrong current Numbat 277';
  const apiNew = 'api second passphrase Bilby 650';
  secrets.add('api wrong current password', wrongCurrent);
  secrets.add('api new password', apiNew);
  status(
    await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(token),
      payload: { currentPassword: wrongCurrent, newPassword: apiNew },
    }),
    403,
    'api change with a wrong current password',
  );
  status(
    await t.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(token),
      payload: { currentPassword: api.password, newPassword: apiNew },
    }),
    200,
    'api change password',
  );
  const strength = 'strength meter probe Echidna 55';
  secrets.add('password given to the strength meter', strength);
  status(
    await t.request({ method: 'POST', url: '/api/v1/password/strength', payload: { password: strength } }),
    200,
    'strength meter',
  );
  status(await t.request({ method: 'POST', url: '/api/v1/signout', headers: bearer(token) }), 204, 'api sign-out');
  const again = status(
    await t.request({ method: 'POST', url: '/api/v1/signin', payload: { email: api.email, password: apiNew } }),
    200,
    'api sign-in with the new password',
  );
  secrets.add('second api session token', again.json().token);

  // Requests that fail early still carry secrets: invalid fields, broken JSON, secrets in a query.
  const refused = 'refused sign-up passphrase Dingo 802';
  secrets.add('password of a refused sign-up', refused);
  status(
    await t.request({
      method: 'POST',
      url: '/api/v1/signup',
      payload: { ...signUpFields({ password: refused }), unexpected: true },
    }),
    400,
    'sign-up with an unknown field',
  );
  const broken = 'broken json passphrase Koala 314';
  secrets.add('password in broken JSON', broken);
  status(
    await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      headers: { 'content-type': 'application/json' },
      payload: `{"email": "a@example.com", "password": "${broken}"`,
    }),
    400,
    'broken JSON',
  );
  const inQuery = 'password in a query Platypus 99';
  secrets.add('password in a query string', inQuery);
  await t.request({ method: 'GET', url: `/signin?password=${encodeURIComponent(inQuery)}` });

  // Portal: sign up, open the emailed link, confirm, sign in, change the password, sign out.
  const browser = new Browser(t);
  const form = signUpFields({ email: uniqueEmail('visitor'), password: 'portal first passphrase Emu 123' });
  secrets.add('portal password', form.password);
  const csrf = await browser.formToken('/signup');
  secrets.add('form token', csrf);
  secrets.add('form-token cookie', browser.cookies.get('twostep_csrf'));
  status(await browser.postForm('/signup', { _csrf: csrf, ...form }), 202, 'portal sign-up');
  const portalVerify = await verificationToken(t, form.email);
  secrets.add('portal verification token', portalVerify);
  status(await browser.get(`/verify-email?token=${portalVerify}`), 200, 'open the emailed link');
  status(await browser.postForm('/verify-email', { _csrf: csrf, token: portalVerify }), 200, 'portal verify');
  const portalWrong = 'portal wrong passphrase Dugong 404';
  secrets.add('portal wrong password', portalWrong);
  status(
    await browser.postForm('/signin', { _csrf: csrf, email: form.email, password: portalWrong }),
    401,
    'portal wrong password',
  );
  status(
    await browser.postForm('/signin', { _csrf: csrf, email: form.email, password: form.password }),
    303,
    'portal sign-in',
  );
  secrets.add('portal session cookie', browser.session());
  status(await browser.get('/account'), 200, 'account page');
  const portalNew = 'portal second passphrase Quoll 808';
  secrets.add('portal new password', portalNew);
  status(
    await browser.postForm('/account/password', {
      _csrf: csrf,
      currentPassword: form.password,
      newPassword: portalNew,
    }),
    303,
    'portal change password',
  );
  status(await browser.postForm('/signout', { _csrf: csrf }), 303, 'portal sign-out');
  return secrets;
}

/**
 * The second steps through the API, remembering every secret: texted codes, the recovery key, an
 * authenticator app's secret and codes, an app-specific password (and its Basic header), a security
 * key's registration and assertion, and the recovery with the key. Returns the long secrets and the
 * codes (six digits: checked where a log line would hold them as a value).
 */
async function runTwoStepJourneys(t: TestApp): Promise<{ secrets: Secrets; codes: string[] }> {
  const secrets = new Secrets();
  const codes: string[] = [];
  const ok = (response: LightMyRequestResponse, expected: number, label: string): LightMyRequestResponse => {
    assert.equal(response.statusCode, expected, `${label}: ${response.body.slice(0, 300)}`);
    secrets.fromResponse(label, response);
    return response;
  };
  const owner = await enrolTwoStep(t);
  secrets.add('recovery key', owner.recoveryKey);
  secrets.add('enrolment session token', owner.token);
  // Sign in with a texted code.
  const challenge = await passwordStep(t, owner.email, owner.password);
  ok(await sendCode(t, challenge.id, challenge.channels[0]?.id ?? ''), 202, 'send a code');
  const code = await smsCode(t, owner.phone);
  codes.push(code);
  const signedIn = ok(await answer(t, challenge.id, code), 200, 'answer with the code');
  const token = signedIn.json().token as string;
  secrets.add('code session token', token);
  // An authenticator app: its secret, and a code to confirm it.
  const started = ok(
    await t.request({ method: 'POST', url: '/api/v1/authenticators', headers: bearer(token), payload: {} }),
    201,
    'start an authenticator app',
  );
  const totpSecret = started.json().secret as string;
  secrets.add('authenticator secret', totpSecret);
  const totpCode = new TOTP({ secret: Secret.fromBase32(totpSecret), digits: 6, period: 30 }).generate({
    timestamp: t.clock.now().getTime(),
  });
  codes.push(totpCode);
  ok(
    await t.request({
      method: 'POST',
      url: `/api/v1/authenticators/${started.json().authenticator.id}/confirm`,
      headers: bearer(token),
      payload: { code: totpCode },
    }),
    200,
    'confirm the authenticator app',
  );
  // An app-specific password, used by a legacy client.
  const created = ok(
    await t.request({
      method: 'POST',
      url: '/api/v1/app-passwords',
      headers: bearer(token),
      payload: { label: 'Mail' },
    }),
    201,
    'create an app-specific password',
  );
  const appPassword = created.json().password as string;
  secrets.add('app-specific password', appPassword);
  const basic = Buffer.from(`${owner.email}:${appPassword}`).toString('base64');
  secrets.add('Basic credentials', basic);
  ok(
    await t.request({ method: 'POST', url: '/api/v1/legacy/verify', headers: { authorization: `Basic ${basic}` } }),
    200,
    'legacy check',
  );
  // A security key: its registration and an assertion at sign-in.
  const { key, registration } = await registerSoftKey(t, token, { name: 'Key' });
  secrets.add('attestation object', registration.response.attestationObject);
  const second = await passwordStep(t, owner.email, owner.password);
  const request = ok(
    await t.request({ method: 'GET', url: `/api/v1/challenges/${second.id}/security-key` }),
    200,
    'assertion options',
  );
  secrets.add('WebAuthn challenge', request.json().options.challenge);
  const assertion = key.authenticate(request.json().options) as { response: Record<string, string> };
  secrets.add('assertion signature', assertion.response.signature);
  const keySignIn = ok(
    await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${second.id}/verify`,
      payload: { securityKey: assertion },
    }),
    200,
    'answer with the security key',
  );
  secrets.add('security key session token', keySignIn.json().token);
  // Forgot password: the recovery key and a texted code, then a new password and a new key.
  const recovery = ok(await startRecovery(t, owner.email, owner.recoveryKey), 200, 'start a recovery');
  const recoveryToken = recovery.json().recoveryToken as string;
  secrets.add('recovery token', recoveryToken);
  const sms = recovery.json().challenge.channels.find((c: { type: string }) => c.type === 'sms');
  ok(
    await t.request({ method: 'POST', url: '/api/v1/recovery/send', payload: { recoveryToken, channel: sms.id } }),
    202,
    'recovery code',
  );
  const recoveryCode = await smsCode(t, owner.phone);
  codes.push(recoveryCode);
  ok(
    await t.request({ method: 'POST', url: '/api/v1/recovery/verify', payload: { recoveryToken, code: recoveryCode } }),
    200,
    'recovery verify',
  );
  const newPassword = 'recovered passphrase Bandicoot 61';
  secrets.add('recovered password', newPassword);
  const reset = ok(
    await t.request({ method: 'POST', url: '/api/v1/recovery/password', payload: { recoveryToken, newPassword } }),
    200,
    'recovery password',
  );
  secrets.add('new recovery key', reset.json().recoveryKey);
  return { secrets, codes };
}

/** Where a log line would hold a six-digit code: as a JSON string, a query or form value. */
function codeSpellings(code: string): string[] {
  return [`"${code}"`, `=${code}`, `:${code}"`];
}

const PREVIOUS_SECRET = 'a-previous-twostep-secret-0123456789abcdef';

// Tests log at info; the check runs at trace, which logs everything info does and more, so a secret
// logged at any level is caught.
for (const level of ['trace']) {
  describe(`logs at level ${level}`, () => {
    let t: TestApp;
    before(async () => {
      // No gap between texted codes: with Redis it runs on the real clock, which a test cannot advance.
      // Mid-rotation (docs/operations.md, Key rotation): the previous secret must stay out of the log too.
      t = await startTestApp({
        LOG_LEVEL: level,
        CODE_SEND_INTERVAL_SECONDS: '0',
        TWOSTEP_SECRET_PREVIOUS: PREVIOUS_SECRET,
      });
    });
    after(() => t.close());

    test('no password or token of the journeys appears anywhere in the log', async () => {
      const secrets = await runJourneys(t);
      secrets.add('TWOSTEP_SECRET', t.config.secret);
      secrets.add('TWOSTEP_SECRET_PREVIOUS', PREVIOUS_SECRET);
      const log = t.logText();
      // The check means something only if requests are logged at all.
      const lines = log.split('\n').filter(Boolean);
      const incoming = lines.filter((line) => line.includes('"incoming request"'));
      assert.ok(incoming.length >= 20, `request logging is off? ${incoming.length} request lines`);
      for (const url of ['/api/v1/signin', '/api/v1/password', '/account/password', '/verify-email?']) {
        assert.ok(log.includes(`"url":"${url}`), `no log line for ${url}`);
      }
      assert.ok(secrets.values.size >= 20, `only ${secrets.values.size} secrets tracked`);
      for (const [secret, label] of secrets.values) {
        for (const spelling of spellings(secret)) {
          const at = log.indexOf(spelling);
          assert.equal(at, -1, `${label} is in the log: …${log.slice(Math.max(0, at - 200), at + 100)}…`);
        }
      }
    });

    test('no code, recovery key, authenticator secret, app password or security key answer appears in the log', async () => {
      const before = t.logText().length;
      const { secrets, codes } = await runTwoStepJourneys(t);
      const log = t.logText().slice(before);
      assert.ok(log.includes('"url":"/api/v1/recovery/verify"'), 'the journeys are logged');
      assert.ok(secrets.values.size >= 15, `only ${secrets.values.size} secrets tracked`);
      for (const [secret, label] of secrets.values) {
        for (const spelling of spellings(secret)) {
          const at = log.indexOf(spelling);
          assert.equal(at, -1, `${label} is in the log: …${log.slice(Math.max(0, at - 200), at + 100)}…`);
        }
      }
      for (const code of codes) {
        for (const spelling of codeSpellings(code)) {
          const at = log.indexOf(spelling);
          assert.equal(at, -1, `a code is in the log: …${log.slice(Math.max(0, at - 200), at + 100)}…`);
        }
      }
    });
  });
}
