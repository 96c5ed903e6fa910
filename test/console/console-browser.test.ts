// The support console in a real browser (SPEC §3.15): a support agent signs in with password and
// authenticator code, finds a customer by email, opens the account, tries to send a password reset
// link to an account with two-step verification, and gets the refusal page to read to the customer.
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
import { outboxFor } from '../helpers/journeys.ts';
import { createTestStaff, freshCode } from '../helpers/staff.ts';
import { enrolTwoStep } from '../helpers/two-step.ts';

const { server, openContext } = browserSuite();

describe('the support console in a real browser', () => {
  test('search, open a 2SV account, try a reset, see the refusal', async (s) => {
    const agent = await createTestStaff(server(), 'support');
    const owner = await enrolTwoStep(server(), { name: 'Carla Customer' });
    const { context, watch } = await openContext();
    const page = await context.newPage();
    const step = dependentSteps(s);

    await step('sign in with password and authenticator code', async () => {
      await page.goto('/console');
      await waitForHeading(page, 'Staff sign-in');
      await assertAccessible(page);
      await page.getByLabel('Email').fill(agent.email);
      await page.getByLabel('Password').fill(agent.password);
      await page.getByRole('button', { name: 'Continue' }).click();
      await waitForHeading(page, 'Authenticator code');
      await assertAccessible(page);
      await page.getByLabel('Code').fill(freshCode(server(), agent.secret as string));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForHeading(page, 'Find an account');
      await assertAccessible(page);
    });

    await step('search by email and open the account', async () => {
      await page.getByLabel('Email address (or its beginning) or account id').fill(owner.email.slice(0, 12));
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: owner.email }).click();
      await page.getByRole('heading', { level: 1, name: /Carla Customer/ }).waitFor();
      await assertAccessible(page);
      assert.equal(await page.locator('[data-two-step]').getAttribute('data-two-step'), 'on');
      assert.ok(!(await page.content()).includes(owner.phone), 'the full phone number is shown');
      await assertScreenshots(page, 'console-account');
    });

    await step('a reset on a 2SV account is refused with the two-of-three explanation', async () => {
      await page.getByRole('button', { name: 'Email a password reset link' }).click();
      await waitForHeading(page, 'Support cannot do this');
      await assertAccessible(page);
      await page.getByText('SUPPORT_RESET_FORBIDDEN').waitFor();
      const readOut = await page.locator('[data-read-out]').innerText();
      assert.match(readOut, /nobody at Twostep can reset it/);
      assert.match(readOut, /two of these three/);
      await assertScreenshots(page, 'console-refused');
      const mail = await outboxFor(server(), owner.email);
      assert.ok(!mail.some((m) => m.links.some((l) => l.includes('/reset-password'))));
      assert.ok(mail.some((m) => /asked Twostep support/.test(m.body)));
    });

    assertNoProblems(watch);
    await context.close();
  });
});
