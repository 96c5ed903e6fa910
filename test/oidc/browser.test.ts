// The Messages example and Twostep in Chromium: the sign-in, consent and sign-out forms end in
// redirects to the service, which the strict CSP's form-action must allow (and nothing else may break).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GOOD_PASSWORD } from '../helpers/app.ts';
import { assertNoProblems, browserSuite, waitForHeading } from '../helpers/browser.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import { startExample } from '../helpers/oidc.ts';

describe('signing in to a service in a real browser', () => {
  // Codes go out back to back (enrolment's SMS, the device's verification, the sign-in): no resend gap.
  const suite = browserSuite({ CODE_SEND_INTERVAL_SECONDS: '0' });
  let example: { url: string; stop(): void };
  before(async () => {
    example = await startExample(suite.server());
  });
  after(() => example.stop());

  test('sign in to Messages with Twostep, consent, see how, sign out', async () => {
    const account = await createVerifiedAccount(suite.server());
    const { context, watch } = await suite.openContext();
    const page = await context.newPage();
    await page.goto(example.url);
    await page.getByRole('link', { name: 'Sign in with Twostep' }).click();
    await waitForHeading(page, 'Sign in to Messages');
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitForHeading(page, 'Allow Messages to use your account?');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.getByText('Signed in as').waitFor();
    assert.equal(new URL(page.url()).origin, example.url);
    assert.equal(await page.locator('[data-amr]').getAttribute('data-amr'), 'pwd');

    await page.getByRole('link', { name: 'Sign out' }).click();
    await waitForHeading(page, 'Sign out?');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText('You are not signed in.').waitFor();
    assertNoProblems(watch);
    await context.close();
  });

  test('a two-step account signs in to Messages with a code pushed to its trusted device', async () => {
    const { owner, device } = await ownerWithTrustedDevice(suite.server());
    const { context, watch } = await suite.openContext();
    const page = await context.newPage();
    await page.goto(example.url);
    await page.getByRole('link', { name: 'Sign in with Twostep' }).click();
    await waitForHeading(page, 'Sign in to Messages');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    // This browser is not trusted: the password alone gives the service nothing yet.
    await page.getByRole('button', { name: /Send a code to Ann’s phone/ }).click();
    const push = await device.next((m) => m.type === 'code' && m.purpose === 'sign_in');
    await page.getByLabel('Code').fill(String(push.code));
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForHeading(page, 'Allow Messages to use your account?');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.getByText('Signed in as').waitFor();
    assert.equal(new URL(page.url()).origin, example.url);
    assert.equal(await page.locator('[data-amr]').getAttribute('data-amr'), 'pwd otp mfa');
    assert.equal(await page.locator('[data-acr]').getAttribute('data-acr'), 'urn:twostep:acr:two-step');
    assertNoProblems(watch);
    device.connection.close();
    await context.close();
  });
});
