// The console's audit browser (SPEC §3.15): every staff action is an audit event naming the staff
// member; admins filter events by account, actor, event and time, and export them as CSV, itself
// recorded. A cell that a spreadsheet would run as a formula is defused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { csvCell } from '../../src/flows/staff/audit-browser.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount } from '../helpers/journeys.ts';
import { createTestStaff, staffBrowser, staffToken } from '../helpers/staff.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe('audit browser', () => {
  test('filters by account, actor, event and time; pages back; refuses malformed filters', async () => {
    const agent = await createTestStaff(t, 'support');
    const agentToken = await staffToken(t, agent);
    const owner = await createVerifiedAccount(t, { name: '=HYPERLINK("https://evil.example")' });
    const account = await t.app.services.store.accounts.findByEmail(owner.email);
    assert.ok(account);
    await t.request({
      method: 'POST',
      url: `/api/v1/console/accounts/${account.id}/sessions/revoke`,
      headers: bearer(agentToken),
    });
    await t.request({ method: 'GET', url: `/api/v1/console/accounts/${account.id}`, headers: bearer(agentToken) });

    const admin = await createTestStaff(t, 'admin');
    const token = await staffToken(t, admin);
    const get = (query: string) =>
      t.request({ method: 'GET', url: `/api/v1/console/audit?${query}`, headers: bearer(token) });
    const byAccount = (await get(`account=${account.id}`)).json().events as { event: string; actor: string }[];
    assert.deepEqual(
      byAccount.map((e) => e.event).filter((e) => e.startsWith('support.')),
      ['support.account_viewed', 'support.sessions_revoked'],
    );
    const byActor = (await get(`actor=staff:${agent.id}&event=support.`)).json().events as { event: string }[];
    assert.equal(byActor.length, 2);
    const exact = (await get(`actor=staff:${agent.id}&event=support.sessions_revoked`)).json().events;
    assert.equal(exact.length, 1);
    const future = (await get(`from=${new Date(t.clock.now().getTime() + 86_400_000).toISOString()}`)).json().events;
    assert.equal(future.length, 0);
    const page = (await get(`account=${account.id}`)).json().events as { id: string }[];
    const older = (await get(`account=${account.id}&before=${page[0]?.id}`)).json().events as { id: string }[];
    assert.equal(older.length, page.length - 1);
    for (const bad of ['from=yesterday', 'event=DROP%20TABLE', 'actor=%00', 'before=-1', 'account=%25']) {
      const response = await get(bad);
      assert.equal(response.statusCode, 400, bad);
      assert.equal(response.json().error.code, 'VALIDATION_FAILED');
    }
  });

  test('a time filter includes the whole of the days it names, at both ends', async () => {
    const agent = await createTestStaff(t, 'support');
    const revokeAt = async (at: number): Promise<void> => {
      const owner = await createVerifiedAccount(t);
      const account = await t.app.services.store.accounts.findByEmail(owner.email);
      assert.ok(account);
      // Sign in just before (a console session idles out), then act at exactly that millisecond.
      t.clock.advance(Math.max(0, at - 300_000 - t.clock.now().getTime()));
      const token = await staffToken(t, agent);
      t.clock.advance(at - t.clock.now().getTime());
      const response = await t.request({
        method: 'POST',
        url: `/api/v1/console/accounts/${account.id}/sessions/revoke`,
        headers: bearer(token),
      });
      assert.equal(response.statusCode, 200, response.body);
    };
    // The last millisecond of a day and the first of the next (UTC): the bounds a day filter must get right.
    const midnight = Math.ceil((t.clock.now().getTime() + 3_600_000) / 86_400_000) * 86_400_000;
    await revokeAt(midnight - 1);
    await revokeAt(midnight);
    const day = (offset: number): string => new Date(midnight + (offset - 1) * 86_400_000).toISOString().slice(0, 10);
    const admin = await createTestStaff(t, 'admin');
    const token = await staffToken(t, admin);
    const times = async (query: string): Promise<string[]> => {
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/console/audit?actor=staff:${agent.id}&event=support.sessions_revoked&${query}`,
        headers: bearer(token),
      });
      assert.equal(response.statusCode, 200, response.body);
      return (response.json().events as { at: string }[]).map((e) => e.at).sort();
    };
    const lastOfDay = new Date(midnight - 1).toISOString();
    const firstOfNext = new Date(midnight).toISOString();
    assert.deepEqual(await times(`from=${day(0)}&to=${day(0)}`), [lastOfDay], 'the chosen day, to its last moment');
    assert.deepEqual(await times(`from=${day(1)}&to=${day(1)}`), [firstOfNext], 'the next day, from its first');
    assert.deepEqual(await times(`from=${day(0)}&to=${day(1)}`), [lastOfDay, firstOfNext]);
    assert.deepEqual(await times(`to=${day(-1)}`), [], 'the day before holds neither');
    assert.deepEqual(await times(`from=${day(2)}`), [], 'the day after holds neither');
    assert.deepEqual(await times(`from=${lastOfDay}&to=${lastOfDay}`), [lastOfDay], 'a full time includes its instant');
    assert.deepEqual(await times(`to=${encodeURIComponent(firstOfNext)}`), [lastOfDay, firstOfNext]);
  });

  test('the page shows events and the CSV export is recorded', async () => {
    const admin = await createTestStaff(t, 'admin');
    const browser = await staffBrowser(t, admin);
    const page = await browser.get(`/console/audit?actor=staff:${admin.id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /staff\.signed_in/);
    const csv = await browser.get(`/console/audit.csv?actor=staff:${admin.id}`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /attachment/);
    const [header, ...rows] = csv.body.trim().split('\r\n');
    assert.equal(header, '"id","at","event","account","actor","ip","user_agent","details"');
    assert.ok(rows.some((r) => r.includes('"staff.signed_in"')));
    const events = await t.app.services.store.console.searchAudit({
      actor: `staff:${admin.id}`,
      event: 'staff.audit_exported',
      limit: 5,
    });
    assert.equal(events.length, 1);
  });

  test('CSV cells are quoted and formulas defused', () => {
    assert.equal(csvCell('plain'), '"plain"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
    for (const start of ['+', '-', '@', '\t', '\r']) assert.ok(csvCell(`${start}1`).startsWith(`"'`));
  });
});
