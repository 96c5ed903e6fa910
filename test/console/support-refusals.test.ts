// Support cannot take over an account with two-step verification (SPEC §3.15, §3.10; SECURITY.md
// item 38): every staff endpoint, page or API, is walked as a support agent and as an admin against
// a locked 2SV account. Afterwards the password, email, state, factors, recovery key and two-step
// status are exactly as before, no reset link was sent, and the takeover actions were refused with
// SUPPORT_RESET_FORBIDDEN, recorded, shown to the owner and emailed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, outboxFor } from '../helpers/journeys.ts';
import { createTestStaff, staffBrowser, staffToken, type TestStaff } from '../helpers/staff.ts';
import { enrolTwoStep, type TwoStepAccount } from '../helpers/two-step.ts';

let t: TestApp;
let owner: TwoStepAccount;
let ownerId: string;
before(async () => {
  t = await startTestApp();
  owner = await enrolTwoStep(t);
  const account = await t.app.services.store.accounts.findByEmail(owner.email);
  assert.ok(account);
  ownerId = account.id;
  // Locked after too many wrong codes: the case where a caller is most likely to ask support for help.
  assert.ok(await t.app.services.store.accounts.lock(ownerId, t.clock.now()));
});
after(() => t.close());

/** Every route of the server with its methods, read from Fastify's route tree. */
export function routeTable(server: FastifyInstance): { path: string; methods: string[] }[] {
  const stack: string[] = [];
  const routes: { path: string; methods: string[] }[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = Math.round(at / 4);
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3));
    if (!match) continue;
    stack.length = depth;
    stack[depth] = match[1] as string;
    const path = stack.join('').replace(/\/\/+/g, '/');
    if (match[2]) routes.push({ path, methods: match[2].split(', ').filter((m) => m !== 'HEAD') });
  }
  return routes;
}

async function snapshot() {
  const { store } = t.app.services;
  const account = await store.accounts.findById(ownerId);
  assert.ok(account);
  return {
    email: account.email,
    passwordHash: account.password_hash,
    state: account.state,
    twoStep: account.two_step_enabled_at?.toISOString(),
    recoveryKey: account.recovery_key_hash,
    devices: (await store.devices.listForAccount(ownerId)).map((d) => [d.id, d.trustedAt?.toISOString()]),
    phones: (await store.phones.listForAccount(ownerId)).map((p) => [p.id, p.e164, p.verifiedAt?.toISOString()]),
  };
}

const TAKEOVER_FIELDS = {
  password: 'a brand new passphrase 1',
  newPassword: 'a brand new passphrase 1',
  email: 'attacker@example.com',
  newEmail: 'attacker@example.com',
  code: '123456',
  recoveryKey: 'ABCD-EFGH-JKMN-PQ',
  phone: '+31612345678',
  number: '+31612345678',
  twoStep: false,
  enabled: false,
  role: 'admin',
  _csrf: '',
};

function fill(path: string): string {
  return path.replace(':id', ownerId).replace(':country', 'NL').replace(':preset', 'apple-2013');
}

