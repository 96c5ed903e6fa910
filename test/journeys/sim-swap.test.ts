// SIM-swap and porting signals before a code is texted (SECURITY.md item 16, NIST SP 800-63B-4
// §3.1.3.3). The carrier lookup is a small local server speaking Twilio's Lookup v2 and the signed
// webhook (test/helpers/sim-swap-lookup.ts). When a trusted phone's SIM changed in the last
// SIM_SWAP_DAYS after the number was proven, a sign-in, step-up or recovery code is not texted: the
// user gets SIM_SWAP_SUSPECTED (on the portal, the message on the code page), the owner an email,
// the audit a `phone.sim_swap_suspected` event with the phone's id. Adding a number still texts its
// code and records the change. A lookup that is down or hangs sends anyway by default
// (SIM_SWAP_ON_FAILURE=send) and refuses the text with SIM_SWAP_ON_FAILURE=refuse.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { RawSettings } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { startRecovery } from '../helpers/recovery.ts';
import { fakeLookup } from '../helpers/sim-swap-lookup.ts';
import {
  enrolTwoStep,
  passwordStep,
  sendCode,
  smsCode,
  type TwoStepAccount,
  uniqueMobile,
} from '../helpers/two-step.ts';
import { Browser } from '../security/support.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const credentials = {
  accountSid: 'AC5e1f0c0ffee0000000000000000000',
  authToken: 'lookup-auth-token-for-tests',
  webhookSecret: 'sim-swap-webhook-secret-for-tests-0123',
};
const lookup = fakeLookup(credentials);
const twilioSettings = (): RawSettings => ({
  CODE_SEND_INTERVAL_SECONDS: '0',
  SIM_SWAP_CHECK: 'twilio',
  TWILIO_LOOKUP_BASE_URL: lookup.url(),
  TWILIO_ACCOUNT_SID: credentials.accountSid,
  TWILIO_AUTH_TOKEN: credentials.authToken,
});

// The in-memory key-value store: the cache of lookup answers then expires on the fake clock.
let t: TestApp;
before(async () => {
  await lookup.start();
  t = await startTestApp(twilioSettings(), { memoryKeyValue: true });
});
after(async () => {
  await t.close();
  await lookup.stop();
});

const NOTICE_SUBJECT = 'A code was not texted to your phone number';

interface Owner extends TwoStepAccount {
  accountId: string;
  phoneId: string;
}

/** A two-step account with its phone proven now (the lookup said "never changed", cached for 5 minutes). */
async function owner(app: TestApp = t): Promise<Owner> {
  const account = await enrolTwoStep(app);
  const me = (await app.request({ method: 'GET', url: '/api/v1/me', headers: bearer(account.token) })).json();
  const phones = (await app.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(account.token) })).json();
  assert.equal(phones.phones.length, 1);
  return { ...account, accountId: me.account.id, phoneId: phones.phones[0].id };
}

/** Ten minutes on (the cached answer has expired), the carrier reports the SIM changed `ago` before now. */
function simChanged(app: TestApp, number: string, ago: number): void {
  app.clock.advance(10 * MINUTE);
  lookup.records.set(number, { swappedAt: new Date(app.clock.now().getTime() - ago) });
}

function smsChannel(challenge: { channels: { id: string; type: string }[] }): string {
  const channel = challenge.channels.find((c) => c.type === 'sms');
  assert.ok(channel, 'the challenge offers the trusted phone');
  return channel.id;
}

async function textsTo(app: TestApp, number: string): Promise<number> {
  return (await outboxFor(app, number)).filter((m) => m.channel === 'sms').length;
}

async function simSwapEvents(app: TestApp, accountId: string) {
  return app.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('event', '=', 'phone.sim_swap_suspected')
    .orderBy('at')
    .execute();
}

function lookupsFor(number: string): number {
  return lookup.received.filter((r) => r.number === number).length;
}

function assertRefused(response: LightMyRequestResponse, channel: string): void {
  assert.equal(response.statusCode, 403, response.body);
  const { error } = response.json();
  assert.equal(error.code, 'SIM_SWAP_SUSPECTED');
  assert.match(error.message, /SIM card of this phone number was replaced/);
  assert.match(error.message, /trusted device, an authenticator app or a security key/);
  assert.equal(error.detail.channel, channel);
}

