// SPEC §3.2, §3.4, §3.5 and §3.12 in a real browser against the real server on a real port: a
// newcomer signs up, confirms the email, signs in and turns on two-step verification the way Apple's
// web enrolment did it: the explanation screens, a phone verified by SMS (from the development
// outbox), a device verified with the code shown on the web device page in a second browser, the
// recovery key shown once (print view, download) and typed back, the acknowledgement. Then a fresh
// browser signs in: password, the code step, the code pushed to the device page, typed in; a wrong
// code is refused with its message; "Trust this browser" skips the code next time. Finally the owner
// turns it off again through the step-up page. Every page runs without console errors or CSP
// violations, passes the accessibility checks and fits a phone; screenshots land in test-results/.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/app.ts';
import {
  assertAccessible,
  assertNoProblems,
  assertScreenshots,
  browserSuite,
  DESKTOP,
  dependentSteps,
  PHONE,
  SCREENSHOTS_DIR,
  signInOnPortal,
  waitForHeading,
} from '../helpers/browser.ts';
import { outboxFor } from '../helpers/journeys.ts';
import { otherCode, uniqueMobile } from '../helpers/two-step.ts';

const DEVICE_NAME = 'Ann’s phone';
/** The per-account gap between two code sends (SPEC §5): the fake clock steps over it. */
const SEND_GAP_MS = 31_000;

// Resends to one channel within 30 s are refused (SPEC §5; tested in two-step-api.test.ts). Redis keeps
// real time, which the test clock cannot move, so this file turns the gap off.
const { server, openContext } = browserSuite({ CODE_SEND_INTERVAL_SECONDS: '0' });

/** Accessibility checks, then screenshots at both widths; nothing may stick out sideways on a phone. */
async function checkPage(page: Page, name: string): Promise<void> {
  await assertAccessible(page);
  await assertScreenshots(page, `enrol-${name}`);
}

/** The strength meter has rated the password: leaving the page now aborts no request of its own. */
async function strengthShown(page: Page): Promise<void> {
  await page.locator('#password-strength', { hasText: /\S/ }).waitFor();
}

/** The newest code the device page shows, once one with this purpose heading arrives. */
async function codeOnDevice(device: Page, purpose: string): Promise<string> {
  const card = device.locator('#codes li.code-card').first();
  await card.getByRole('heading', { level: 2, name: purpose }).waitFor();
  const code = (await card.locator('.code-value').innerText()).replace(/\s/g, '');
  assert.match(code, /^\d{6}$/);
  return code;
}

