// Approve by push on the pages that wait for it, as a browser without script meets them: the portal's
// sign-in code step, step-up, and the OpenID Connect code step. With number matching the page offers
// "I approved it on my device — continue" (public/approval.js presses it by itself) and a
// same-origin status address; before the device approved, the button is refused and signs nobody in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signApproval } from '../../src/device/keys.ts';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { type LiveDevice, ownerWithTrustedDevice, type PairedDevice } from '../helpers/devices.ts';
import { addService, authorizationRequest, exchange, Browser as ServiceBrowser } from '../helpers/oidc.ts';
import { Browser } from '../security/support.ts';

let t: TestApp & { baseUrl: string };
before(async () => {
  t = await startListeningTestApp({ NUMBER_MATCHING: 'true', CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(() => t.close());

/** The device's channel id on a code page (the other one is the texted code). */
function deviceChannel(page: string): string {
  const id = [...page.matchAll(/name="channel" value="([^"]+)"/g)]
    .map((m) => m[1] as string)
    .find((value) => !value.startsWith('sms:'));
  assert.ok(id, page);
  return id;
}

/** The device picks the number the page shows and approves. */
async function pickAndApprove(device: LiveDevice, paired: PairedDevice, page: string, purpose: string) {
  const number = Number(/class="match-number">[^<]*<strong>(\d{2})<\/strong>/.exec(page)?.[1]);
  assert.ok(number >= 10, 'the page shows the number to pick');
  const match = await device.next((m) => m.type === 'match' && m.purpose === purpose);
  const challengeId = String(match.challengeId);
  device.connection.send({ type: 'match', challengeId, number });
  await device.next((m) => m.type === 'code' && m.challengeId === challengeId);
  device.connection.send({
    type: 'approve',
    challengeId,
    signature: signApproval(paired.keys.privateKeyPem, challengeId, number),
  });
  await device.next((m) => m.type === 'approved' && m.challengeId === challengeId);
}

function assertApprovalForm(page: string, statusUrl: string): void {
  assert.match(page, new RegExp(`data-approval-status="${statusUrl.replaceAll('/', '\\/')}"`));
  assert.match(page, /name="approved" value="yes"/);
  assert.match(page, /I approved it on my device — continue/);
  assert.match(page, /<script src="\/static\/approval\.js" defer><\/script>/);
}

describe('approving on the portal pages', () => {
  test('sign-in: refused until the device approved, then the button signs in; step-up the same way', async () => {
    const { owner, device, paired } = await ownerWithTrustedDevice(t);
    try {
      const browser = new Browser(t);
      const password = await browser.postForm('/signin', {
        _csrf: await browser.formToken('/signin'),
        email: owner.email,
        password: owner.password,
      });
      assert.equal(password.headers.location, '/signin/verify');
      const channel = deviceChannel((await browser.get('/signin/verify')).body);
      const sent = await browser.postForm('/signin/verify/send', {
        _csrf: await browser.formToken('/signin/verify'),
        channel,
      });
      assertApprovalForm(sent.body, '/signin/verify/approval');
      const status = async (url: string) => (await browser.get(url, { accept: 'application/json' })).json();
      assert.deepEqual(await status('/signin/verify/approval'), { approved: false });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(sent.body)?.[1] as string;
      const early = await browser.postForm('/signin/verify', { _csrf: csrf, approved: 'yes' });
      assert.equal(early.statusCode, 409);
      assert.match(early.body, /Your device has not approved this yet/);
      assert.equal(browser.session(), undefined, 'no session before the approval');

      await pickAndApprove(device, paired, sent.body, 'sign_in');
      assert.deepEqual(await status('/signin/verify/approval'), { approved: true });
      const done = await browser.postForm('/signin/verify', { _csrf: csrf, approved: 'yes' });
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, '/account');
      assert.ok(browser.session());

      // Step-up, later in the same session.
      t.clock.advance(11 * 60_000);
      const stepUp = await browser.get('/account/verify?return=/account');
      const stepUpSent = await browser.postForm('/account/verify/send', {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(stepUp.body)?.[1] as string,
        channel: deviceChannel(stepUp.body),
        return: '/account',
      });
      assertApprovalForm(stepUpSent.body, '/account/verify/approval');
      assert.deepEqual(await status('/account/verify/approval'), { approved: false });
      await pickAndApprove(device, paired, stepUpSent.body, 'step_up');
      assert.deepEqual(await status('/account/verify/approval'), { approved: true });
      const stepped = await browser.postForm('/account/verify', {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(stepUpSent.body)?.[1] as string,
        approved: 'yes',
        return: '/account',
      });
      assert.equal(stepped.statusCode, 303, stepped.body);
      assert.equal(stepped.headers.location, '/account');
    } finally {
      device.connection.close();
    }
  });

  test('a service sign-in (OpenID Connect) goes on with the approval', async () => {
    const service = await addService(t);
    const { owner, device, paired } = await ownerWithTrustedDevice(t);
    try {
      const browser = new ServiceBrowser(t.baseUrl);
      const request = await authorizationRequest(service);
      await browser.go(request.url.toString());
      await browser.submit('/login', { email: owner.email, password: GOOD_PASSWORD });
      await browser.submit('/verify/send', { channel: deviceChannel(browser.page) });
      const statusUrl = /data-approval-status="([^"]+)"/.exec(browser.page)?.[1] as string;
      assert.match(statusUrl, /^\/interaction\/[^/]+\/verify\/approval$/);
      assertApprovalForm(browser.page, statusUrl);
      const status = async () => (await browser.request(statusUrl)).json();
      assert.deepEqual(await status(), { approved: false });
      await pickAndApprove(device, paired, browser.page, 'sign_in');
      assert.deepEqual(await status(), { approved: true });
      assert.equal(await browser.submit('/verify', { approved: 'yes' }), undefined);
      assert.match(browser.page, /Allow Messages/);
      const callback = await browser.submit('/consent');
      assert.ok(callback, browser.page);
      const claims = (await exchange(service, request, callback)).claims();
      // The device's push carried the request: the same amr as its typed code.
      assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
    } finally {
      device.connection.close();
    }
  });
});
