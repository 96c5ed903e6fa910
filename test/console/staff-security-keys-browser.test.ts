// A staff member's security key in a real browser: Chromium's virtual authenticator (DevTools protocol
// WebAuthn.addVirtualAuthenticator, a USB security key) answers a real navigator.credentials ceremony,
// checked by the server's real verifier. The member signs in with password and code, adds a key at
// Your sign-in, signs out, and signs in again with password and the key. No console errors or CSP
// violations; the pages are accessible and fit a phone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  dependentSteps,
  waitForHeading,
} from '../helpers/browser.ts';
import { createTestStaff, freshCode } from '../helpers/staff.ts';

const { server, openContext } = browserSuite();

async function addVirtualSecurityKey(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: false,
      hasUserVerification: false,
      automaticPresenceSimulation: true,
    },
  });
}

async function passwordStep(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/console');
  await waitForHeading(page, 'Staff sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await waitForHeading(page, 'Authenticator code');
}

describe('a staff member’s security key, in a real browser', () => {
  test('added at Your sign-in, it then answers the second step of the console sign-in', async (s) => {
    const agent = await createTestStaff(server(), 'support');
    const { context, watch } = await openContext();
    s.after(() => context.close());
    const page = await context.newPage();
    await addVirtualSecurityKey(page);
    const step = dependentSteps(s);

    await step('signed in with password and code, the member adds a key', async () => {
      await passwordStep(page, agent.email, agent.password);
      await page.getByLabel('Code').fill(freshCode(server(), agent.secret as string));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForHeading(page, 'Find an account');
      await page.getByRole('link', { name: 'Your sign-in' }).click();
      await waitForHeading(page, 'How you sign in');
      await page.getByText('No security keys yet.').waitFor();
      await assertAccessible(page);
      await page.getByLabel(/Name of the key/).fill('Desk key');
      await page.getByRole('button', { name: 'Add a security key' }).click();
      await waitForHeading(page, 'Add a security key');
      await assertAccessible(page);
      await page.getByRole('main').getByRole('button', { name: 'Add a security key' }).click();
      await page.getByText('The security key was added.').waitFor();
      await page.getByRole('button', { name: 'Remove: Desk key' }).waitFor();
      await assertAccessible(page);
      await assertScreenshots(page, 'console-sign-in-methods');
      const keys = await server().app.services.store.staffSecurityKeys.listForStaff(agent.id);
      assert.deepEqual(
        keys.map((k) => k.name),
        ['Desk key'],
      );
    });

    await step('after signing out, password and the key open the console', async () => {
      await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
      await waitForHeading(page, 'Staff sign-in');
      await passwordStep(page, agent.email, agent.password);
      await assertAccessible(page);
      await assertScreenshots(page, 'console-code-or-key');
      await page.getByRole('button', { name: 'Use a security key' }).click();
      await waitForHeading(page, 'Find an account');
      const [key] = await server().app.services.store.staffSecurityKeys.listForStaff(agent.id);
      assert.ok(key?.lastUsedAt, 'the key’s use is recorded');
    });

    assertNoProblems(watch);
  });
});
