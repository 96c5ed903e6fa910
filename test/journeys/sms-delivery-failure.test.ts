// A text message that cannot be sent is reported, never lost in silence (issue 4, SPEC §3.4): the SMS
// provider is a small local server in the shape of Twilio's Messages API, scripted to fail. The user
// gets SMS_DELIVERY_FAILED (or SMS_NUMBER_REJECTED when the provider refuses the number) instead of
// "sent", a provider failing on its side is retried a bounded number of times, and a failed send of a
// new number's code leaves no number, challenge or audit event behind.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { enrolTwoStep, passwordStep, sendCode, uniqueMobile } from '../helpers/two-step.ts';

/** What the provider received (the form body) and what it answers next. */
const received: URLSearchParams[] = [];
const script: [number, unknown][] = [];
const provider = createServer((request: IncomingMessage, response: ServerResponse) => {
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    received.push(new URLSearchParams(body));
    const [status, answer] = script.shift() ?? [500, { message: 'no script' }];
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
});

const AUTH_FAILED: [number, unknown] = [401, { code: 20003, message: 'Authenticate', status: 401 }];
const ACCEPTED: [number, unknown] = [201, { sid: 'SM0001', status: 'queued' }];

// The outbox app enrols accounts (its codes are readable); the Twilio app shares its database.
let outboxApp: TestApp;
let t: TestApp;
before(async () => {
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  outboxApp = await startTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
  t = await startTestApp(
    {
      CODE_SEND_INTERVAL_SECONDS: '0',
      SMS_PROVIDER: 'twilio',
      TWILIO_BASE_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
      TWILIO_ACCOUNT_SID: 'AC123',
      TWILIO_AUTH_TOKEN: 'provider-token',
      TWILIO_FROM: '+15005550006',
    },
    { shareDatabaseWith: outboxApp },
  );
});
after(async () => {
  await t.close();
  await outboxApp.close();
  await new Promise<void>((resolve) => provider.close(() => resolve()));
});

async function addPhone(token: string, number: string) {
  return t.request({ method: 'POST', url: '/api/v1/phones', headers: bearer(token), payload: { number } });
}

async function traces(accountId: string) {
  const { db } = t.database;
  const phones = await db.selectFrom('phones').select('id').where('account_id', '=', accountId).execute();
  const challenges = await db.selectFrom('challenges').select('id').where('account_id', '=', accountId).execute();
  const added = await db
    .selectFrom('audit_events')
    .select('id')
    .where('account_id', '=', accountId)
    .where('event', '=', 'phone.added')
    .execute();
  return { phones: phones.length, challenges: challenges.length, added: added.length };
}

async function accountId(token: string): Promise<string> {
  return (await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })).json().account.id;
}

describe('a failed text message', () => {
  test('adding a number: the failure is reported, nothing is left behind, and a retry later works', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    const id = await accountId(token);
    const number = uniqueMobile();
    received.length = 0;
    script.push(AUTH_FAILED);
    const failed = await addPhone(token, number);
    assert.equal(failed.statusCode, 503, failed.body);
    assert.equal(failed.json().error.code, 'SMS_DELIVERY_FAILED');
    assert.match(failed.json().error.message, /could not send the text message/);
    assert.equal(received.length, 1, 'a refusal by the provider is not retried');
    assert.equal(received[0]?.get('To'), number);
    assert.deepEqual(await traces(id), { phones: 0, challenges: 0, added: 0 });

    script.push(ACCEPTED);
    const added = await addPhone(token, number);
    assert.equal(added.statusCode, 202, added.body);
    const code = /code is (\d{6})/.exec(received.at(-1)?.get('Body') ?? '')?.[1];
    assert.ok(code, 'the provider got the code');
    const verified = await t.request({
      method: 'POST',
      url: `/api/v1/challenges/${added.json().challenge.id}/verify`,
      headers: bearer(token),
      payload: { code },
    });
    assert.equal(verified.json().phone.verified, true, verified.body);
    assert.deepEqual(await traces(id), { phones: 1, challenges: 1, added: 1 });
  });

  test('a provider failing on its side is retried three times, then reported', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    received.length = 0;
    script.push([500, { message: 'down' }], [503, { message: 'busy' }], [500, { message: 'down' }]);
    const failed = await addPhone(token, uniqueMobile());
    assert.equal(failed.json().error.code, 'SMS_DELIVERY_FAILED');
    assert.equal(received.length, 3);
  });

  test('a number the provider refuses is reported as such', async () => {
    const fields = await createVerifiedAccount(t);
    const token = await signInToken(t, fields.email);
    script.push([400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 }]);
    const refused = await addPhone(token, uniqueMobile());
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error.code, 'SMS_NUMBER_REJECTED');
  });

  test('signing in: "send a code by SMS" answers SMS_DELIVERY_FAILED, not "sent"', async () => {
    const account = await enrolTwoStep(outboxApp);
    const challenge = await passwordStep(t, account.email, account.password);
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    received.length = 0;
    script.push(AUTH_FAILED);
    const failed = await sendCode(t, challenge.id, sms.id);
    assert.equal(failed.statusCode, 503, failed.body);
    assert.equal(failed.json().error.code, 'SMS_DELIVERY_FAILED');
    assert.equal(received[0]?.get('To'), account.phone);
  });
});
