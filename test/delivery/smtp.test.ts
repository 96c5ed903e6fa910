// Email over SMTP, against a real local SMTP server (smtp-server) that parses what it receives:
// the confirmation email arrives with a working link, and a failing relay is reported, not swallowed.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { signUpFields } from '../helpers/journeys.ts';

interface Received {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

const received: Received[] = [];
let refuse = false;

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onRcptTo(_address, _session, callback) {
    if (refuse) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
    callback();
  },
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject ?? '',
          text: mail.text ?? '',
        });
        callback();
      })
      .catch(callback);
  },
});

let t: TestApp;
before(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Twostep <no-reply@id.example.org>' });
});
after(async () => {
  await t.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

describe('email over SMTP', () => {
  test('the confirmation email arrives, and its link confirms the account', async () => {
    const fields = signUpFields();
    const signup = await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
    assert.equal(signup.statusCode, 202);
    const mail = received.find((m) => m.to.includes(fields.email));
    assert.ok(mail, 'the relay received the email');
    assert.equal(mail.from, 'no-reply@id.example.org');
    assert.equal(mail.subject, 'Confirm your email address');
    const link = /http:\/\/localhost:3000\/verify-email\?token=([\w-]+)/.exec(mail.text);
    assert.ok(link, mail.text);
    const verify = await t.request({ method: 'POST', url: '/api/v1/email/verify', payload: { token: link[1] } });
    assert.equal(verify.statusCode, 200);
  });

  test('the outbox is not served when email goes over SMTP', async () => {
    assert.equal((await t.request({ method: 'GET', url: '/dev/outbox.json' })).statusCode, 404);
  });

  test('a relay that refuses the message gives the user a clear 503, and the log says why without the body', async () => {
    refuse = true;
    try {
      const fields = signUpFields();
      const signup = await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
      assert.equal(signup.statusCode, 503);
      assert.equal(signup.json().error.code, 'EMAIL_DELIVERY_FAILED');
      assert.match(t.logText(), /email could not be sent over SMTP/);
      assert.doesNotMatch(t.logText(), /verify-email\?token=/);
    } finally {
      refuse = false;
    }
  });
});
