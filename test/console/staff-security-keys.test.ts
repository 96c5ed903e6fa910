// Staff may answer the second step of a console sign-in with a security key (SPEC §3.15: device, TOTP
// or security key). Through the console's pages, answered by the software authenticator of
// test/helpers/webauthn.ts and checked by the real verifier: a member registers and removes keys
// (audited, never the last second step), signs in with one instead of the code, and what an attacker
// tries is refused: a replayed answer, another member's key, a customer's key, another origin, a
// cloned key's counter, guessing past the attempt budget, or adding a TOTP with the password alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer } from '../helpers/journeys.ts';
import { registerSoftKey } from '../helpers/security-keys.ts';
import {
  consoleSession,
  createTestStaff,
  freshCode,
  staffBrowser,
  staffToken,
  type TestStaff,
} from '../helpers/staff.ts';
import { enrolTwoStep } from '../helpers/two-step.ts';
import { type SoftKey, softKey } from '../helpers/webauthn.ts';
import { Browser } from '../security/support.ts';

const METHODS = '/console/sign-in-methods';
let t: TestApp;
let origin: string;
before(async () => {
  t = await startTestApp();
  origin = new URL(t.config.publicUrl).origin;
});
after(() => t.close());

function unescapeHtml(value: string): string {
  return value.replace(/&(quot|#39|lt|gt|amp);/g, (_, name: string) => {
    const map: Record<string, string> = { quot: '"', '#39': "'", lt: '<', gt: '>', amp: '&' };
    return map[name] ?? '';
  });
}

/** The WebAuthn options the form posting to `action` carries (what public/webauthn.js would run). */
function optionsOn(body: string, action: string): Record<string, unknown> {
  const form = new RegExp(`<form method="post" action="${action}"[^>]*data-options="([^"]*)"`).exec(body);
  assert.ok(form, `no WebAuthn form for ${action}`);
  return JSON.parse(unescapeHtml(form[1] as string));
}

async function addKey(browser: Browser, key: SoftKey, name = 'Desk key') {
  const started = await browser.postForm(`${METHODS}/keys/new`, { _csrf: await browser.formToken(METHODS), name });
  assert.equal(started.statusCode, 200, started.body.slice(0, 300));
  const options = optionsOn(started.body, `${METHODS}/keys`);
  return browser.postForm(`${METHODS}/keys`, {
    _csrf: await browser.formToken(METHODS),
    name,
    credential: JSON.stringify(key.register(options)),
  });
}

async function memberWithKey(role: 'support' | 'admin' = 'support') {
  const staff = await createTestStaff(t, role);
  const key = softKey({ origin });
  const browser = await staffBrowser(t, staff);
  const added = await addKey(browser, key);
  assert.equal(added.statusCode, 303, added.body.slice(0, 300));
  assert.equal(added.headers.location, `${METHODS}?done=added`);
  return { staff, key, browser };
}

/** The password step in a fresh browser: a pending sign-in at the second step. */
async function afterPassword(staff: TestStaff) {
  const browser = new Browser(t);
  const first = await browser.postForm('/console/signin', {
    _csrf: await browser.formToken('/console/signin'),
    email: staff.email,
    password: staff.password,
  });
  assert.equal(first.statusCode, 303, first.body.slice(0, 300));
  const page = await browser.get('/console/signin/code');
  return { browser, location: first.headers.location, page };
}

function keyOptions(page: { body: string }): Record<string, unknown> {
  return optionsOn(page.body, '/console/signin/key');
}

async function answerWithKey(browser: Browser, credential: Record<string, unknown>) {
  return browser.postForm('/console/signin/key', {
    _csrf: await browser.formToken('/console/signin/code'),
    credential: JSON.stringify(credential),
  });
}

async function lastEvent(actor: string, event: string) {
  const [found] = await t.app.services.store.console.searchAudit({ actor, event, limit: 1 });
  return found;
}

