// The limited profile support sees (SPEC §3.15): 2SV status, trusted devices, masked phone numbers,
// signed-in sessions and recent activity, on the console page and in the API; and none of the
// account's secrets: password (or its hash), recovery key, session token, device credential or key,
// full phone number.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { pairDevice } from '../helpers/devices.ts';
import { bearer } from '../helpers/journeys.ts';
import { registerSoftKey } from '../helpers/security-keys.ts';
import { createTestStaff, staffBrowser, staffToken, type TestStaff } from '../helpers/staff.ts';
import { enrolTwoStep } from '../helpers/two-step.ts';

let t: TestApp;
let agent: TestStaff;
before(async () => {
  t = await startTestApp();
  agent = await createTestStaff(t, 'support');
});
after(() => t.close());

/** One part of the profile page: from its heading to the next heading or the end of its card. */
function section(page: string, heading: string): string {
  const start = page.indexOf(`<h2>${heading}</h2>`);
  assert.ok(start >= 0, `no section ${heading}`);
  const rest = page.slice(start + heading.length + 9);
  const ends = [rest.indexOf('<h2>'), rest.indexOf('</section>')].filter((i) => i >= 0);
  return rest.slice(0, Math.min(...ends));
}

describe('the profile support sees', () => {
  test('shows devices, masked phones, sessions and recent activity, and no secret', async () => {
    const owner = await enrolTwoStep(t);
    const device = await pairDevice(t, owner.token, 'Kitchen tablet');
    const account = await t.app.services.store.accounts.findByEmail(owner.email);
    assert.ok(account);
    const [session] = await t.app.services.store.sessions.listActive(account.id);
    assert.ok(session?.user_agent, 'the owner has a session with a browser');
    const secrets = [
      owner.password,
      owner.recoveryKey,
      owner.token,
      owner.token.split('.')[1] as string,
      device.credential,
      device.keys.publicKey.x,
      owner.phone,
      owner.phone.slice(1),
      account.password_hash as string,
    ];

    const browser = await staffBrowser(t, agent);
    const page = await browser.get(`/console/accounts/${account.id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /data-two-step="on"/);

    const devices = section(page.body, 'Trusted devices');
    assert.match(devices, /<li>Kitchen tablet \(Node test\) · not verified · /);
    const phones = section(page.body, 'Trusted phone numbers');
    assert.match(phones, new RegExp(`<li>•••• ${owner.phone.slice(-2)} · trusted</li>`));
    const sessions = section(page.body, 'Signed in');
    assert.match(sessions, new RegExp(`<time datetime="${session.created_at.toISOString()}">`));
    assert.ok(sessions.includes(session.user_agent), 'the session’s browser is shown');
    assert.ok(session.ip && sessions.includes(session.ip), 'the session’s address is shown');

    const activity = section(page.body, 'Recent activity');
    for (const label of ['Two-step verification was turned on', 'A device was paired', 'Signed in']) {
      assert.match(activity, new RegExp(`<tr><td>${label}</td><td><code>account:${account.id}</code>`), label);
    }
    for (const secret of secrets)
      assert.ok(!page.body.includes(secret), `the page shows a secret: ${secret.slice(0, 12)}…`);

    const api = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts/${account.id}`,
      headers: bearer(await staffToken(t, agent)),
    });
    assert.equal(api.statusCode, 200);
    const profile = api.json();
    assert.deepEqual(
      profile.devices.map((d: { name: string; model: string; trusted: boolean }) => [d.name, d.model, d.trusted]),
      [['Kitchen tablet', 'Node test', false]],
    );
    assert.deepEqual(profile.phones, [{ number: `•••• ${owner.phone.slice(-2)}`, verified: true }]);
    assert.equal(profile.sessions.length, 1);
    assert.equal(profile.sessions[0].userAgent, session.user_agent);
    assert.ok(profile.activity.some((e: { event: string }) => e.event === 'two_step.enabled'));
    for (const secret of secrets)
      assert.ok(!api.body.includes(secret), `the API shows a secret: ${secret.slice(0, 12)}…`);
  });

  test('lists security keys and passkeys by name and counts authenticator apps, never a key', async () => {
    const owner = await enrolTwoStep(t);
    await registerSoftKey(t, owner.token, { key: { discoverable: true } });
    const account = await t.app.services.store.accounts.findByEmail(owner.email);
    assert.ok(account);
    const [stored] = await t.app.services.store.securityKeys.listForAccount(account.id);
    assert.ok(stored);
    const browser = await staffBrowser(t, agent);
    const page = await browser.get(`/console/accounts/${account.id}`);
    assert.match(section(page.body, 'Security keys and passkeys'), /<li>Blue key · passkey · /);
    assert.match(page.body, /Authenticator apps: 0/);
    const api = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts/${account.id}`,
      headers: bearer(await staffToken(t, agent)),
    });
    assert.deepEqual(
      api.json().securityKeys.map((k: { name: string; passkey: boolean }) => [k.name, k.passkey]),
      [['Blue key', true]],
    );
    for (const secret of [stored.publicKey, stored.credentialId]) {
      assert.ok(!page.body.includes(secret), 'the page shows the key');
      assert.ok(!api.body.includes(secret), 'the API shows the key');
    }
  });
});
