// The example service in examples/messages, run as its README says beside a Twostep server: a user
// signs in to it, it shows who and how (amr, acr), asks for two-step on demand, and signs out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import { Browser, startExample } from '../helpers/oidc.ts';

describe('the Messages example service', () => {
  let t: TestApp & { baseUrl: string };
  let example: { url: string; stop(): void };
  let exampleUrl: string;

  before(async () => {
    t = await startListeningTestApp();
    example = await startExample(t);
    exampleUrl = example.url;
  });
  after(async () => {
    example.stop();
    await t.close();
  });

  test('sign in, see how, ask for more, sign out', async () => {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    assert.match(await browser.visit(exampleUrl), /not signed in/);

    await browser.visit(`${exampleUrl}/login`);
    assert.match(browser.page, /Sign in to Messages/);
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback);
    const home = await browser.visit(callback.toString());
    assert.match(home, /Signed in as <strong>Ann Example<\/strong>/);
    assert.match(home, /data-amr="pwd"/);
    assert.match(home, /data-acr="urn:twostep:acr:password"/);

    // Without two-step verification on the account, asking for it ends in the service's error page.
    await browser.visit(`${exampleUrl}/login?two-step=1`);
    assert.match(browser.page, /asks for two-step verification/);
    const refused = await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    assert.ok(refused);
    assert.match(await browser.visit(refused.toString()), /unmet_authentication_requirements/);

    await browser.visit(`${exampleUrl}/logout`);
    assert.match(browser.page, /Messages asks to sign you out of Twostep/);
    const back = await browser.go(browser.action('/session/end/confirm'), {
      xsrf: browser.field('xsrf'),
      logout: 'yes',
    });
    assert.ok(back);
    assert.match(await browser.visit(back.toString()), /not signed in/);
  });
});