describe('a staff member registers security keys in the console', () => {
  test('the key is listed with its name, when it was added and last used, and the addition is audited', async () => {
    const { staff, browser } = await memberWithKey();
    const page = await browser.get(`${METHODS}?done=added`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /The security key was added\./);
    assert.match(page.body, /<td>Desk key<\/td><td><time datetime="[^"]+">[^<]+ UTC<\/time><\/td><td>never<\/td>/);
    assert.match(page.body, /data-totp="on"/);
    const audit = await lastEvent(`staff:${staff.id}`, 'staff.security_key_added');
    assert.ok(audit, 'no audit event');
    assert.equal(audit.accountId, null);
    assert.equal((audit.details as { name?: string }).name, 'Desk key');
    // Another member's page does not show it.
    const other = await staffBrowser(t, await createTestStaff(t, 'support'));
    assert.doesNotMatch((await other.get(METHODS)).body, /Desk key/);
  });

  test('the same key twice, an answer made for another session, or a stale session is refused', async () => {
    const { staff, key, browser } = await memberWithKey();
    const again = await addKey(browser, key);
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /This security key is already registered/);
    // Options made for one console session do not register a key in another.
    const second = await staffBrowser(t, staff);
    const started = await browser.postForm(`${METHODS}/keys/new`, {
      _csrf: await browser.formToken(METHODS),
      name: 'Green key',
    });
    const stolen = softKey({ origin }).register(optionsOn(started.body, `${METHODS}/keys`));
    const elsewhere = await second.postForm(`${METHODS}/keys`, {
      _csrf: await second.formToken(METHODS),
      name: 'Green key',
      credential: JSON.stringify(stolen),
    });
    assert.equal(elsewhere.statusCode, 400);
    // A session opened more than 15 minutes ago must sign in again before changing how it signs in.
    t.clock.advance(16 * 60_000);
    const stale = await browser.postForm(`${METHODS}/keys/new`, {
      _csrf: await browser.formToken(METHODS),
      name: 'Late key',
    });
    assert.equal(stale.statusCode, 403);
    assert.match(stale.body, /Sign in again first/);
    const keys = await t.app.services.store.staffSecurityKeys.listForStaff(staff.id);
    assert.deepEqual(
      keys.map((k) => k.name),
      ['Desk key'],
    );
  });
});

describe('signing in to the console with a security key', () => {
  test('after the password, the key answers instead of the code and opens the console; its last use is shown', async () => {
    const { staff, key } = await memberWithKey();
    const { browser, location, page } = await afterPassword(staff);
    assert.equal(location, '/console/signin/code');
    assert.match(page.body, /name="code"/, 'the code stays possible');
    assert.match(page.body, /\/static\/webauthn\.js/);
    const options = keyOptions(page);
    assert.deepEqual(
      (options.allowCredentials as { id: string }[]).map((c) => c.id),
      [key.credentialId],
      'only this member’s keys are offered',
    );
    const done = await answerWithKey(browser, key.authenticate(options));
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    assert.equal(done.headers.location, '/console/accounts');
    assert.ok(consoleSession(browser));
    assert.equal((await browser.get('/console/accounts')).statusCode, 200);
    assert.doesNotMatch((await browser.get(METHODS)).body, /<td>never<\/td>/);
    assert.ok(await lastEvent(`staff:${staff.id}`, 'staff.signed_in'));
  });

  test('a replayed answer, another member’s key, another origin or a cloned key’s counter is refused', async () => {
    const { staff, key } = await memberWithKey();
    const { key: othersKey } = await memberWithKey();
    const first = await afterPassword(staff);
    const used = key.authenticate(keyOptions(first.page));
    assert.equal((await answerWithKey(first.browser, used)).statusCode, 303);

    const attempt = await afterPassword(staff);
    // Each refusal answers options of its own (a challenge answers once, right or wrong).
    const fresh = async () => keyOptions(await attempt.browser.get('/console/signin/code'));
    const refusals: [string, Record<string, unknown>][] = [
      ['a replayed answer', used],
      ['another member’s key', othersKey.authenticate(await fresh())],
      ['another origin', key.authenticate(await fresh(), { origin: 'https://twostep.example.net' })],
      ['a counter that did not move forward', key.authenticate(await fresh(), { signCount: 1 })],
    ];
    for (const [what, credential] of refusals) {
      const refused = await answerWithKey(attempt.browser, credential);
      assert.equal(refused.statusCode, 400, what);
      assert.match(refused.body, /role="alert">The answer of the security key could not be verified/, what);
      assert.equal(consoleSession(attempt.browser), undefined, what);
    }
    const failed = await lastEvent(`staff:${staff.id}`, 'staff.signin_failed');
    assert.equal((failed?.details as { step?: string } | undefined)?.step, 'security_key');
    // The member's own key still works on the same pending sign-in.
    assert.equal((await answerWithKey(attempt.browser, key.authenticate(await fresh()))).statusCode, 303);
  });

  test('a customer’s security key never answers for a staff member', async () => {
    const staff = await createTestStaff(t, 'support');
    const browser = await staffBrowser(t, staff);
    assert.equal((await addKey(browser, softKey({ origin }))).statusCode, 303);
    const customer = await enrolTwoStep(t);
    const { key: customerKey } = await registerSoftKey(t, customer.token, { name: 'Customer key' });
    const attempt = await afterPassword(staff);
    const refused = await answerWithKey(attempt.browser, customerKey.authenticate(keyOptions(attempt.page)));
    assert.equal(refused.statusCode, 400);
    assert.equal(consoleSession(attempt.browser), undefined);
  });

  test('wrong keys draw on the same attempt budget as wrong codes', async () => {
    const { staff } = await memberWithKey();
    const attempt = await afterPassword(staff);
    const stranger = softKey({ origin });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1)
      statuses.push((await answerWithKey(attempt.browser, stranger.authenticate(keyOptions(attempt.page)))).statusCode);
    assert.deepEqual(statuses.slice(0, 9), Array(9).fill(400));
    assert.equal(statuses[9], 429, 'the password and nine keys use up the ten attempts');
    const code = await attempt.browser.postForm('/console/signin/code', {
      _csrf: await attempt.browser.formToken('/console/signin/code'),
      code: freshCode(t, staff.secret as string),
    });
    assert.equal(code.statusCode, 429, 'the code step shares the budget');
  });
});