describe('a recent SIM change stops texted codes', () => {
  test('sign-in: refused with SIM_SWAP_SUSPECTED, nothing texted, the owner emailed once, every refusal audited', async () => {
    const o = await owner();
    const texted = await textsTo(t, o.phone);
    simChanged(t, o.phone, 2 * MINUTE);
    const asked = lookupsFor(o.phone);

    const challenge = await passwordStep(t, o.email, o.password);
    const refused = await sendCode(t, challenge.id, smsChannel(challenge));
    assertRefused(refused, smsChannel(challenge));
    assert.equal(await textsTo(t, o.phone), texted, 'no text message went out');
    assert.equal(lookupsFor(o.phone), asked + 1, 'the carrier was asked');
    const request = lookup.received.filter((r) => r.number === o.phone).at(-1);
    assert.equal(request?.path, `/v2/PhoneNumbers/${o.phone}?Fields=sim_swap`);
    assert.equal(lookup.refused.length, 0, 'the lookup accepted our credentials');

    const notices = (await outboxFor(t, o.email)).filter((m) => m.subject === NOTICE_SUBJECT);
    assert.equal(notices.length, 1);
    assert.match(notices[0]?.body ?? '', new RegExp(`•••• ${o.phone.slice(-2)}`));
    assert.match(notices[0]?.body ?? '', /in the last 7 days/);
    assert.ok(!notices[0]?.body.includes(o.phone), 'the email masks the number');
    assert.ok(
      notices[0]?.links.some((l) => l.includes('/not-me?token=')),
      'with a "This wasn\'t me" link',
    );

    const [event] = await simSwapEvents(t, o.accountId);
    assert.deepEqual(event?.details, { phone: o.phoneId, purpose: 'sign_in', sent: false });
    assert.ok(!JSON.stringify(event).includes(o.phone.slice(1)), 'the audit holds the phone id, never the number');

    // Again: refused from the cached answer (no second paid lookup), audited, but no second email.
    const again = await sendCode(t, challenge.id, smsChannel(challenge));
    assertRefused(again, smsChannel(challenge));
    assert.equal(lookupsFor(o.phone), asked + 1, 'answered from the cache');
    assert.equal((await simSwapEvents(t, o.accountId)).length, 2);
    assert.equal((await outboxFor(t, o.email)).filter((m) => m.subject === NOTICE_SUBJECT).length, 1);
    assert.equal(await textsTo(t, o.phone), texted);

    // Recent activity names it for the owner.
    const activity = await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(o.token) });
    assert.match(activity.body, /phone.sim_swap_suspected/);
  });

  test('step-up and recovery codes are refused the same way', async () => {
    const o = await owner();
    simChanged(t, o.phone, 5 * MINUTE);
    const stepUp = await t.request({ method: 'POST', url: '/api/v1/step-up', headers: bearer(o.token) });
    assert.equal(stepUp.statusCode, 201, stepUp.body);
    const { challenge } = stepUp.json();
    assertRefused(await sendCode(t, challenge.id, smsChannel(challenge), bearer(o.token)), smsChannel(challenge));

    const started = await startRecovery(t, o.email, o.recoveryKey);
    assert.equal(started.statusCode, 200, started.body);
    const recovery = started.json();
    const channel = smsChannel(recovery.challenge);
    const sent = await t.request({
      method: 'POST',
      url: '/api/v1/recovery/send',
      payload: { recoveryToken: recovery.recoveryToken, channel },
    });
    assertRefused(sent, channel);
    const purposes = (await simSwapEvents(t, o.accountId)).map((e) => (e.details as { purpose: string }).purpose);
    assert.deepEqual(purposes, ['step_up', recovery.challenge.purpose]);
    assert.equal((await outboxFor(t, o.email)).filter((m) => m.subject === NOTICE_SUBJECT).length, 1);
  });

  test('the portal code page says why and what to use instead, in the language of the browser', async () => {
    const o = await owner();
    simChanged(t, o.phone, MINUTE);
    for (const [language, message] of [
      [
        'en',
        /SIM card of this phone number was replaced.*Use a trusted device, an authenticator app or a security key/,
      ],
      ['nl', /De simkaart van dit telefoonnummer is kort geleden vervangen.*Gebruik een vertrouwd apparaat/],
    ] as const) {
      const browser = new Browser(t);
      const headers = { 'accept-language': language };
      const signedIn = await browser.postForm(
        '/signin',
        { _csrf: await browser.formToken('/signin'), email: o.email, password: o.password },
        { headers },
      );
      assert.equal(signedIn.headers.location, '/signin/verify');
      const page = (await browser.get('/signin/verify', headers)).body;
      const channel = /name="channel" value="(sms:[^"]+)"/.exec(page)?.[1];
      assert.ok(channel, page);
      const texted = await textsTo(t, o.phone);
      const sent = await browser.postForm(
        '/signin/verify/send',
        { _csrf: /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string, channel },
        { headers },
      );
      assert.equal(sent.statusCode, 403, sent.body);
      assert.match(sent.headers['content-type'] as string, /text\/html/);
      assert.match(sent.body, /role="alert"/);
      assert.match(sent.body.replace(/\s+/g, ' '), message);
      assert.match(sent.body, /name="code"/, 'the code form is still there for another way');
      assert.equal(await textsTo(t, o.phone), texted);
    }
  });
});

