// The new account pages in a real browser: the profile forms, a trusted phone number, the email change (its own page, the
// link in the outbox, the confirm button) and "This wasn't me" from a security email. Every page must
// load without console or CSP errors, be usable with a screen reader and fit a phone screen.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/app.ts';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  dependentSteps,
  signInOnPortal,
  waitForHeading,
} from '../helpers/browser.ts';
import { createVerifiedAccount, outboxFor } from '../helpers/journeys.ts';
import { smsCode, uniqueMobile } from '../helpers/two-step.ts';

const { server, openContext } = browserSuite();

describe('changing the profile and the email address, then "This wasn\'t me", in a real browser', () => {
  test('date of birth, country, email, and the report link of the "email changed" notice', async (s) => {
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    const step = dependentSteps(s);
    const fields = await createVerifiedAccount(server());
    const newEmail = uniqueEmail('moved.in.a.browser');

    await step('the account page changes the date of birth and the country, with notices', async () => {
      await signInOnPortal(page, fields.email, GOOD_PASSWORD);
      await waitForHeading(page, 'Account');
      await assertAccessible(page);
      await assertScreenshots(page, 'account-profile-forms');
      await page.getByLabel('Date of birth').fill('1981-07-09');
      await page.getByRole('button', { name: 'Save date of birth' }).click();
      await page.getByRole('status').filter({ hasText: 'Your date of birth was saved.' }).waitFor();
      await page.getByLabel('Country or region').selectOption('BE');
      await page.getByRole('button', { name: 'Save country or region' }).click();
      await page.getByRole('status').filter({ hasText: 'Your country or region was saved.' }).waitFor();
      assert.match(await page.locator('#profile').innerText(), /Belgium/);
      assert.match(await page.locator('#profile').innerText(), /July 9, 1981/);
    });

    await step('Password & Security adds a trusted phone number with the code texted to it', async () => {
      const number = uniqueMobile();
      await page.getByRole('link', { name: 'Add a phone number' }).click();
      await waitForHeading(page, 'Add a trusted phone number');
      await assertAccessible(page);
      await assertScreenshots(page, 'account-add-phone');
      await page.getByLabel('Phone number').fill(number);
      await page.getByRole('button', { name: 'Text me a code' }).click();
      await waitForHeading(page, 'Enter the code we texted you');
      await assertAccessible(page);
      await page.getByLabel('Code').fill(await smsCode(server(), number));
      await page.getByRole('button', { name: 'Verify phone number' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Your phone number •••• ${number.slice(-2)} is verified.` })
        .waitFor();
      assert.match(await page.locator('#security').innerText(), /Verified/);
    });

    await step('the email page sends a link to the new address', async () => {
      await page.getByRole('link', { name: 'Change email address' }).click();
      await waitForHeading(page, 'Change email');
      await assertAccessible(page);
      await page.getByLabel('New email address').fill(newEmail);
      await page.getByLabel('Current password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Send confirmation link' }).click();
      await page.getByRole('status').filter({ hasText: 'Check the new mailbox' }).waitFor();
    });

    await step('the link opens a page whose button makes the change', async () => {
      const link = (await outboxFor(server(), newEmail))[0]?.links.find((l) => l.includes('/confirm-email-change'));
      assert.ok(link);
      await page.goto(link);
      await waitForHeading(page, 'Confirm your new email address');
      await assertAccessible(page);
      await page.getByRole('button', { name: 'Confirm new email' }).click();
      await waitForHeading(page, 'Email address changed');
      assert.match(await page.getByRole('main').innerText(), new RegExp(newEmail.replace(/\./g, '\\.')));
    });

    await step('"This wasn\'t me" in the old mailbox signs out everywhere and gives the address back', async () => {
      const notice = (await outboxFor(server(), fields.email)).find(
        (m) => m.subject === 'Your email address was changed',
      );
      const link = notice?.links.find((l) => l.includes('/not-me?token='));
      assert.ok(link);
      await page.goto(link);
      await waitForHeading(page, 'This wasn’t me');
      await assertAccessible(page);
      await assertScreenshots(page, 'not-me');
      assert.match(await page.getByRole('main').innerText(), /Your email address was changed/);
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await waitForHeading(page, 'Your account was signed out everywhere');
      await assertAccessible(page);
      assert.equal(
        await page.getByRole('link', { name: 'Reset your password' }).getAttribute('href'),
        '/forgot-password',
      );
      await page.goto('/account');
      await waitForHeading(page, 'Sign in');
      await signInOnPortal(page, fields.email, GOOD_PASSWORD);
      await waitForHeading(page, 'Account');
      assertNoProblems(watch);
    });
  });
});
