// SMS pumping (SPEC §5, SECURITY.md item 40): someone makes us text numbers they are paid for, or
// just runs up the bill. Every code send counts against the account's hourly budget over all
// channels; a text message also against the account's and the number's daily budget, the client
// address's, the country's and the whole server's. Each refusal says which budget ran out and when
// to try again, nothing is texted past it, and what is not capped keeps working.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { RawSettings } from '../../src/config.ts';
import { startListeningTestApp, startTestApp, type TestApp } from '../helpers/app.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, passwordStep, sendCode, smsCode, uniqueMobile } from '../helpers/two-step.ts';

const DAY_SECONDS = 86_400;

// One database for the file; each test starts an app on it with its own limits and fresh counters.
let base: TestApp;
before(async () => {
  base = await startTestApp();
});
after(() => base.close());

async function appWith(limits: RawSettings): Promise<TestApp & { baseUrl: string }> {
  return startListeningTestApp(
    { CODE_SEND_INTERVAL_SECONDS: '0', CODE_SENDS_PER_HOUR: '100', ...limits },
    { shareDatabaseWith: base, memoryKeyValue: true },
  );
}

/** "Send a code" from a given client address. */
async function sendFrom(t: TestApp, challengeId: string, channel: string, remoteAddress: string) {
  return t.request({
    method: 'POST',
    url: `/api/v1/challenges/${challengeId}/send`,
    remoteAddress,
    payload: { channel },
  });
}

function channelOf(challenge: { channels: { id: string; type: string }[] }, type: string): string {
  const channel = challenge.channels.find((c) => c.type === type);
  assert.ok(channel, `no ${type} channel`);
  return channel.id;
}

/** A refusal by one SMS budget: its code, which budget, and a retry time within the day. */
function assertSmsLimit(response: LightMyRequestResponse, limit: string): void {
  assert.equal(response.statusCode, 429);
  assert.equal(response.json().error.code, 'SMS_LIMIT_REACHED');
  assert.equal(response.json().error.detail.limit, limit);
  const retry = Number(response.headers['retry-after']);
  assert.ok(retry > 0 && retry <= DAY_SECONDS, `retry-after ${retry}`);
}

function belgianMobile(): string {
  return `+3247${String(randomInt(1_000_000, 9_999_999))}`;
}