describe('support cannot take over an account with two-step verification', () => {
  for (const role of ['support', 'admin'] as const) {
    test(`as ${role}: every console page and API call leaves the 2SV account as it was`, async () => {
      const staff: TestStaff = await createTestStaff(t, role);
      const token = await staffToken(t, staff);
      const browser = await staffBrowser(t, staff);
      const before = await snapshot();
      const routes = routeTable(t.app.server).filter(
        (r) => r.path.startsWith('/console') || r.path.startsWith('/api/v1/console'),
      );
      assert.ok(routes.length >= 25, `only ${routes.length} console routes found`);
      const refused: string[] = [];
      for (const route of routes) {
        const url = fill(route.path);
        for (const method of route.methods) {
          if (route.path.startsWith('/api/')) {
            if (url.endsWith('/signout') || url.endsWith('/signin')) continue;
            const response = await t.request({
              method: method as 'GET' | 'POST',
              url,
              headers: bearer(token),
              ...(method === 'POST' ? { payload: TAKEOVER_FIELDS } : {}),
            });
            assert.ok(response.statusCode < 500, `${method} ${url} → ${response.statusCode}`);
            if (response.statusCode === 403 && response.json().error.code === 'SUPPORT_RESET_FORBIDDEN')
              refused.push(`${method} ${route.path}`);
            continue;
          }
          if (url.endsWith('/signout')) continue;
          const response =
            method === 'GET'
              ? await browser.get(url)
              : await browser.postForm(url, {
                  ...Object.fromEntries(Object.entries(TAKEOVER_FIELDS).map(([k, v]) => [k, String(v)])),
                  _csrf: await browser.formToken('/console/accounts'),
                });
          assert.ok(response.statusCode < 500, `${method} ${url} → ${response.statusCode}`);
          if (response.statusCode === 403 && response.body.includes('SUPPORT_RESET_FORBIDDEN')) {
            refused.push(`${method} ${route.path}`);
            // The page the agent reads to the customer: the two-of-three rule.
            assert.match(response.body, /two of three/);
            assert.match(response.body, /recovery key/);
          }
        }
      }
      assert.deepEqual(refused.sort(), [
        'POST /api/v1/console/accounts/:id/password-reset-link',
        'POST /api/v1/console/accounts/:id/unlock',
        'POST /console/accounts/:id/reset-link',
        'POST /console/accounts/:id/unlock',
      ]);
      assert.deepEqual(await snapshot(), before);
      const mail = await outboxFor(t, owner.email);
      assert.ok(!mail.some((m) => m.links.some((l) => l.includes('/reset-password'))), 'a reset link was emailed');
      assert.ok(
        mail.some((m) => /asked Twostep support to reset/.test(m.body)),
        'the owner was not told',
      );
      const events = await t.app.services.store.audit.listForAccount(ownerId, { limit: 200 });
      const mine = events.filter((e) => e.actor === `staff:${staff.id}`);
      assert.equal(mine.filter((e) => e.event === 'support.action_refused').length, 4);
      assert.ok(mine.some((e) => e.event === 'support.account_viewed'));
    });
  }

  test('the owner sees the refused attempts in Recent activity', async () => {
    // The walk signed the owner out everywhere (allowed: it gives nobody access), so read what
    // GET /api/v1/activity and the activity page list: the account's audit events.
    const events = await t.app.services.store.audit.listForAccount(ownerId, { limit: 200 });
    assert.ok(events.some((e) => e.event === 'support.sessions_revoked'));
    const refused = events.filter((e) => e.event === 'support.action_refused');
    assert.ok(refused.length >= 8);
    assert.ok(refused.every((e) => e.actor.startsWith('staff:')));
  });

  test('the staff API has no operation that sets a password, a factor, the email or two-step verification', async () => {
    const doc = (await t.request({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>
      >;
    };
    const forbidden = /password|recovery|code|email|phone|device|factor|two.?step|totp|secret/i;
    const consolePaths = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1/console'));
    assert.ok(consolePaths.length >= 10);
    for (const [path, methods] of consolePaths) {
      if (path === '/api/v1/console/signin') continue; // the staff member's own sign-in
      assert.ok(
        !/password\/?$|email|phones|devices|two-step|recovery-key|factor/.test(path.replace('password-reset-link', '')),
        path,
      );
      for (const [method, op] of Object.entries(methods)) {
        const props = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {});
        // A country's availability (SPEC §3.16), not an account's factor.
        if (path === '/api/v1/console/rollout/{country}') {
          assert.deepEqual(props.sort(), ['sms', 'twoStep']);
          continue;
        }
        for (const prop of props) assert.ok(!forbidden.test(prop), `${method.toUpperCase()} ${path} takes ${prop}`);
      }
    }
  });

  test('the profile shows no secret and masks phone numbers', async () => {
    const staff = await createTestStaff(t, 'support');
    const token = await staffToken(t, staff);
    const response = await t.request({
      method: 'GET',
      url: `/api/v1/console/accounts/${ownerId}`,
      headers: bearer(token),
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.body;
    const account = await t.app.services.store.accounts.findById(ownerId);
    assert.ok(account);
    assert.ok(!body.includes(owner.phone), 'the full phone number');
    assert.ok(!body.includes(owner.phone.slice(3, 10)), 'part of the phone number');
    assert.ok(!body.includes(account.password_hash) && !body.includes(account.recovery_key_hash as string));
    assert.ok(!/argon2|hash|secret/i.test(body));
    const profile = response.json();
    assert.equal(profile.twoStep, true);
    assert.equal(profile.state, 'locked');
    assert.equal(profile.recoveryKey, true);
    assert.deepEqual(profile.phones, [{ number: `•••• ${owner.phone.slice(-2)}`, verified: true }]);
    const page = await (await staffBrowser(t, staff)).get(`/console/accounts/${ownerId}`);
    assert.ok(!page.body.includes(owner.phone));
  });
});
