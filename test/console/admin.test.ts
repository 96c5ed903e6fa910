// Admin pages (SPEC §3.15–3.16): a support agent reaches none of them (403 STAFF_ROLE_REQUIRED, pages
// and API); an admin runs the rollout by the same rules as the CLI, adds staff (who must set up an
// authenticator at first sign-in), and reads the effective configuration with secrets masked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { bearer } from '../helpers/journeys.ts';
import { createTestStaff, staffBrowser, staffToken } from '../helpers/staff.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe('admin pages', () => {
  test('a support agent cannot reach any admin page or admin API call', async () => {
    const agent = await createTestStaff(t, 'support');
    const browser = await staffBrowser(t, agent);
    const token = await staffToken(t, agent);
    for (const url of [
      '/console/audit',
      '/console/audit.csv',
      '/console/admin/rollout',
      '/console/admin/services',
      '/console/admin/staff',
      '/console/admin/policy',
    ]) {
      const page = await browser.get(url);
      assert.equal(page.statusCode, 403, url);
      assert.match(page.body, /STAFF_ROLE_REQUIRED/, url);
    }
    const csrf = await browser.formToken('/console/accounts');
    for (const [url, fields] of [
      ['/console/admin/rollout', { country: 'NL', twoStep: 'off' }],
      ['/console/admin/rollout/preset', { preset: 'apple-2013' }],
      ['/console/admin/services', { name: 'Evil', redirectUris: 'https://evil.example/cb' }],
      ['/console/admin/staff', { email: 'new.admin@example.com', name: 'New', role: 'admin' }],
      [`/console/admin/staff/${agent.id}/role`, { role: 'admin' }],
    ] as const) {
      const response = await browser.postForm(url, { _csrf: csrf, ...fields });
      assert.equal(response.statusCode, 403, url);
    }
    for (const [method, url] of [
      ['GET', '/api/v1/console/audit'],
      ['GET', '/api/v1/console/rollout'],
      ['GET', '/api/v1/console/staff'],
      ['POST', '/api/v1/console/rollout/NL'],
      ['POST', '/api/v1/console/rollout/presets/apple-2013'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        headers: bearer(token),
        ...(method === 'POST' ? { payload: { twoStep: false } } : {}),
      });
      assert.equal(response.statusCode, 403, url);
      assert.equal(response.json().error.code, 'STAFF_ROLE_REQUIRED');
    }
    assert.equal((await t.app.services.store.rollout.get('NL')).twoStep, true);
    assert.equal((await t.app.services.store.staff.findById(agent.id))?.role, 'support');
  });

  test('an admin changes the rollout of a country; it is audited with the admin as actor', async () => {
    const admin = await createTestStaff(t, 'admin');
    const browser = await staffBrowser(t, admin);
    const changed = await browser.postForm('/console/admin/rollout', {
      _csrf: await browser.formToken('/console/admin/rollout'),
      country: 'be',
      twoStep: 'off',
      sms: '',
    });
    assert.equal(changed.statusCode, 303, changed.body.slice(0, 300));
    const be = await t.app.services.store.rollout.get('BE');
    assert.equal(be.twoStep, false);
    assert.equal(be.sms, true);
    const bad = await browser.postForm('/console/admin/rollout', {
      _csrf: await browser.formToken('/console/admin/rollout'),
      country: 'XX',
      twoStep: 'off',
    });
    assert.equal(bad.statusCode, 400);
    const token = await staffToken(t, admin);
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/console/rollout/BE',
      headers: bearer(token),
      payload: { twoStep: true },
    });
    assert.equal(api.statusCode, 200, api.body);
    assert.equal(api.json().twoStep, true);
    const audit = await t.request({
      method: 'GET',
      url: `/api/v1/console/audit?actor=staff:${admin.id}&event=rollout.changed`,
      headers: bearer(token),
    });
    assert.equal(audit.json().events.length, 2);
  });

  test('an admin adds a support agent, who must set up an authenticator before entering', async () => {
    const admin = await createTestStaff(t, 'admin');
    const browser = await staffBrowser(t, admin);
    const email = `new.agent.${Date.now()}@example.com`;
    const added = await browser.postForm('/console/admin/staff', {
      _csrf: await browser.formToken('/console/admin/staff'),
      email,
      name: 'New Agent',
      role: 'support',
    });
    assert.equal(added.statusCode, 200, added.body.slice(0, 300));
    const password = /data-password>([^<]+)</.exec(added.body)?.[1];
    assert.ok(password);
    const member = await t.app.services.store.staff.findByEmail(email);
    assert.equal(member?.role, 'support');
    assert.equal(member?.totp_confirmed_at, null);
    const api = await t.request({
      method: 'POST',
      url: '/api/v1/console/signin',
      payload: { email, password, code: '000000' },
    });
    assert.equal(api.json().error.code, 'STAFF_TWO_STEP_SETUP_REQUIRED');
  });

  test('the last admin can be neither demoted nor disabled', async () => {
    const fresh = await startTestApp();
    try {
      const admin = await createTestStaff(fresh, 'admin');
      const browser = await staffBrowser(fresh, admin);
      const demote = await browser.postForm(`/console/admin/staff/${admin.id}/role`, {
        _csrf: await browser.formToken('/console/admin/staff'),
        role: 'support',
      });
      assert.equal(demote.statusCode, 409);
      assert.match(demote.body, /STAFF_LAST_ADMIN/);
    } finally {
      await fresh.close();
    }
  });

  test('the policy page shows the effective configuration with every secret masked', async () => {
    const admin = await createTestStaff(t, 'admin');
    const browser = await staffBrowser(t, admin);
    const page = await browser.get('/console/admin/policy');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /TWOSTEP_SECRET/);
    assert.match(page.body, /SIGNIN_FREE_FAILURES/);
    assert.ok(!page.body.includes(TEST_SECRET));
    assert.ok(!page.body.includes(TEST_SECRET.slice(0, 16)));
  });

  test('an admin registers a relying service; its secret is shown once', async () => {
    const admin = await createTestStaff(t, 'admin');
    const browser = await staffBrowser(t, admin);
    const added = await browser.postForm('/console/admin/services', {
      _csrf: await browser.formToken('/console/admin/services'),
      name: 'Messages',
      redirectUris: 'https://messages.example/callback',
    });
    assert.equal(added.statusCode, 200, added.body.slice(0, 300));
    const secret = /data-client-secret>([^<]+)</.exec(added.body)?.[1];
    assert.ok(secret);
    const list = await browser.get('/console/admin/services');
    assert.match(list.body, /Messages/);
    assert.ok(!list.body.includes(secret));
  });
});