describe('SMS pumping', () => {
  test('a number gets at most SMS_PER_NUMBER_PER_DAY texts; the devices still get codes, and the next day texts again', async () => {
    const t = await appWith({ SMS_PER_NUMBER_PER_DAY: '2' });
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      // The enrolment texted the number once.
      const challenge = await passwordStep(t, owner.email, owner.password);
      assert.equal((await sendCode(t, challenge.id, channelOf(challenge, 'sms'))).statusCode, 202);
      const code = await smsCode(t, owner.phone);
      const capped = await sendCode(t, challenge.id, channelOf(challenge, 'sms'));
      assertSmsLimit(capped, 'number');
      assert.equal((await outboxFor(t, owner.phone)).length, 2, 'nothing texted past the cap');
      // The refused send did not replace the code that was texted before.
      assert.equal((await answer(t, challenge.id, code)).statusCode, 200);

      const again = await passwordStep(t, owner.email, owner.password);
      assertSmsLimit(await sendCode(t, again.id, channelOf(again, 'sms')), 'number');
      const pushed = await sendCode(t, again.id, 'device');
      assert.equal(pushed.statusCode, 202, 'a trusted device still gets a code');
      const push = await device.next((m) => m.type === 'code' && m.challengeId === again.id);
      assert.equal((await answer(t, again.id, String(push.code))).statusCode, 200);

      t.clock.advance(DAY_SECONDS * 1000 + 1000);
      const nextDay = await passwordStep(t, owner.email, owner.password);
      assert.equal((await sendCode(t, nextDay.id, channelOf(nextDay, 'sms'))).statusCode, 202);
    } finally {
      device.connection.close();
      await t.close();
    }
  });

  test('an account gets at most SMS_PER_ACCOUNT_PER_DAY texts over all its numbers', async () => {
    const t = await appWith({ SMS_PER_ACCOUNT_PER_DAY: '3' });
    try {
      const owner = await enrolTwoStep(t);
      const second = uniqueMobile();
      const added = await t.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(owner.token),
        payload: { number: second },
      });
      assert.equal(added.statusCode, 202, added.body);
      const challenge = await passwordStep(t, owner.email, owner.password);
      assert.equal((await sendCode(t, challenge.id, channelOf(challenge, 'sms'))).statusCode, 202);
      const third = await t.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(owner.token),
        payload: { number: uniqueMobile() },
      });
      assertSmsLimit(third, 'account');
      assert.equal(
        (await t.request({ method: 'GET', url: '/api/v1/phones', headers: bearer(owner.token) })).json().phones.length,
        2,
        'a refused number is not left behind',
      );
      // Another account is not affected.
      assert.equal((await enrolTwoStep(t)).phone.length > 0, true);
    } finally {
      await t.close();
    }
  });

  test('an account gets at most 10 codes an hour over every channel, then none until the hour is over', async () => {
    const t = await appWith({ CODE_SENDS_PER_HOUR: '10' });
    const { owner, device } = await ownerWithTrustedDevice(t);
    try {
      // The enrolment sent two codes: the phone's and the device's.
      const challenge = await passwordStep(t, owner.email, owner.password);
      for (let i = 0; i < 4; i += 1) {
        assert.equal((await sendCode(t, challenge.id, channelOf(challenge, 'sms'))).statusCode, 202, `sms ${i}`);
        assert.equal((await sendCode(t, challenge.id, 'device')).statusCode, 202, `push ${i}`);
      }
      for (const channel of [channelOf(challenge, 'sms'), 'device']) {
        const refused = await sendCode(t, challenge.id, channel);
        assert.equal(refused.statusCode, 429, channel);
        assert.equal(refused.json().error.code, 'TOO_MANY_ATTEMPTS');
        const retry = Number(refused.headers['retry-after']);
        assert.ok(retry > 0 && retry <= 3600, `retry-after ${retry}`);
      }
      assert.equal((await outboxFor(t, owner.phone)).length, 5, 'the refused text was not sent');

      t.clock.advance(3600 * 1000 + 1000);
      const later = await passwordStep(t, owner.email, owner.password);
      assert.equal((await sendCode(t, later.id, channelOf(later, 'sms'))).statusCode, 202);
    } finally {
      device.connection.close();
      await t.close();
    }
  });

  test('one client address can ask for at most SMS_PER_IP_PER_DAY texts; other addresses still can', async () => {
    const t = await appWith({ SMS_PER_IP_PER_DAY: '2' });
    try {
      const ann = await enrolTwoStep(t);
      const bob = await enrolTwoStep(t);
      const attacker = '198.51.100.20';
      const annChallenge = await passwordStep(t, ann.email, ann.password);
      const bobChallenge = await passwordStep(t, bob.email, bob.password);
      assert.equal((await sendFrom(t, annChallenge.id, channelOf(annChallenge, 'sms'), attacker)).statusCode, 202);
      assert.equal((await sendFrom(t, bobChallenge.id, channelOf(bobChallenge, 'sms'), attacker)).statusCode, 202);
      assertSmsLimit(await sendFrom(t, annChallenge.id, channelOf(annChallenge, 'sms'), attacker), 'ip');
      assert.equal((await outboxFor(t, ann.phone)).length, 2, 'nothing texted past the cap');
      const elsewhere = await sendFrom(t, annChallenge.id, channelOf(annChallenge, 'sms'), '198.51.100.21');
      assert.equal(elsewhere.statusCode, 202);
    } finally {
      await t.close();
    }
  });

  test('one country gets at most SMS_PER_COUNTRY_PER_DAY texts; other countries still do', async () => {
    const t = await appWith({ SMS_PER_COUNTRY_PER_DAY: '2' });
    try {
      const ann = await enrolTwoStep(t);
      await enrolTwoStep(t);
      const challenge = await passwordStep(t, ann.email, ann.password);
      assertSmsLimit(await sendCode(t, challenge.id, channelOf(challenge, 'sms')), 'country');
      assert.equal((await outboxFor(t, ann.phone)).length, 1, 'nothing texted past the cap');
      const belgian = await createVerifiedAccount(t, { country: 'BE' });
      const number = belgianMobile();
      const added = await t.request({
        method: 'POST',
        url: '/api/v1/phones',
        headers: bearer(await signInToken(t, belgian.email)),
        payload: { number },
      });
      assert.equal(added.statusCode, 202, added.body);
      assert.equal((await outboxFor(t, number)).length, 1);
    } finally {
      await t.close();
    }
  });

  test('the server sends at most SMS_PER_DAY texts in all; the next day it texts again', async () => {
    const t = await appWith({ SMS_PER_DAY: '2' });
    try {
      await enrolTwoStep(t);
      const ann = await enrolTwoStep(t);
      const challenge = await passwordStep(t, ann.email, ann.password);
      assertSmsLimit(await sendCode(t, challenge.id, channelOf(challenge, 'sms')), 'all');
      const belgian = await createVerifiedAccount(t, { country: 'BE' });
      const number = belgianMobile();
      const add = async () =>
        t.request({
          method: 'POST',
          url: '/api/v1/phones',
          headers: bearer(await signInToken(t, belgian.email)),
          payload: { number },
        });
      assertSmsLimit(await add(), 'all');
      assert.equal((await outboxFor(t, number)).length, 0);
      t.clock.advance(DAY_SECONDS * 1000 + 1000);
      assert.equal((await add()).statusCode, 202);
      assert.equal((await outboxFor(t, number)).length, 1);
    } finally {
      await t.close();
    }
  });
});
