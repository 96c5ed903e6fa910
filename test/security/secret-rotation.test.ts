// The operator rotates TWOSTEP_SECRET (docs/operations.md, Key rotation) and nobody notices: nodes on
// the new secret with the old one in TWOSTEP_SECRET_PREVIOUS accept what a node on the old secret made
// (a code in flight, a form it rendered, an authenticator app, a staff authenticator, an OIDC client
// secret and signing key), and after `twostep secret reseal` all of it works with the old secret gone.
// A node given only the new secret refuses the same things as a wrong secret always did: a clear
// error, never a 500. No secret, old or new, reaches a log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import * as client from 'openid-client';
import { totpCode } from '../../src/core/totp.ts';
import { resealAll } from '../../src/flows/reseal.ts';
import { registerService } from '../../src/flows/services.ts';
import { loadSigningKeys } from '../../src/http/oidc/keys.ts';
import { GOOD_PASSWORD, startListeningTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount } from '../helpers/journeys.ts';
import { authorizationRequest, exchange, Browser as OidcBrowser, REDIRECT_URI } from '../helpers/oidc.ts';
import { createTestStaff, type TestStaff } from '../helpers/staff.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode, type TwoStepAccount } from '../helpers/two-step.ts';
import { Browser, startTestApp } from './support.ts';