describe('turning on two-step verification in a real browser', () => {
  test('enrol with a phone and a device, sign in with a pushed code, trust the browser, turn it off', async (s) => {
    const email = uniqueEmail('enrol');
    const phoneNumber = uniqueMobile();
    const portalCtx = await openContext({ viewport: DESKTOP });
    const deviceCtx = await openContext({ viewport: PHONE });
    const freshCtx = await openContext({ viewport: DESKTOP });
    s.after(async () => {
      await portalCtx.context.close();
      await deviceCtx.context.close();
      await freshCtx.context.close();
    });
    const portal = await portalCtx.context.newPage();
    const device = await deviceCtx.context.newPage();
    const fresh = await freshCtx.context.newPage();
    const step = dependentSteps(s);

    await step('sign up, confirm the email from the outbox, sign in', async () => {
      await portal.goto('/signup');
      await waitForHeading(portal, 'Create your account');
      await portal.getByLabel('Email').fill(email);
      await portal.getByLabel('Full name').fill('Ann Example');
      await portal.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await portal.getByLabel('Date of birth').fill('1990-04-01');
      await portal.getByLabel('Country or region').selectOption('NL');
      await strengthShown(portal);
      await portal.getByRole('button', { name: 'Create account' }).click();
      await waitForHeading(portal, 'Check your email');

      await portal.goto('/dev/outbox');
      await portal.locator('article.message', { hasText: email }).locator('a[href*="/verify-email?token="]').click();
      await waitForHeading(portal, 'Confirm your email address');
      await portal.getByRole('button', { name: 'Confirm email' }).click();
      await waitForHeading(portal, 'Email confirmed');

      await signInOnPortal(portal, email, GOOD_PASSWORD);
      await portal.waitForURL('**/account');
    });

    await step('"Password & Security" shows two-step verification Off with "Get started"', async () => {
      const security = portal.locator('#security');
      assert.match(await security.locator('.two-step-state').innerText(), /Two-step verification\s+Off/);
      await security.getByRole('link', { name: 'Get started' }).waitFor();
      await checkPage(portal, '01-account-off');
    });

    await step('"Get started" leads through the three explanation screens', async () => {
      await portal.locator('#security').getByRole('link', { name: 'Get started' }).click();
      await waitForHeading(portal, 'Protect your account with two-step verification');
      const main = portal.getByRole('main');
      assert.match(await main.innerText(), /Screen 1 of 3/);
      assert.match(await portal.locator('.steps [aria-current="step"]').innerText(), /^1\s+About$/);
      await checkPage(portal, '02-about');

      await main.getByRole('link', { name: 'Continue' }).click();
      await waitForHeading(portal, 'Two of three: keep them safe');
      const rule = await main.innerText();
      assert.match(rule, /With any two of them you can always get back into your account/);
      assert.match(rule, /With fewer than two, nobody can get you back in: not you, and not our support/);
      assert.match(rule, /Support will not be able to reset your password/);
      await checkPage(portal, '03-two-of-three');

      await main.getByRole('link', { name: 'Continue' }).click();
      await waitForHeading(portal, 'Older mail and calendar apps');
      assert.match(await main.innerText(), /app-specific password/);
      await checkPage(portal, '04-legacy-apps');

      await main.getByRole('link', { name: 'Get started' }).click();
      await waitForHeading(portal, 'Add trusted devices and phone numbers');
      assert.equal(await main.getByRole('link', { name: 'Continue' }).count(), 0, 'nothing verified yet');
      assert.match(await main.innerText(), /Verify at least one device or phone number to continue\./);
      await checkPage(portal, '05-devices-empty');
    });

    await step('a phone number: an invalid one is refused, the texted code verifies a real one', async () => {
      await portal.getByLabel('Phone number').fill('12');
      await portal.getByRole('button', { name: 'Text me a code' }).click();
      await portal.getByRole('alert').filter({ hasText: 'Enter a valid phone number' }).waitFor();
      await assertAccessible(portal);

      await portal.getByLabel('Phone number').fill(phoneNumber);
      await portal.getByRole('button', { name: 'Text me a code' }).click();
      await waitForHeading(portal, 'Enter the code we texted you');
      assert.match(await portal.getByRole('main').innerText(), new RegExp(`•••• ${phoneNumber.slice(-2)}`));
      const [sms] = (await outboxFor(server(), phoneNumber)).filter((m) => m.channel === 'sms');
      assert.ok(sms?.code, 'the outbox has the SMS with its code');
      await portal.getByLabel('Code').fill(otherCode(sms.code));
      await portal.getByRole('button', { name: 'Verify phone number' }).click();
      await portal.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();
      await checkPage(portal, '06-phone-code');

      await portal.getByLabel('Code').fill(sms.code);
      await portal.getByRole('button', { name: 'Verify phone number' }).click();
      await waitForHeading(portal, 'Add trusted devices and phone numbers');
      await portal.getByRole('status').filter({ hasText: 'is verified.' }).waitFor();
      const phoneRow = portal.locator('ul.devices li', { hasText: `•••• ${phoneNumber.slice(-2)}` });
      assert.match(await phoneRow.innerText(), /Verified/);
      await portal.getByRole('main').getByRole('link', { name: 'Continue' }).waitFor();
    });

    await step('a device: paired on /device in a second browser, verified with the code it shows', async () => {
      await device.goto('/device');
      await waitForHeading(device, 'Trusted device');
      await device.getByLabel('Email').fill(email);
      await device.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await device.getByLabel('Device name').fill(DEVICE_NAME);
      await device.getByRole('button', { name: 'Pair this device' }).click();
      await device.locator('#device-status[data-state="waiting"]').waitFor();

      await portal.reload();
      const row = portal.locator('ul.devices li', { hasText: DEVICE_NAME });
      assert.match(await row.innerText(), /Not verified/);
      await checkPage(portal, '07-devices-phone-verified');
      await row.getByRole('button', { name: 'Verify' }).click();
      await waitForHeading(portal, `Enter the code shown on ${DEVICE_NAME}`);
      await portal.getByRole('link', { name: 'Back to two-step setup' }).waitFor();
      await assertAccessible(portal);
      const code = await codeOnDevice(device, 'Verify this device');
      await device.screenshot({ path: new URL('enrol-08-device-code-phone.png', SCREENSHOTS_DIR).pathname });
      await portal.getByLabel('Code').fill(code);
      await portal.getByRole('button', { name: 'Verify device' }).click();
      await waitForHeading(portal, 'Add trusted devices and phone numbers');
      await portal
        .getByRole('status')
        .filter({ hasText: `${DEVICE_NAME} is now a trusted device.` })
        .waitFor();
      assert.match(await row.innerText(), /Trusted/);
      assert.match(await portal.getByRole('main').innerText(), /Ready: 2 verified\./);
      await device.locator('#device-status[data-state="trusted"]').waitFor();
      await checkPage(portal, '09-devices-ready');
    });

    let recoveryKey = '';
    await step('the recovery key is shown once, in groups, with a print view and a download', async () => {
      await portal.getByRole('main').getByRole('link', { name: 'Continue' }).click();
      await waitForHeading(portal, 'Your recovery key');
      await checkPage(portal, '10-key-intro');
      await portal.getByRole('button', { name: 'Create my recovery key' }).click();
      await waitForHeading(portal, 'Print or write down your recovery key');
      recoveryKey = (await portal.locator('.recovery-key').innerText()).replace(/\s/g, '');
      assert.match(recoveryKey, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
      assert.equal(await portal.locator('.recovery-key .key-group').count(), 4);
      await checkPage(portal, '11-key-shown');
      // Printed from this page too, only the key and its lines come out.
      await portal.emulateMedia({ media: 'print' });
      assert.ok(await portal.locator('header.top').isHidden(), 'no navigation on paper');
      assert.ok(await portal.getByRole('button', { name: 'Print view' }).isHidden(), 'no buttons on paper');
      assert.ok(await portal.locator('.recovery-key').isVisible());
      await portal.emulateMedia({ media: 'screen' });

      const download = portal.waitForEvent('download');
      await portal.getByRole('button', { name: 'Download as a text file' }).click();
      const file = await download;
      assert.equal(file.suggestedFilename(), 'twostep-recovery-key.txt');
      const content = await readFile(await file.path(), 'utf8');
      assert.ok(content.includes(recoveryKey), 'the file holds the key');
      assert.ok(content.includes(email));

      const popup = portalCtx.context.waitForEvent('page');
      await portal.getByRole('button', { name: 'Print view' }).click();
      const print = await popup;
      await waitForHeading(print, 'Twostep recovery key');
      assert.equal((await print.locator('.recovery-key').innerText()).replace(/\s/g, ''), recoveryKey);
      assert.match(await print.getByRole('main').innerText(), new RegExp(email.replace(/\./g, '\\.')));
      await checkPage(print, '12-key-print-view');
      await print.emulateMedia({ media: 'print' });
      await print.screenshot({ path: new URL('enrol-12-key-printed.png', SCREENSHOTS_DIR).pathname, fullPage: true });
      await print.close();
    });

    await step('typing the key back: a typo is caught, the key (in any case, without dashes) is accepted', async () => {
      await portal.getByRole('main').getByRole('link', { name: 'Continue' }).click();
      await waitForHeading(portal, 'Type your recovery key');
      const typo = `${recoveryKey[0] === 'A' ? 'B' : 'A'}${recoveryKey.slice(1)}`;
      await portal.getByLabel('Recovery key').fill(typo);
      await portal.getByRole('button', { name: 'Confirm recovery key' }).click();
      await portal
        .getByRole('alert')
        .filter({ hasText: 'That recovery key has a typo: check each character.' })
        .waitFor();
      await checkPage(portal, '13-key-typo');

      await portal.getByLabel('Recovery key').fill(recoveryKey.replace(/-/g, ' ').toLowerCase());
      await portal.getByRole('button', { name: 'Confirm recovery key' }).click();
      await waitForHeading(portal, 'Turn on two-step verification');
    });

    await step('acknowledging the conditions turns it on, and an email says so', async () => {
      const main = portal.getByRole('main');
      assert.match(await main.innerText(), /Support cannot reset my password/);
      await checkPage(portal, '14-acknowledge');
      await portal.getByLabel('I understand the conditions above').check();
      await portal.getByRole('button', { name: 'Turn on two-step verification' }).click();
      await waitForHeading(portal, 'Two-step verification is on');
      await checkPage(portal, '15-done');
      const on = (await outboxFor(server(), email)).find((m) => m.subject === 'Two-step verification is on');
      assert.ok(on, 'the "two-step verification is on" email');

      await main.getByRole('link', { name: 'Back to your account' }).click();
      await portal.waitForURL('**/account#security');
      assert.match(await portal.locator('#security .two-step-state').innerText(), /Two-step verification\s+On/);
      await portal.locator('#security').getByRole('link', { name: 'Turn off' }).waitFor();
      await checkPage(portal, '16-account-on');
    });

    await step('a fresh browser: password, then the code step; a wrong code is refused', async () => {
      await signInOnPortal(fresh, email, GOOD_PASSWORD);
      await fresh.waitForURL('**/signin/verify');
      await waitForHeading(fresh, 'Verify it’s you');
      const main = fresh.getByRole('main');
      await main.getByRole('button', { name: `Text a code to •••• ${phoneNumber.slice(-2)}` }).waitFor();
      await checkPage(fresh, '17-signin-code-step');

      server().clock.advance(SEND_GAP_MS);
      await main.getByRole('button', { name: `Send a code to ${DEVICE_NAME}` }).click();
      await fresh
        .getByRole('status')
        .filter({ hasText: `We sent a code to ${DEVICE_NAME}.` })
        .waitFor();
      const code = await codeOnDevice(device, 'Sign-in request');
      await device.screenshot({ path: new URL('enrol-18-signin-code-on-device-phone.png', SCREENSHOTS_DIR).pathname });

      await fresh.getByLabel('Code').fill(otherCode(code));
      await fresh.getByRole('button', { name: 'Verify', exact: true }).click();
      await fresh.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();
      await checkPage(fresh, '19-signin-wrong-code');

      await fresh.getByLabel('Code').fill(code);
      await fresh.getByLabel('Trust this browser for 30 days').check();
      await fresh.getByRole('button', { name: 'Verify', exact: true }).click();
      await fresh.waitForURL('**/account');
      assert.match(await fresh.locator('#security .two-step-state').innerText(), /On/);
    });

    await step('the trusted browser signs in next time without a code', async () => {
      await fresh.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
      await waitForHeading(fresh, 'Sign in');
      await signInOnPortal(fresh, email, GOOD_PASSWORD);
      await fresh.waitForURL('**/account');
      await waitForHeading(fresh, 'Account');
    });

    await step('turning it off asks for a recent code first, then the confirmation', async () => {
      // The enrolment counted as a verification; ten minutes later a protected change needs a new one.
      server().clock.advance(11 * 60_000);
      await portal.reload();
      await portal.locator('#security').getByRole('link', { name: 'Turn off' }).click();
      await portal.waitForURL('**/account/verify?return=*');
      await waitForHeading(portal, 'Verify it’s you before this change');
      await assertAccessible(portal);
      await portal
        .getByRole('main')
        .getByRole('button', { name: `Send a code to ${DEVICE_NAME}` })
        .click();
      const code = await codeOnDevice(device, 'Verification request');
      await portal.getByLabel('Code').fill(code);
      await portal.getByRole('button', { name: 'Verify', exact: true }).click();

      await waitForHeading(portal, 'Turn off two-step verification?');
      assert.match(await portal.getByRole('main').innerText(), /your trusted devices stay registered/);
      await checkPage(portal, '20-disable');
      await portal.getByLabel('I understand that my account will be protected by my password only').check();
      await portal.getByRole('button', { name: 'Turn off two-step verification' }).click();
      await portal.getByRole('status').filter({ hasText: 'Two-step verification is off.' }).waitFor();
      assert.match(await portal.locator('#security .two-step-state').innerText(), /Off/);
      const off = (await outboxFor(server(), email)).find((m) => m.subject === 'Two-step verification was turned off');
      assert.ok(off, 'the "turned off" email');
      // Turning it off is a security change: the waiting period applies before it can go on again.
      assert.match(await portal.locator('#security').innerText(), /You can turn it on from /);
      assert.equal(await portal.locator('#security').getByRole('link', { name: 'Get started' }).count(), 0);
      await checkPage(portal, '21-account-waiting');
    });

    assertNoProblems(portalCtx.watch, 'the portal');
    assertNoProblems(deviceCtx.watch, 'the device');
    assertNoProblems(freshCtx.watch, 'the fresh');
  });

  test('the enrolment pages are in Dutch for a Dutch browser', async (s) => {
    const { context, watch } = await openContext({ viewport: PHONE });
    s.after(() => context.close());
    const page = await context.newPage();
    const email = uniqueEmail('enrol.nl');
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Full name').fill('An Voorbeeld');
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Date of birth').fill('1990-04-01');
    await page.getByLabel('Country or region').selectOption('NL');
    await strengthShown(page);
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForHeading(page, 'Check your email');
    const link = (await outboxFor(server(), email)).flatMap((m) => m.links).find((l) => l.includes('/verify-email'));
    assert.ok(link);
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm email' }).click();
    await waitForHeading(page, 'Email confirmed');
    await signInOnPortal(page, email, GOOD_PASSWORD);
    await page.waitForURL('**/account');
    const footer = page.getByRole('contentinfo');
    await footer.getByLabel('Language').selectOption('nl');
    await footer.getByRole('button', { name: 'Change', exact: true }).click();
    await page.getByRole('link', { name: 'Aan de slag' }).click();
    await waitForHeading(page, 'Bescherm uw account met verificatie in twee stappen');
    await page.getByRole('main').getByRole('link', { name: 'Doorgaan' }).click();
    await waitForHeading(page, 'Twee van de drie: bewaar ze goed');
    await checkPage(page, 'nl-two-of-three');
    await page.getByRole('main').getByRole('link', { name: 'Doorgaan' }).click();
    await page.getByRole('main').getByRole('link', { name: 'Aan de slag' }).click();
    await waitForHeading(page, 'Vertrouwde apparaten en telefoonnummers toevoegen');
    await page.getByLabel('Telefoonnummer').waitFor();
    await assertAccessible(page);
    assertNoProblems(watch, 'the Dutch');
  });
});
