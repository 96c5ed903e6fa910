// Security keys and passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol
// WebAuthn.addVirtualAuthenticator, a platform authenticator with resident keys and user verification)
// answers a real navigator.credentials ceremony, checked by the server's real verifier. The owner adds
// a passkey from Password & Security, answers the sign-in code step with it, signs in with it alone,
// and confirms a change with it. No console errors or CSP violations; the pages are accessible.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  dependentSteps,
  signInOnPortal,
  waitForHeading,
} from '../helpers/browser.ts';
import { enrolTwoStep, smsCode } from '../helpers/two-step.ts';

const { server, openContext } = browserSuite({ CODE_SEND_INTERVAL_SECONDS: '0' });

async function addVirtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
  await waitForHeading(page, 'Sign in');
}

describe('security keys and passkeys, in a real browser', () => {
  test('a passkey is added, answers the code step, signs in alone and confirms a change', async (s) => {
    const owner = await enrolTwoStep(server());
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    await addVirtualAuthenticator(page);
    const step = dependentSteps(s);

    await step('signed in with a texted code, Password & Security links to the keys', async () => {
      await signInOnPortal(page, owner.email, owner.password);
      await page.getByRole('button', { name: /Text a code to/ }).click();
      await page.getByLabel('Code').fill(await smsCode(server(), owner.phone));
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForHeading(page, 'Account');
      await page.getByRole('link', { name: 'Manage security keys and passkeys' }).click();
      await waitForHeading(page, 'Security keys and passkeys');
      await page.getByText('You have no security key or passkey yet.').waitFor();
      await assertAccessible(page);
    });

    await step('adding one runs the browser ceremony and lists it as a passkey', async () => {
      await page.getByLabel('Name of the key').fill('This laptop');
      await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
      await waitForHeading(page, 'Add a security key or passkey');
      await assertAccessible(page);
      await page.getByRole('main').getByRole('button', { name: 'Add a security key or passkey' }).click();
      await page.getByText('The security key was added.').waitFor();
      await page.getByText('This laptop').waitFor();
      await page.getByText('Passkey: can also sign you in without your password.').waitFor();
      await page.getByRole('button', { name: 'Remove: This laptop' }).waitFor();
      await assertAccessible(page);
      await assertScreenshots(page, 'security-keys-list');
      const keys = await server().app.services.store.securityKeys.listForAccount(
        (await server().app.services.store.accounts.findByEmail(owner.email))?.id ?? '',
      );
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.passkey, true);
    });

    await step('the sign-in code step takes the key instead of a code', async () => {
      await signOut(page);
      await signInOnPortal(page, owner.email, owner.password);
      const useKey = page.getByRole('button', { name: 'Use a security key or passkey' });
      await useKey.waitFor();
      await assertAccessible(page);
      await assertScreenshots(page, 'security-key-code-step');
      await useKey.click();
      await waitForHeading(page, 'Account');
    });

    await step('a passkey signs in without the password', async () => {
      await signOut(page);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await waitForHeading(page, 'Account');
    });

    await step('a change after ten minutes is confirmed with the key', async () => {
      server().clock.advance(11 * 60_000);
      await page.getByLabel('Full name').fill('Ann Keyholder');
      await page.getByRole('button', { name: 'Save name' }).click();
      await waitForHeading(page, 'Verify it’s you before this change');
      await page.getByRole('button', { name: 'Use a security key or passkey' }).click();
      await waitForHeading(page, 'Account');
      // Back on the form it came from, nothing saved yet; now saving goes through.
      assert.notEqual((await server().app.services.store.accounts.findByEmail(owner.email))?.name, 'Ann Keyholder');
      await page.getByLabel('Full name').fill('Ann Keyholder');
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.getByRole('status').waitFor();
      assert.equal((await server().app.services.store.accounts.findByEmail(owner.email))?.name, 'Ann Keyholder');
      assertNoProblems(watch);
    });
  });
});