const OLD = TEST_SECRET;
const NEW = 'the-new-secret-after-rotation-0123456789abcdef';
const SETTINGS = { CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100' };

/** A node before the rotation, one after it (step 1), and one with the old secret gone too soon. */
let old: TestApp;
let rotated: TestApp & { baseUrl: string };
let newOnly: TestApp;

before(async () => {
  old = await startTestApp(SETTINGS);
  rotated = await startListeningTestApp(
    { ...SETTINGS, TWOSTEP_SECRET: NEW, TWOSTEP_SECRET_PREVIOUS: OLD },
    { shareDatabaseWith: old, memoryKeyValue: true },
  );
});
after(async () => {
  await newOnly?.close();
  await rotated?.close();
  await old?.close();
});

/** The node with only the new secret starts late: on its first start it makes a signing key of its own. */
async function startNewOnly(): Promise<TestApp> {
  newOnly ??= await startTestApp(
    { ...SETTINGS, TWOSTEP_SECRET: NEW },
    { shareDatabaseWith: old, memoryKeyValue: true },
  );
  return newOnly;
}

/** Every node's clock on the same, fresh 30-second step (each app step is accepted once). */
function nextStepEverywhere(): void {
  const apps = [old, rotated, newOnly].filter((app) => app !== undefined);
  const latest = Math.max(...apps.map((app) => app.clock.now().getTime()));
  const target = (Math.floor(latest / 30_000) + 1) * 30_000 + 1_000;
  for (const app of apps) app.clock.advance(target - app.clock.now().getTime());
}

function appCode(t: TestApp, secret: string): string {
  nextStepEverywhere();
  return totpCode(secret, t.clock.now());
}

function errorCode(response: LightMyRequestResponse): string | undefined {
  return (JSON.parse(response.body) as { error?: { code?: string } }).error?.code;
}

/** Signs in with an authenticator app's code on `t`. */
async function signInWithApp(t: TestApp, account: TwoStepAccount, secret: string): Promise<LightMyRequestResponse> {
  const challenge = await passwordStep(t, account.email, account.password);
  return answer(t, challenge.id, appCode(t, secret));
}

/** An account with two-step verification and an authenticator app, all made by the node on the old secret. */
async function accountWithApp(): Promise<{ account: TwoStepAccount; secret: string }> {
  const account = await enrolTwoStep(old);
  const started = await old.request({
    method: 'POST',
    url: '/api/v1/authenticators',
    headers: bearer(account.token),
    payload: {},
  });
  assert.equal(started.statusCode, 201, started.body);
  const { authenticator, secret } = started.json() as { authenticator: { id: string }; secret: string };
  const confirmed = await old.request({
    method: 'POST',
    url: `/api/v1/authenticators/${authenticator.id}/confirm`,
    headers: bearer(account.token),
    payload: { code: appCode(old, secret) },
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  return { account, secret };
}

/** The OAuth client authentication alone: a made-up code is `invalid_grant` once the client is known. */
function tokenRequest(t: TestApp, clientId: string, clientSecret: string): Promise<LightMyRequestResponse> {
  return t.request({
    method: 'POST',
    url: '/oidc/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'not-a-code',
      redirect_uri: REDIRECT_URI,
    }).toString(),
  });
}

let appAccount: { account: TwoStepAccount; secret: string };
let staff: TestStaff;
let service: { id: string; secret: string };
/** Every secret of this file, for the log check at the end. */
const secrets = new Map<string, string>([
  [OLD, 'the old TWOSTEP_SECRET'],
  [NEW, 'the new TWOSTEP_SECRET'],
]);

describe('after step 1: the new secret, the old one previous', () => {
  test('a signing key sealed under the old secret still signs: the rotated node made no new one', async () => {
    const keys = await rotated.app.services.store.oidcKeys.list();
    assert.equal(keys.length, 1, 'the first start of the old node made one key; the rotated node reused it');
  });

  test('an authenticator app added under the old secret answers the code step', async () => {
    appAccount = await accountWithApp();
    secrets.set(appAccount.secret, 'an authenticator secret');
    const done = await signInWithApp(rotated, appAccount.account, appAccount.secret);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().status, 'signed_in');
  });

  test('a code sent by the old node (a challenge in flight) verifies on the rotated one', async () => {
    const account = await enrolTwoStep(old);
    const challenge = await passwordStep(old, account.email, account.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    assert.equal((await sendCode(old, challenge.id, sms.id)).statusCode, 202);
    const code = await smsCode(old, account.phone);
    secrets.set(code, 'an SMS code');
    const done = await answer(rotated, challenge.id, code);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().status, 'signed_in');
  });

  test('a form the old node rendered posts on the rotated node', async () => {
    const account = await enrolTwoStep(old);
    const before = new Browser(old);
    const token = await before.formToken('/signin');
    secrets.set(token, 'a form token');
    const after = new Browser(rotated);
    for (const [name, value] of before.cookies) after.cookies.set(name, value);
    const posted = await after.postForm('/signin', { _csrf: token, email: account.email, password: account.password });
    assert.equal(posted.statusCode, 303, posted.body.slice(0, 300));
  });

  test('a staff authenticator set up under the old secret signs in to the console, through its forms', async () => {
    staff = await createTestStaff(old, 'support');
    assert.ok(staff.secret);
    secrets.set(staff.secret, 'a staff authenticator secret');
    secrets.set(staff.password, 'a staff password');
    const browser = new Browser(old);
    const passwordToken = await browser.formToken('/console/signin');
    const moved = new Browser(rotated);
    for (const [name, value] of browser.cookies) moved.cookies.set(name, value);
    const first = await moved.postForm('/console/signin', {
      _csrf: passwordToken,
      email: staff.email,
      password: staff.password,
    });
    assert.equal(first.statusCode, 303, first.body.slice(0, 300));
    const second = await moved.postForm('/console/signin/code', {
      _csrf: await moved.formToken('/console/signin/code'),
      code: appCode(rotated, staff.secret),
    });
    assert.equal(second.statusCode, 303, second.body.slice(0, 300));
    assert.equal(second.headers.location, '/console/accounts');
  });

  test('an OIDC client secret registered under the old secret authenticates, and the sign-in completes', async () => {
    const registered = await registerService(
      { store: old.app.services.store, clock: old.clock, config: old.config },
      { name: 'Registered before', kind: 'confidential', redirectUris: [REDIRECT_URI] },
      'test',
    );
    assert.ok(registered.clientSecret);
    service = { id: registered.service.id, secret: registered.clientSecret };
    secrets.set(service.secret, 'an OIDC client secret');
    assert.equal(errorCodeOf(await tokenRequest(rotated, service.id, service.secret)), 'invalid_grant');
    assert.equal(errorCodeOf(await tokenRequest(rotated, service.id, 'x'.repeat(43))), 'invalid_client');

    // The whole code flow, the ID token signed by the key sealed under the old secret.
    const config = await client.discovery(new URL(`${rotated.baseUrl}/oidc`), service.id, service.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const account = await createVerifiedAccount(old);
    const browser = new OidcBrowser(rotated.baseUrl);
    const request = await authorizationRequest({ clientId: service.id, clientSecret: service.secret, config });
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page.slice(0, 300));
    const tokens = await exchange({ clientId: service.id, config }, request, callback);
    const [key] = await rotated.app.services.store.oidcKeys.list();
    assert.equal(
      JSON.parse(Buffer.from(String(tokens.id_token).split('.')[0] as string, 'base64url').toString()).kid,
      key?.kid,
    );
  });
});

