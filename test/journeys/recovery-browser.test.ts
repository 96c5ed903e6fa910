// SPEC §3.7 in a real browser: the owner of a two-step account forgot the password. From the sign-in
// page: "Forgot your password?", the email, then the recovery key, a code pushed to the trusted
// device, a new password, and the new recovery key shown once. Then the new password works and still
// asks for a code. Pages must be usable with a screen reader and free of console errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  dependentSteps,
  waitForHeading,
} from '../helpers/browser.ts';
import { ownerWithTrustedDevice } from '../helpers/devices.ts';
import { outboxFor } from '../helpers/journeys.ts';

const NEW_PASSWORD = 'amber lantern drifts slowly';

const { server, openContext } = browserSuite({ CODE_SEND_INTERVAL_SECONDS: '0' });

describe('forgot password on a two-step account, in a real browser', () => {
  test('recovery key and a pushed code, a new password, a new key', async (s) => {
    const { owner, device } = await ownerWithTrustedDevice(server());
    const { context, watch } = await openContext();
    const page = await context.newPage();
    const step = dependentSteps(s);
    let newKey = '';

    await step('"Forgot your password?" asks for the email and answers the same for everyone', async () => {
      await page.goto('/signin');
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await waitForHeading(page, 'Reset your password');
      await assertAccessible(page);
      await page.getByLabel('Email').fill(owner.email);
      await page.getByRole('main').getByRole('button', { name: 'Continue' }).click();
      await waitForHeading(page, 'Check your email');
      await assertScreenshots(page, 'recovery-1-check-email');
    });

    await step('the recovery key', async () => {
      await page.getByRole('link', { name: 'Continue with your recovery key' }).click();
      await waitForHeading(page, 'Recover your account with your recovery key');
      await assertAccessible(page);
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Recovery key').fill(owner.recoveryKey.toLowerCase());
      await page.getByRole('main').getByRole('button', { name: 'Continue' }).click();
      await waitForHeading(page, 'Enter a verification code');
      await assertScreenshots(page, 'recovery-2-code');
    });

    await step('a code pushed to the trusted device', async () => {
      await page.getByRole('button', { name: /Send a code to Ann’s phone/ }).click();
      const push = await device.next((m) => m.type === 'code' && m.purpose === 'recovery');
      await page.getByLabel('Code').fill(String(push.code));
      await page.getByRole('button', { name: 'Verify' }).click();
      await waitForHeading(page, 'Choose a new password');
      await assertAccessible(page);
    });

    await step('the new password, and the new recovery key shown once', async () => {
      await page.getByLabel('New password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Save the new password' }).click();
      await waitForHeading(page, 'Your password was changed');
      newKey = (await page.locator('.recovery-key').innerText()).replace(/\s/g, '');
      assert.match(newKey, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
      assert.notEqual(newKey, owner.recoveryKey);
      await assertAccessible(page);
      await assertScreenshots(page, 'recovery-3-new-key');
      const mails = await outboxFor(server(), owner.email);
      assert.ok(mails.some((m) => m.subject === 'Your password was reset'));
    });

    await step('the new password signs in, and still asks for a code', async () => {
      await page.getByRole('link', { name: 'Sign in' }).first().click();
      await waitForHeading(page, 'Sign in');
      await page.getByLabel('Email').fill(owner.email);
      await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Code').waitFor();
      assertNoProblems(watch);
    });

    device.connection.close();
    await context.close();
  });
});
