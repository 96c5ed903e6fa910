// An attacker probes which emails have an account, through sign-up and sign-in, in the API and
// the portal (SECURITY.md item 35, SPEC §7): a taken email and a new one get the same status, body
// and headers; so do an unknown email and a wrong password. (Timing is tested separately.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type TestApp, uniqueEmail } from '../helpers/app.ts';
import { createVerifiedAccount, signUpFields } from '../helpers/journeys.ts';
import { Browser, startTestApp } from './support.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

/** Everything an observer sees, with the varying Date header and the probed email masked. */
function observed(response: LightMyRequestResponse, email: string): string {
  // The passkey button carries a fresh WebAuthn challenge on every page: random, the same for all.
  const mask = (text: string): string =>
    text
      .split(email)
      .join('<email>')
      .replace(/&quot;challenge&quot;:&quot;[A-Za-z0-9_-]+&quot;/g, '&quot;challenge&quot;:&quot;<random>&quot;');
  const headers = Object.entries(response.headers)
    .filter(([name]) => name !== 'date')
    .map(([name, value]) => `${name}: ${mask(String(value))}`)
    .sort();
  return [String(response.statusCode), ...headers, '', mask(response.body)].join('\n');
}

/** Two emails of the same length, so even Content-Length cannot tell them apart. */
function pair(): [string, string] {
  return [uniqueEmail('probe'), uniqueEmail('probe')];
}

describe('sign-up', () => {
  test('the API answers a taken email exactly like a new one', async () => {
    const [takenEmail, newEmail] = pair();
    await createVerifiedAccount(t, { email: takenEmail });
    const unconfirmedEmail = uniqueEmail('probe');
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: signUpFields({ email: unconfirmedEmail }) });
    const probe = (email: string) =>
      t.request({ method: 'POST', url: '/api/v1/signup', payload: signUpFields({ email }) });
    const fresh = await probe(newEmail);
    assert.equal(fresh.statusCode, 202);
    for (const email of [takenEmail, takenEmail.toUpperCase(), unconfirmedEmail]) {
      const response = await probe(email);
      assert.equal(observed(response, email), observed(fresh, newEmail), email);
    }
  });

  test('the portal answers a taken email exactly like a new one', async () => {
    const [takenEmail, newEmail] = pair();
    await createVerifiedAccount(t, { email: takenEmail });
    const browser = new Browser(t);
    const token = await browser.formToken('/signup');
    const probe = (email: string) => browser.postForm('/signup', { _csrf: token, ...signUpFields({ email }) });
    const taken = await probe(takenEmail);
    const fresh = await probe(newEmail);
    assert.equal(fresh.statusCode, 202, fresh.body.slice(0, 300));
    assert.equal(observed(taken, takenEmail), observed(fresh, newEmail));
  });
});

describe('sign-in', () => {
  test('the API answers an unknown email exactly like a wrong password', async () => {
    const [knownEmail, unknownEmail] = pair();
    await createVerifiedAccount(t, { email: knownEmail });
    const unconfirmed = signUpFields({ email: uniqueEmail('probe') });
    await t.request({ method: 'POST', url: '/api/v1/signup', payload: unconfirmed });
    // Each probe from its own address, so the per-address throttle does not differ between them.
    let address = 0;
    const probe = (email: string) =>
      t.request({
        method: 'POST',
        url: '/api/v1/signin',
        remoteAddress: `203.0.113.${++address}`,
        payload: { email, password: 'certainly not the password' },
      });
    const unknown = await probe(unknownEmail);
    assert.equal(unknown.statusCode, 401);
    const cases = [knownEmail, knownEmail.toUpperCase(), unconfirmed.email, 'not-an-email-at-all'];
    for (const email of cases) {
      assert.equal(observed(await probe(email), email), observed(unknown, unknownEmail), email);
    }
  });

  test('the portal answers an unknown email exactly like a wrong password', async () => {
    const [knownEmail, unknownEmail] = pair();
    await createVerifiedAccount(t, { email: knownEmail });
    const browser = new Browser(t);
    const token = await browser.formToken('/signin');
    const probe = (email: string) =>
      browser.postForm('/signin', { _csrf: token, email, password: 'certainly not the password' });
    const wrong = await probe(knownEmail);
    const unknown = await probe(unknownEmail);
    assert.equal(unknown.statusCode, 401, unknown.body.slice(0, 300));
    assert.equal(observed(wrong, knownEmail), observed(unknown, unknownEmail));
  });
});