describe('the old secret dropped too soon (no TWOSTEP_SECRET_PREVIOUS): refused as before, never a 500', () => {
  test('the authenticator app answers like a wrong code', async () => {
    const t = await startNewOnly();
    const refused = await signInWithApp(t, appAccount.account, appAccount.secret);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(errorCode(refused), 'CODE_WRONG');
  });

  test('a code in flight is a wrong code', async () => {
    const t = await startNewOnly();
    const account = await enrolTwoStep(old);
    const challenge = await passwordStep(old, account.email, account.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    assert.equal((await sendCode(old, challenge.id, sms.id)).statusCode, 202);
    const code = await smsCode(old, account.phone);
    secrets.set(code, 'an SMS code');
    const refused = await answer(t, challenge.id, code);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(errorCode(refused), 'CODE_WRONG');
  });

  test('a form rendered under the old secret is CSRF_REJECTED', async () => {
    const t = await startNewOnly();
    const before = new Browser(old);
    const token = await before.formToken('/signin');
    secrets.set(token, 'a form token');
    const after = new Browser(t);
    for (const [name, value] of before.cookies) after.cookies.set(name, value);
    const refused = await after.postForm('/signin', { _csrf: token, email: 'a@example.com', password: 'whatever' });
    assert.equal(refused.statusCode, 403, refused.body.slice(0, 300));
    assert.match(refused.body, /CSRF_REJECTED/);
  });

  test('the OIDC client is unknown (invalid_client), and a new signing key was made', async () => {
    const t = await startNewOnly();
    const refused = await tokenRequest(t, service.id, service.secret);
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(errorCodeOf(refused), 'invalid_client');
    assert.equal((await t.app.services.store.oidcKeys.list()).length, 2);
  });
});

describe('step 2: twostep secret reseal', () => {
  test('reseals each value sealed under the old secret, counts them, and a second run finds nothing to do', async () => {
    const deps = { store: rotated.app.services.store, config: rotated.config };
    const first = await resealAll(deps, { batchSize: 1 });
    // Sealed under the old secret in this file: one authenticator app, one staff authenticator, one
    // client secret, the first signing key; the node with only the new secret sealed a second key.
    assert.deepEqual(
      first.map((c) => [c.kind, c.resealed, c.current, c.changed, c.unreadable.length]),
      [
        ['authenticator', 1, 0, 0, 0],
        ['staff-totp', 1, 0, 0, 0],
        ['oidc-client-secret', 1, 0, 0, 0],
        ['oidc-signing-key', 1, 1, 0, 0],
      ],
    );
    const again = await resealAll(deps, { batchSize: 1 });
    assert.deepEqual(
      again.map((c) => [c.kind, c.resealed, c.current, c.unreadable.length]),
      [
        ['authenticator', 0, 1, 0],
        ['staff-totp', 0, 1, 0],
        ['oidc-client-secret', 0, 1, 0],
        ['oidc-signing-key', 0, 2, 0],
      ],
    );
  });

  test('after the reseal everything works with the old secret gone', async () => {
    const t = await startNewOnly();
    const done = await signInWithApp(t, appAccount.account, appAccount.secret);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(errorCodeOf(await tokenRequest(t, service.id, service.secret)), 'invalid_grant');
    const signedIn = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: appCode(t, staff.secret as string) },
    });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    // Its signing keys reload at the next tick: both are readable now.
    const { keys, unreadable } = await loadKeys(t);
    assert.equal(keys, 2);
    assert.equal(unreadable, 0);
  });

  test('a value no configured secret opens is reported by id and left as it was', async () => {
    const stranger = { ...old.config, secret: 'a-third-secret-nobody-configured-0123456789' };
    const { service: lost } = await registerService(
      { store: old.app.services.store, clock: old.clock, config: stranger },
      { name: 'Sealed elsewhere', kind: 'confidential', redirectUris: [REDIRECT_URI] },
      'test',
    );
    const counts = await resealAll({ store: rotated.app.services.store, config: rotated.config }, { batchSize: 100 });
    const clients = counts.find((c) => c.kind === 'oidc-client-secret');
    assert.deepEqual(clients?.unreadable, [lost.id]);
    assert.equal(clients?.current, 1);
    assert.equal((await old.app.services.store.relyingServices.find(lost.id))?.secretSealed, lost.secretSealed);
  });
});

describe('logs', () => {
  test('no secret of the rotation, old or new, nor anything it protects appears in any log', () => {
    const logs = [old, rotated, newOnly].map((app) => app.logText()).join('\n');
    assert.ok(logs.length > 1000, 'the nodes logged their requests');
    for (const [value, label] of secrets) assert.ok(!logs.includes(value), `${label} is in the log`);
  });
});

async function loadKeys(t: TestApp): Promise<{ keys: number; unreadable: number }> {
  const loaded = await loadSigningKeys({ store: t.app.services.store, config: t.config, clock: t.clock });
  return { keys: loaded.keys.length, unreadable: loaded.unreadable };
}

function errorCodeOf(response: LightMyRequestResponse): string | undefined {
  return (JSON.parse(response.body) as { error?: string }).error;
}