describe('a member keeps at least one second step', () => {
  test('with a key, the authenticator app can go; the last key then cannot, and the key alone signs in', async () => {
    const { staff, key, browser } = await memberWithKey();
    const removeTotp = await browser.postForm(`${METHODS}/totp/remove`, { _csrf: await browser.formToken(METHODS) });
    assert.equal(removeTotp.statusCode, 303, removeTotp.body.slice(0, 300));
    assert.ok(await lastEvent(`staff:${staff.id}`, 'staff.totp_removed'));
    assert.match((await browser.get(METHODS)).body, /data-totp="off"/);
    assert.equal((await browser.get('/console/accounts')).statusCode, 200, 'the session stays: a key remains');

    const [only] = await t.app.services.store.staffSecurityKeys.listForStaff(staff.id);
    const last = await browser.postForm(`${METHODS}/keys/${only?.id}/remove`, {
      _csrf: await browser.formToken(METHODS),
    });
    assert.equal(last.statusCode, 409);
    assert.match(last.body, /last way to pass the second step/);
    assert.equal((await t.app.services.store.staffSecurityKeys.listForStaff(staff.id)).length, 1);

    // Signing in: no code field, no authenticator setup for the password alone, and the key works.
    const attempt = await afterPassword(staff);
    assert.equal(attempt.location, '/console/signin/code');
    assert.doesNotMatch(attempt.page.body, /name="code"/);
    assert.match(attempt.page.body, /<h1>Security key<\/h1>/);
    assert.equal((await attempt.browser.get('/console/signin/setup')).headers.location, '/console/signin/code');
    const setup = await attempt.browser.postForm('/console/signin/setup', {
      _csrf: await attempt.browser.formToken('/console/signin/code'),
      code: '123456',
    });
    assert.equal(setup.headers.location, '/console/signin', 'no authenticator setup with the password alone');
    assert.equal((await t.app.services.store.staff.findById(staff.id))?.totp_secret_sealed, null);
    const code = await attempt.browser.postForm('/console/signin/code', {
      _csrf: await attempt.browser.formToken('/console/signin/code'),
      code: freshCode(t, staff.secret as string),
    });
    assert.equal(code.statusCode, 400, 'the old authenticator’s code no longer opens anything');
    assert.equal(consoleSession(attempt.browser), undefined);
    const done = await answerWithKey(attempt.browser, key.authenticate(keyOptions(attempt.page)));
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));
    assert.equal((await attempt.browser.get('/console/accounts')).statusCode, 200);
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email: staff.email, password: staff.password, code: freshCode(t, staff.secret as string) },
    });
    assert.equal(api.json().error.code, 'STAFF_TWO_STEP_SETUP_REQUIRED', 'the API takes authenticator codes only');
    // The admins' staff list counts the key as the member's second step.
    const admin = await staffToken(t, await createTestStaff(t, 'admin'));
    const list = await t.request({ method: 'GET', url: '/api/v1/console/staff', headers: bearer(admin) });
    const listed = (list.json().staff as { id: string; twoStep: boolean }[]).find((m) => m.id === staff.id);
    assert.equal(listed?.twoStep, true);
  });

  test('with the authenticator app, a key can be removed (audited); another member’s key cannot', async () => {
    const { staff, browser } = await memberWithKey();
    const { staff: other } = await memberWithKey();
    const [othersKey] = await t.app.services.store.staffSecurityKeys.listForStaff(other.id);
    const foreign = await browser.postForm(`${METHODS}/keys/${othersKey?.id}/remove`, {
      _csrf: await browser.formToken(METHODS),
    });
    assert.equal(foreign.statusCode, 404);
    assert.equal((await t.app.services.store.staffSecurityKeys.listForStaff(other.id)).length, 1);
    const [mine] = await t.app.services.store.staffSecurityKeys.listForStaff(staff.id);
    const removed = await browser.postForm(`${METHODS}/keys/${mine?.id}/remove`, {
      _csrf: await browser.formToken(METHODS),
    });
    assert.equal(removed.statusCode, 303);
    assert.equal((await t.app.services.store.staffSecurityKeys.listForStaff(staff.id)).length, 0);
    assert.ok(await lastEvent(`staff:${staff.id}`, 'staff.security_key_removed'));
    // Without a key, the authenticator app is the last second step and stays.
    const totp = await browser.postForm(`${METHODS}/totp/remove`, { _csrf: await browser.formToken(METHODS) });
    assert.equal(totp.statusCode, 409);
    assert.ok((await t.app.services.store.staff.findById(staff.id))?.totp_confirmed_at);
  });
});