describe('what does not stop a texted code', () => {
  test('a SIM change before the window is no signal: the code is texted', async () => {
    const o = await owner();
    t.clock.advance(40 * DAY);
    simChanged(t, o.phone, 30 * DAY); // after the number was proven, but a month ago
    const texted = await textsTo(t, o.phone);
    const challenge = await passwordStep(t, o.email, o.password);
    const sent = await sendCode(t, challenge.id, smsChannel(challenge));
    assert.equal(sent.statusCode, 202, sent.body);
    assert.equal(await textsTo(t, o.phone), texted + 1);
    assert.equal((await simSwapEvents(t, o.accountId)).length, 0);
  });

  test("a SIM change before the number was proven is the owner's own: the code is texted", async () => {
    const o = await owner();
    simChanged(t, o.phone, 10 * MINUTE + DAY); // a day before the enrolment texted it a code
    const challenge = await passwordStep(t, o.email, o.password);
    assert.equal((await sendCode(t, challenge.id, smsChannel(challenge))).statusCode, 202);
  });

  test('adding a number with a recently changed SIM: its code is texted, and the change recorded', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email, fields.password);
    const number = uniqueMobile();
    lookup.records.set(number, { swappedAt: new Date(t.clock.now().getTime() - DAY) });
    const added = await t.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(token),
      payload: { number },
    });
    assert.equal(added.statusCode, 202, added.body);
    const verified = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${added.json().challenge.id}/verify`,
      headers: bearer(token),
      payload: { code: await smsCode(t, number) },
    });
    assert.equal(verified.json().phone.verified, true, verified.body);
    const accountId = (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json().account.id;
    const [event] = await simSwapEvents(t, accountId);
    assert.deepEqual(event?.details, { phone: added.json().phone.id, purpose: 'verify_phone', sent: true });
    assert.equal((await outboxFor(t, fields.email)).filter((m) => m.subject === NOTICE_SUBJECT).length, 0);
  });
});

describe('a lookup that fails', () => {
  test('down (503, retried once): by default the code is texted anyway, logged without the number and counted', async () => {
    const o = await owner();
    t.clock.advance(10 * MINUTE);
    lookup.everyNumber = { status: 503 };
    try {
      const asked = lookupsFor(o.phone);
      const texted = await textsTo(t, o.phone);
      const challenge = await passwordStep(t, o.email, o.password);
      const sent = await sendCode(t, challenge.id, smsChannel(challenge));
      assert.equal(sent.statusCode, 202, sent.body);
      assert.equal(await textsTo(t, o.phone), texted + 1);
      assert.equal(lookupsFor(o.phone), asked + 2, 'one try and one retry');
      assert.match(t.logText(), /SIM-swap lookup failed/);
      assert.ok(!t.logText().includes(o.phone), 'no full number in the log');
      const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /twostep_sim_swap_checks_total\{outcome="failed",source="lookup"\} [1-9]/);
    } finally {
      lookup.everyNumber = undefined;
    }
  });

  test('hanging: bounded by SIM_SWAP_TIMEOUT_MS; SIM_SWAP_ON_FAILURE=refuse refuses the text with SMS_DELIVERY_FAILED', async () => {
    const open = await startTestApp(
      { ...twilioSettings(), SIM_SWAP_TIMEOUT_MS: '300' },
      { shareDatabaseWith: t, memoryKeyValue: true },
    );
    const closed = await startTestApp(
      { ...twilioSettings(), SIM_SWAP_TIMEOUT_MS: '300', SIM_SWAP_ON_FAILURE: 'refuse' },
      { shareDatabaseWith: t, memoryKeyValue: true },
    );
    try {
      const o = await owner(open);
      open.clock.advance(10 * MINUTE); // past the answer the enrolment cached
      lookup.everyNumber = { hang: true };
      const texted = await textsTo(t, o.phone);

      const first = await passwordStep(open, o.email, o.password);
      let started = performance.now();
      const sent = await sendCode(open, first.id, smsChannel(first));
      const openMs = performance.now() - started;
      assert.equal(sent.statusCode, 202, sent.body);
      assert.ok(openMs >= 290 && openMs < 1500, `the send waited ${Math.round(openMs)} ms`);
      assert.equal(await textsTo(t, o.phone), texted + 1);

      const second = await passwordStep(closed, o.email, o.password);
      started = performance.now();
      const refused = await sendCode(closed, second.id, smsChannel(second));
      const closedMs = performance.now() - started;
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json().error.code, 'SMS_DELIVERY_FAILED');
      assert.equal(refused.json().error.detail.reason, 'sim_swap_check_failed');
      assert.ok(closedMs < 1500, `refused after ${Math.round(closedMs)} ms`);
      assert.equal(await textsTo(t, o.phone), texted + 1, 'nothing texted when refusing');
      assert.equal((await simSwapEvents(t, o.accountId)).length, 0, 'a failed lookup is no SIM-swap signal');
    } finally {
      lookup.everyNumber = undefined;
      await open.close();
      await closed.close();
    }
  });
});

describe('the webhook variant', () => {
  test('the receiver verifies the signature and answers swappedAt; a recent change refuses the text', async () => {
    const settings = {
      CODE_SEND_INTERVAL_SECONDS: '0',
      SIM_SWAP_CHECK: 'webhook',
      SIM_SWAP_WEBHOOK_URL: `${lookup.url()}/sim-swap`,
    };
    const w = await startTestApp(
      { ...settings, SIM_SWAP_WEBHOOK_SECRET: credentials.webhookSecret },
      { shareDatabaseWith: t, memoryKeyValue: true },
    );
    const wrongKey = await startTestApp(
      { ...settings, SIM_SWAP_WEBHOOK_SECRET: 'not-the-receivers-secret-0123456789' },
      { shareDatabaseWith: t, memoryKeyValue: true },
    );
    try {
      lookup.refused.length = 0;
      const o = await owner(w);
      simChanged(w, o.phone, 3 * MINUTE);
      wrongKey.clock.advance(10 * MINUTE);
      const texted = await textsTo(w, o.phone);
      const challenge = await passwordStep(w, o.email, o.password);
      assertRefused(await sendCode(w, challenge.id, smsChannel(challenge)), smsChannel(challenge));
      assert.equal(await textsTo(w, o.phone), texted);
      const request = lookup.received.filter((r) => r.number === o.phone).at(-1);
      assert.equal(request?.method, 'POST');
      assert.deepEqual(JSON.parse(request?.body ?? ''), { number: o.phone });
      assert.equal(lookup.refused.length, 0, 'every signature verified');
      assert.equal((await simSwapEvents(w, o.accountId)).length, 1);

      // Signed with another key: the receiver refuses, the lookup failed, and by default the code goes out.
      const other = await passwordStep(wrongKey, o.email, o.password);
      assert.equal((await sendCode(wrongKey, other.id, smsChannel(other))).statusCode, 202);
      assert.equal(lookup.refused.length, 1);
      assert.equal(await textsTo(w, o.phone), texted + 1);
    } finally {
      await w.close();
      await wrongKey.close();
    }
  });
});
