// SMS delivery against small local servers that speak the providers' protocols: Twilio's Messages
// API and a signed JSON webhook, including their error answers. A refused number is reported as
// such; a provider that is down or failing is retried a bounded number of times, then reported.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/core/errors.ts';
import { parsePhoneNumber } from '../../src/core/phone.ts';
import { createTwilioSender } from '../../src/delivery/sms/twilio-sender.ts';
import { createWebhookSender, webhookSignature } from '../../src/delivery/sms/webhook-sender.ts';
import { freePort } from '../helpers/app.ts';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A provider stand-in: records each request and answers with the next scripted answer. */
function fakeProvider(): {
  server: Server;
  url: () => string;
  received: Received[];
  script: ((r: Received) => [number, unknown])[];
} {
  const received: Received[] = [];
  const script: ((r: Received) => [number, unknown])[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body };
      received.push(entry);
      const [status, answer] = (script.shift() ?? (() => [500, { message: 'no script' }]))(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  return { server, received, script, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const provider = fakeProvider();
before(() => new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve)));
after(() => new Promise<void>((resolve) => provider.server.close(() => resolve())));

const fastRetry = { attempts: 3, firstDelayMs: 5 };

function twilio() {
  return createTwilioSender({
    baseUrl: provider.url(),
    accountSid: 'AC123',
    authToken: 'secret-token',
    from: '+15005550006',
    retry: fastRetry,
  });
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AppError && error.code === code);
}

describe('Twilio-compatible provider', () => {
  test("sends To, From and Body with HTTP Basic to the account's Messages resource", async () => {
    provider.received.length = 0;
    provider.script.push(() => [201, { sid: 'SM0001', status: 'queued' }]);
    const result = await twilio().send({ to: '+31612345678', body: 'Your Twostep code is 123456', code: '123456' });
    assert.equal(result.providerId, 'SM0001');
    const [request] = provider.received;
    assert.equal(request?.path, '/2010-04-01/Accounts/AC123/Messages.json');
    assert.equal(request?.headers.authorization, `Basic ${Buffer.from('AC123:secret-token').toString('base64')}`);
    assert.equal(request?.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(request?.body);
    assert.deepEqual(
      [form.get('To'), form.get('From'), form.get('Body')],
      ['+31612345678', '+15005550006', 'Your Twostep code is 123456'],
    );
  });

  test('a refused number (error 21211) is reported as such and not retried', async () => {
    provider.received.length = 0;
    provider.script.push(() => [
      400,
      { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 },
    ]);
    await rejectsWith(twilio().send({ to: '+31612345678', body: 'x' }), 'SMS_NUMBER_REJECTED');
    assert.equal(provider.received.length, 1);
  });

  test("a bad account (error 20003) is a delivery failure, not the user's fault", async () => {
    provider.script.push(() => [401, { code: 20003, message: 'Authenticate', status: 401 }]);
    await rejectsWith(twilio().send({ to: '+31612345678', body: 'x' }), 'SMS_DELIVERY_FAILED');
  });

  test('a busy or failing provider is retried, and the message goes out when it recovers', async () => {
    provider.received.length = 0;
    provider.script.push(
      () => [429, { code: 20429, message: 'Too Many Requests' }],
      () => [503, {}],
      () => [201, { sid: 'SM0002' }],
    );
    const result = await twilio().send({ to: '+31612345678', body: 'x' });
    assert.equal(result.providerId, 'SM0002');
    assert.equal(provider.received.length, 3);
  });

  test('a provider that keeps failing is reported after a bounded number of tries', async () => {
    provider.received.length = 0;
    provider.script.push(
      () => [500, {}],
      () => [502, {}],
      () => [503, {}],
      () => [201, { sid: 'too late' }],
    );
    await rejectsWith(twilio().send({ to: '+31612345678', body: 'x' }), 'SMS_DELIVERY_FAILED');
    assert.equal(provider.received.length, 3);
    provider.script.length = 0;
  });

  test('an unreachable provider is reported', async () => {
    const closedPort = await freePort();
    const sender = createTwilioSender({
      baseUrl: `http://127.0.0.1:${closedPort}`,
      accountSid: 'AC1',
      authToken: 't',
      from: '+1',
      retry: fastRetry,
    });
    await rejectsWith(sender.send({ to: '+31612345678', body: 'x' }), 'SMS_DELIVERY_FAILED');
  });
});

describe('JSON webhook provider', () => {
  const secret = 'webhook-secret-of-at-least-32-characters';

  test('posts {to, body} with a timestamped HMAC signature the receiver can check', async () => {
    provider.received.length = 0;
    provider.script.push((r) => {
      const expected = webhookSignature(secret, String(r.headers['x-twostep-timestamp']), r.body);
      return r.headers['x-twostep-signature'] === expected
        ? [200, { id: 'hook-1' }]
        : [401, { error: 'bad signature' }];
    });
    const sender = createWebhookSender({ url: `${provider.url()}/sms`, secret, retry: fastRetry });
    const result = await sender.send({ to: '+31612345678', body: 'Your code is 654321' });
    assert.equal(result.providerId, 'hook-1');
    assert.deepEqual(JSON.parse(provider.received[0]?.body ?? ''), { to: '+31612345678', body: 'Your code is 654321' });
  });

  test('422 means the number was refused; 5xx is retried', async () => {
    const sender = createWebhookSender({ url: `${provider.url()}/sms`, secret, retry: fastRetry });
    provider.script.push(() => [422, { error: 'unroutable' }]);
    await rejectsWith(sender.send({ to: '+31612345678', body: 'x' }), 'SMS_NUMBER_REJECTED');
    provider.received.length = 0;
    provider.script.push(
      () => [500, {}],
      () => [200, {}],
    );
    await sender.send({ to: '+31612345678', body: 'x' });
    assert.equal(provider.received.length, 2);
  });
});

describe('phone numbers', () => {
  test('a mobile number in any notation becomes E.164', () => {
    assert.equal(parsePhoneNumber('+31 6 12345678').e164, '+31612345678');
    assert.equal(parsePhoneNumber('06-12345678', 'NL').e164, '+31612345678');
    assert.equal(parsePhoneNumber('+31612345678').masked, '•••• 78');
  });

  test('invalid numbers are refused', () => {
    for (const raw of ['12', '+31 6 1234', 'not a number', '+999 123456789', '']) {
      assert.throws(
        () => parsePhoneNumber(raw),
        (e: unknown) => e instanceof AppError && e.code === 'INVALID_PHONE_NUMBER',
        raw,
      );
    }
  });

  test('premium-rate and toll-free numbers, the targets of SMS pumping, are refused', () => {
    for (const raw of ['+449098790000', '+31906123456', '+19005550199', '+18005550199']) {
      assert.throws(
        () => parsePhoneNumber(raw),
        (e: unknown) => e instanceof AppError && e.code === 'PHONE_NUMBER_NOT_ALLOWED',
        raw,
      );
    }
  });
});
