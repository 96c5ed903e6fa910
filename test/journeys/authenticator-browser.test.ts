// An authenticator app added in a real browser: Password & Security, "Manage authenticator apps",
// add one, read the secret off the page as a person typing it into their app would, type the app's
// code back. The QR code is an <img> with a data URI (nothing the CSP refuses), the pages are usable
// with a screen reader, and the console stays clean.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  dependentSteps,
  signInOnPortal,
  waitForHeading,
} from '../helpers/browser.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';

const { server, openContext } = browserSuite();

describe('an authenticator app, in a real browser', () => {
  test('added from Password & Security with the secret read from the page', async (s) => {
    const owner = await createVerifiedAccount(server());
    const { context, watch } = await openContext();
    const page = await context.newPage();
    const step = dependentSteps(s);
    let secret = '';

    await step('Password & Security links to the authenticator apps', async () => {
      await signInOnPortal(page, owner.email, owner.password);
      await page.goto('/account');
      await page.getByRole('link', { name: 'Manage authenticator apps' }).click();
      await waitForHeading(page, 'Authenticator apps');
      await assertAccessible(page);
    });

    await step('adding one shows a QR code and the secret in groups', async () => {
      await page.getByRole('button', { name: 'Add an authenticator app' }).click();
      await waitForHeading(page, 'Set up your authenticator app');
      const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
      assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml;base64,/);
      assert.ok(
        await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
        'the QR code renders',
      );
      const shown = await page.locator('[data-totp-secret]').innerText();
      assert.match(shown, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
      secret = shown.replace(/\s/g, '');
      await assertAccessible(page);
      await assertScreenshots(page, 'authenticator-1-setup');
    });

    await step('a mistyped code keeps the same secret on the page', async () => {
      await page.getByLabel('The six-digit code the app now shows').fill('000000');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal((await page.locator('[data-totp-secret]').innerText()).replace(/\s/g, ''), secret);
    });

    await step("the app's code confirms it", async () => {
      const app = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
      const code = app.generate({ timestamp: server().clock.now().getTime() });
      await page.getByLabel('The six-digit code the app now shows').fill(code);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await waitForHeading(page, 'Authenticator apps');
      await page.getByText('The authenticator app was added.').waitFor();
      await page.getByRole('button', { name: 'Remove: Authenticator app' }).waitFor();
      await assertAccessible(page);
      const mails = await outboxFor(server(), owner.email);
      assert.ok(mails.some((m) => m.subject === 'An authenticator app was added'));
      assertNoProblems(watch);
    });

    await step(
      "with two-step verification on, the sign-in code step takes the app's code, no send needed",
      async () => {
        // Turned on through the API (the portal's enrolment has its own tests); the app is the only factor.
        const token = await signInToken(server(), owner.email, owner.password);
        const key = (
          await server().request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) })
        ).json();
        for (const [url, payload] of [
          ['/api/v1/two-step/recovery-key/confirm', { recoveryKey: key.recoveryKey }],
          ['/api/v1/two-step/enable', { acknowledged: true }],
        ] as const) {
          const done = await server().request({ method: 'POST', url, headers: bearer(token), payload });
          assert.equal(done.statusCode, 200, done.body);
        }
        const fresh = await openContext();
        const signIn = await fresh.context.newPage();
        await signInOnPortal(signIn, owner.email, owner.password);
        await signIn.getByText('Enter the code from your authenticator app.').waitFor();
        assert.equal(await signIn.getByRole('button', { name: /Send/ }).count(), 0, 'nothing to send to');
        await assertAccessible(signIn);
        // The enrolment used this step's code: the app shows the next one.
        server().clock.advance(30_000);
        const app = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
        await signIn.getByLabel('Code').fill(app.generate({ timestamp: server().clock.now().getTime() }));
        await signIn.getByRole('button', { name: 'Verify' }).click();
        await signIn.waitForURL(/\/account/);
        assertNoProblems(fresh.watch);
        await fresh.context.close();
      },
    );

    await context.close();
  });
});
