// SPEC §3.1–3.3 in a real browser against the real server on a real port: a newcomer signs up,
// confirms the email from the development outbox, signs in, changes the password, reads the recent
// activity, signs out, is refused the old password, signs in with the new one and switches to Dutch.
// Every page must load without console errors, CSP violations or script errors, be usable with a
// screen reader (labels, one h1, announced errors, a language) and fit a phone screen.
// Screenshots land in test-results/ (git-ignored) for a person to look at.
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

const NEW_PASSWORD = 'amber kettle hums at dawn';

const { server, openContext } = browserSuite();

describe('the newcomer journey in a real browser', () => {
  test('sign up, confirm, sign in, change the password, read the activity, sign out, switch to Dutch', async (s) => {
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    const step = dependentSteps(s);
    // A long address, as people have: it must wrap on a phone, not push the page sideways.
    const email = uniqueEmail('newcomer.with.a.rather.long.mailbox.name');

    await step('sign up: a weak password is refused beside the form, then the account is created', async () => {
      await page.goto('/signup');
      await waitForHeading(page, 'Create your account');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      await assertAccessible(page);
      await assertScreenshots(page, 'signup');

      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Full name').fill('Ann Example');
      await page.getByLabel('Password', { exact: true }).fill('short');
      await page.getByLabel('Date of birth').fill('1990-04-01');
      await page.getByLabel('Country or region').selectOption('NL');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('alert').filter({ hasText: 'Your password is too short.' }).waitFor();
      await assertAccessible(page);
      await assertScreenshots(page, 'signup-error');
      assert.equal(await page.getByLabel('Email').inputValue(), email, 'what was typed is kept');
      assert.equal(await page.getByLabel('Country or region').inputValue(), 'NL');
      assert.equal(
        await page.getByLabel('Password', { exact: true }).inputValue(),
        '',
        'a password is never sent back',
      );

      await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await waitForHeading(page, 'Check your email');
      assert.match(await page.getByRole('main').innerText(), new RegExp(email.replace(/\./g, '\\.')));
      await assertAccessible(page);
    });

    await step('the emailed link opens a confirm page; its button activates the account', async () => {
      await page.goto('/dev/outbox');
      await waitForHeading(page, 'Development outbox');
      const link = page.locator('article.message', { hasText: email }).locator('a[href*="/verify-email?token="]');
      assert.equal(await link.count(), 1, 'one verification link for this address');
      assert.ok((await link.getAttribute('href'))?.startsWith(`${server().baseUrl}/verify-email?token=`));
      await link.click();
      await waitForHeading(page, 'Confirm your email address');
      await assertAccessible(page);
      await page.getByRole('button', { name: 'Confirm email' }).click();
      await waitForHeading(page, 'Email confirmed');
      await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
      await waitForHeading(page, 'Sign in');
    });

    await step('sign in lands on the account page with "Password & Security"', async () => {
      await assertAccessible(page);
      await assertScreenshots(page, 'signin');
      await signInOnPortal(page, email, GOOD_PASSWORD);
      await page.waitForURL('**/account');
      await waitForHeading(page, 'Account');
      const main = page.getByRole('main');
      assert.match(await main.innerText(), new RegExp(`Signed in as ${email.replace(/\./g, '\\.')}`));
      await main.getByRole('heading', { level: 2, name: 'Password & Security' }).waitFor();
      await assertAccessible(page);
      await assertScreenshots(page, 'account');
    });

    await step('changing the password needs the current one and says when it worked', async () => {
      await page.getByLabel('Current password').fill('not my password at all');
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('alert').filter({ hasText: 'Your current password is not correct.' }).waitFor();
      await assertAccessible(page);

      await page.getByLabel('Current password').fill(GOOD_PASSWORD);
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('status').filter({ hasText: 'Your password was changed.' }).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0);
    });

    await step('recent activity lists what happened, newest first', async () => {
      await page.getByRole('navigation').getByRole('link', { name: 'Recent activity' }).click();
      await waitForHeading(page, 'Recent activity');
      const what = await page.locator('table.activity tbody tr td:first-child').allInnerTexts();
      assert.deepEqual(what.slice(0, 4), [
        'Password changed',
        'Signed in',
        'Email address confirmed',
        'Account created',
      ]);
      await assertAccessible(page);
      await assertScreenshots(page, 'activity');
    });

    await step('sign out ends the session', async () => {
      await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
      await waitForHeading(page, 'Sign in');
      await page.goto('/account');
      await waitForHeading(page, 'Sign in');
      assert.equal(new URL(page.url()).pathname, '/signin', 'the account page needs a session');
    });

    await step('the old password is refused with a visible message; the new one works', async () => {
      await signInOnPortal(page, email, GOOD_PASSWORD);
      await page.getByRole('alert').filter({ hasText: 'The email or password is not correct.' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/signin');
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      await assertAccessible(page);
      await assertScreenshots(page, 'signin-error');

      await signInOnPortal(page, email, NEW_PASSWORD);
      await page.waitForURL('**/account');
      await page.getByRole('heading', { level: 2, name: 'Password & Security' }).waitFor();
    });

    await step('the footer switches the portal to Dutch, signed in and after signing out', async () => {
      const footer = page.getByRole('contentinfo');
      await footer.getByLabel('Language').selectOption('nl');
      await footer.getByRole('button', { name: 'Change', exact: true }).click();
      await page.getByRole('heading', { level: 2, name: 'Wachtwoord en beveiliging' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
      assert.equal(new URL(page.url()).pathname, '/account', 'the switch comes back to the same page');
      await assertAccessible(page);

      await page.getByRole('navigation').getByRole('button', { name: 'Uitloggen' }).click();
      await waitForHeading(page, 'Inloggen');
      assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
      assert.equal(await page.getByLabel('Taal').inputValue(), 'nl');
    });

    assertNoProblems(watch);
  });

  test('a browser that asks for Dutch gets Dutch pages', async (s) => {
    const { context, watch } = await openContext({ locale: 'nl-NL' });
    s.after(() => context.close());
    const page = await context.newPage();
    await page.goto('/signin');
    await waitForHeading(page, 'Inloggen');
    assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
    await page.getByLabel('Wachtwoord', { exact: true }).waitFor();
    await assertAccessible(page);
    await page.getByRole('main').getByRole('link', { name: 'Account aanmaken' }).click();
    await waitForHeading(page, 'Maak uw account aan');
    await page.getByLabel('Geboortedatum').waitFor();
    await assertAccessible(page);
    assertNoProblems(watch);
  });

  test('the strength meter rates a common password weak and a long passphrase strong', async (s) => {
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    await page.goto('/signup');
    await waitForHeading(page, 'Create your account');
    const meter = page.locator('#password-meter');
    await meter.waitFor({ state: 'visible' });
    await page.getByLabel('Password', { exact: true }).fill('password1');
    await page.locator('#password-strength', { hasText: /^(Very weak|Weak)$/ }).waitFor();
    assert.ok((await meter.evaluate((m: HTMLMeterElement) => m.value)) <= 1);
    await page.getByLabel('Password', { exact: true }).fill('quiet orchards remember winter tides');
    await page.locator('#password-strength', { hasText: /^(Strong|Very strong)$/ }).waitFor();
    assert.ok((await meter.evaluate((m: HTMLMeterElement) => m.value)) >= 3);
    await assertAccessible(page);
    assertNoProblems(watch);
  });

  test('the watch itself notices a CSP violation and a script error', async (s) => {
    // Proves the "no problems" assertions above can fail: an inline style and a thrown error.
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    await page.goto('/signin');
    await waitForHeading(page, 'Sign in');
    const cspViolation = watch.problemMatching(/^CSP violation: style-src/);
    const pageError = watch.problemMatching(/boom from the page/);
    await page.evaluate(`document.body.setAttribute('style', 'color: red')`);
    await page.evaluate(`setTimeout(() => { throw new Error('boom from the page') })`);
    await Promise.all([cspViolation, pageError]);
    assert.notEqual(await page.evaluate(`getComputedStyle(document.body).color`), 'rgb(255, 0, 0)', 'CSP blocked it');
    assert.equal(watch.problems().length >= 2, true);
  });
});
