// SPEC §3.5–3.6 and §6 in a real browser: the web device page (/device) on a phone and the account
// page on a computer, against the real server on a real port. The phone pairs itself (its key made
// by WebCrypto and kept in IndexedDB), the owner asks to verify it, answers "This wasn't me" on the
// phone to one code and types the next one into the account page; then removes the phone, which
// goes back to pairing. Both browsers must run without console errors or CSP violations (the
// WebSocket included), pages must be usable with a screen reader, and the device page must look
// right on a phone: screenshots land in test-results/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertAccessible,
  assertNoProblems,
  browserSuite,
  DESKTOP,
  dependentSteps,
  PHONE,
  SCREENSHOTS_DIR,
  screenshotBothWidths,
  waitForHeading,
} from '../helpers/browser.ts';
import { bearer, createVerifiedAccount, outboxFor, signInToken } from '../helpers/journeys.ts';
import { enrolTwoStep, otherCode, smsCode } from '../helpers/two-step.ts';

const DEVICE_NAME = 'Ann’s phone';

// Resends to one channel within 30 s are refused (SPEC §5; tested in two-step-api.test.ts). Redis keeps
// real time, which the test clock cannot move, so this file turns the gap off.
const { server, openContext } = browserSuite({ CODE_SEND_INTERVAL_SECONDS: '0' });

/** A full-page screenshot at phone width only: the device page is made for a phone. */
async function phoneScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: new URL(`${name}-phone.png`, SCREENSHOTS_DIR).pathname, fullPage: true });
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  assert.equal(overflow, 0, `${name} is ${overflow}px wider than a phone screen`);
}

/** The one device row of the account page. */
function deviceRow(page: Page) {
  return page.locator('ul.devices li', { hasText: DEVICE_NAME });
}

/** The code the phone shows now (the newest card), and the card itself. */
async function codeOnPhone(phone: Page): Promise<{ code: string; card: ReturnType<Page['locator']> }> {
  const card = phone.locator('#codes li.code-card').first();
  await card.waitFor();
  const code = (await card.locator('.code-value').innerText()).replace(/\s/g, '');
  assert.match(code, /^\d{6}$/);
  return { code, card };
}

describe('the web device page in a real browser', () => {
  test('pair a phone, deny one code, verify with the next, remove it', async (s) => {
    const owner = await createVerifiedAccount(server());
    const a = await openContext({ viewport: PHONE });
    const b = await openContext({ viewport: DESKTOP });
    s.after(async () => {
      await a.context.close();
      await b.context.close();
    });
    const phone = await a.context.newPage();
    const portal = await b.context.newPage();
    const step = dependentSteps(s);

    await step('the phone pairs itself with email, password and a name', async () => {
      await phone.goto('/device');
      await waitForHeading(phone, 'Trusted device');
      await phone.getByRole('heading', { level: 2, name: 'Pair this browser' }).waitFor();
      await assertAccessible(phone);
      await phoneScreenshot(phone, 'device-pairing');
      await phone.getByLabel('Email').fill(owner.email);
      await phone.getByLabel('Password', { exact: true }).fill(owner.password);
      await phone.getByLabel('Device name').fill(DEVICE_NAME);
      await phone.getByRole('button', { name: 'Pair this device' }).click();
      await phone.getByRole('heading', { level: 2, name: DEVICE_NAME }).waitFor();
      await phone.locator('#device-status[data-state="waiting"]').waitFor();
      assert.match(await phone.locator('#device-status').innerText(), /waiting for verification/);
      assert.ok(await phone.locator('#pair').isHidden(), 'the pairing form is gone');

      // The key stayed in the browser and cannot be read out; the credential is not in reach of script.
      const stored = await phone.evaluate(`new Promise((resolve, reject) => {
        const open = indexedDB.open('twostep-device');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('device').objectStore('device').get('current');
          get.onsuccess = () => resolve({
            keys: Object.keys(get.result).sort(),
            privateType: get.result.keys.privateKey.type,
            extractable: get.result.keys.privateKey.extractable,
          });
        };
      })`);
      assert.deepEqual(stored, { keys: ['deviceId', 'keys', 'name'], privateType: 'private', extractable: false });
      assert.doesNotMatch(await phone.evaluate<string>('document.cookie'), /twostep_(device|session)/);
      const cookies = await a.context.cookies();
      const deviceCookie = cookies.find((c) => c.name === 'twostep_device');
      assert.ok(deviceCookie?.httpOnly, 'the device credential is an HttpOnly cookie');
      assert.equal(deviceCookie?.path, '/api/v1/devices');
      assert.equal(
        cookies.find((c) => c.name === 'twostep_session'),
        undefined,
        'the session used for pairing was ended',
      );
      await assertAccessible(phone);
      await phoneScreenshot(phone, 'device-paired');
    });

    await step('the owner sees the phone "Not verified" on the account page', async () => {
      await portal.goto('/signin');
      await portal.getByLabel('Email').fill(owner.email);
      await portal.getByLabel('Password', { exact: true }).fill(owner.password);
      await portal.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
      await portal.waitForURL('**/account');
      const row = deviceRow(portal);
      await row.waitFor();
      assert.match(await row.innerText(), /Not verified/);
      assert.match(await row.innerText(), /Chrome on Linux/);
      assert.match(await row.innerText(), /Last seen/, 'the live connection counts as seen');
      assert.ok(await portal.getByRole('link', { name: 'Use this browser as a trusted device' }).isVisible());
      await assertAccessible(portal);
      const shot = await screenshotBothWidths(portal, 'account-devices');
      assert.equal(shot.phoneOverflow, 0);
    });

    let deniedCode = '';
    await step('Verify pushes a code to the phone; "This wasn\'t me" there closes it', async () => {
      await deviceRow(portal).getByRole('button', { name: 'Verify' }).click();
      await waitForHeading(portal, `Enter the code shown on ${DEVICE_NAME}`);
      const input = portal.getByLabel('Code');
      assert.equal(await input.getAttribute('inputmode'), 'numeric');
      assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
      await assertAccessible(portal);

      const { code, card } = await codeOnPhone(phone);
      deniedCode = code;
      assert.equal(await card.getByRole('heading', { level: 2 }).innerText(), 'Verify this device');
      const facts = await card.locator('dl').innerText();
      assert.match(facts, /127\.0\.0\.1/);
      assert.match(facts, /Local network/);
      assert.match(facts, /Chrome/);
      assert.match(await card.locator('.code-expiry').innerText(), /^Expires in \d+:\d\d$/);
      await assertAccessible(phone);
      await phoneScreenshot(phone, 'device-code');

      await card.getByRole('button', { name: 'This wasn’t me' }).click();
      await phone.getByRole('status').filter({ hasText: 'Cancelled. We emailed you about it' }).waitFor();
      await card.waitFor({ state: 'detached' });
      assert.ok(await phone.locator('#no-codes').isVisible());
    });

    await step('the denied code is refused on the account page, and the owner got an email', async () => {
      await portal.getByLabel('Code').fill(deniedCode);
      await portal.getByRole('button', { name: 'Verify device' }).click();
      await portal.getByRole('alert').filter({ hasText: 'This verification is over. Start again.' }).waitFor();
      await assertAccessible(portal);
      const mail = await outboxFor(server(), owner.email);
      const denied = mail.find((m) => m.subject === 'You said a verification request was not you');
      assert.ok(denied, `no "was not you" email in ${mail.map((m) => m.subject).join(', ')}`);
      assert.match(denied.body, /127\.0\.0\.1/);
    });

    await step('a wrong code is refused; the right one makes the phone trusted', async () => {
      await portal.getByRole('button', { name: 'Send a new code' }).click();
      await waitForHeading(portal, `Enter the code shown on ${DEVICE_NAME}`);
      const { code } = await codeOnPhone(phone);
      assert.notEqual(code, deniedCode);

      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      await portal.getByLabel('Code').fill(wrong);
      await portal.getByRole('button', { name: 'Verify device' }).click();
      await portal.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();

      await portal.getByLabel('Code').fill(code);
      await portal.getByRole('button', { name: 'Verify device' }).click();
      await portal.waitForURL('**/account?trusted=*');
      await portal
        .getByRole('status')
        .filter({ hasText: `${DEVICE_NAME} is now a trusted device.` })
        .waitFor();
      assert.match(await deviceRow(portal).innerText(), /Trusted/);
      assert.equal(await deviceRow(portal).getByRole('button', { name: 'Verify' }).count(), 0);
      await assertAccessible(portal);
    });

    await step('the phone learns at once that it is trusted, and the used code disappears', async () => {
      await phone.locator('#device-status[data-state="trusted"]').waitFor();
      await phone.locator('#codes li').first().waitFor({ state: 'detached' });
      assert.equal(await phone.locator('#codes li').count(), 0);
      await phoneScreenshot(phone, 'device-trusted');
    });

    await step('after a reload it still knows it is trusted', async () => {
      await phone.reload();
      await phone.locator('#device-status[data-state="trusted"]').waitFor();
      assert.equal(await phone.locator('#codes li').count(), 0);
    });

    await step('removing the phone on the account page sends it back to pairing', async () => {
      await deviceRow(portal).getByRole('link', { name: 'Remove' }).click();
      await waitForHeading(portal, `Remove ${DEVICE_NAME}?`);
      await assertAccessible(portal);
      await portal.getByRole('button', { name: 'Remove device' }).click();
      await portal.getByRole('status').filter({ hasText: 'The device was removed.' }).waitFor();
      assert.equal(await deviceRow(portal).count(), 0);

      await phone.getByRole('heading', { level: 2, name: 'Pair this browser' }).waitFor();
      await phone.getByRole('status').filter({ hasText: 'This device was removed from your account.' }).waitFor();
      const left = await phone.evaluate(`new Promise((resolve) => {
        const open = indexedDB.open('twostep-device');
        open.onsuccess = () => {
          const get = open.result.transaction('device').objectStore('device').get('current');
          get.onsuccess = () => resolve(get.result === undefined);
        };
      })`);
      assert.equal(left, true, 'the key is gone from IndexedDB');
      await assertAccessible(phone);
    });

    assertNoProblems(a.watch, 'the phone');
    assertNoProblems(b.watch, 'the computer');
  });
});

describe('the device page in a signed-in browser, switched to Dutch', () => {
  test('pairs with just a name, and "Forget this device" also removes it from the account', async (s) => {
    const owner = await createVerifiedAccount(server());
    const { context, watch } = await openContext({ viewport: PHONE });
    s.after(() => context.close());
    const page = await context.newPage();

    await page.goto('/signin');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/account');
    assert.match(await page.getByRole('main').innerText(), /No devices yet\./);
    await page.getByRole('link', { name: 'Use this browser as a trusted device' }).click();
    await waitForHeading(page, 'Trusted device');
    const footer = page.getByRole('contentinfo');
    await footer.getByLabel('Language').selectOption('nl');
    await footer.getByRole('button', { name: 'Change', exact: true }).click();

    await waitForHeading(page, 'Vertrouwd apparaat');
    assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
    assert.match(await page.locator('#pair').innerText(), new RegExp(owner.email.replace(/\./g, '\\.')));
    assert.equal(await page.getByLabel('Wachtwoord', { exact: true }).count(), 0, 'already signed in');
    await assertAccessible(page);
    await page.getByLabel('Naam van het apparaat').fill('Laptop');
    await page.getByRole('button', { name: 'Dit apparaat koppelen' }).click();
    await page.locator('#device-status[data-state="waiting"]').waitFor();
    assert.match(await page.locator('#device-status').innerText(), /wacht op verificatie/);
    const cookies = await context.cookies();
    assert.ok(
      cookies.some((c) => c.name === 'twostep_session'),
      'pairing from a signed-in browser keeps its session',
    );

    await page.getByRole('button', { name: 'Dit apparaat vergeten' }).click();
    await page.getByRole('heading', { level: 2, name: 'Deze browser koppelen' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'is van uw account verwijderd' }).waitFor();
    await page.goto('/account');
    await page.getByRole('heading', { level: 3, name: 'Vertrouwde apparaten' }).waitFor();
    assert.match(await page.getByRole('main').innerText(), /Nog geen apparaten\./);
    assertNoProblems(watch, 'the Dutch browser');
  });

  test('a phone that is not signed in removes itself from the account with its own credential', async (s) => {
    const owner = await createVerifiedAccount(server());
    const { context, watch } = await openContext({ viewport: PHONE });
    s.after(() => context.close());
    const phone = await context.newPage();
    await phone.goto('/device');
    await phone.getByLabel('Email').fill(owner.email);
    await phone.getByLabel('Password', { exact: true }).fill(owner.password);
    await phone.getByLabel('Device name').fill('Spare phone');
    await phone.getByRole('button', { name: 'Pair this device' }).click();
    await phone.locator('#device-status[data-state="waiting"]').waitFor();
    assert.ok(!(await context.cookies()).some((c) => c.name === 'twostep_session'), 'the pairing session was ended');

    await phone.getByRole('button', { name: 'Forget this device' }).click();
    await phone.getByRole('heading', { level: 2, name: 'Pair this browser' }).waitFor();
    const token = await signInToken(server(), owner.email, owner.password);
    const listed = await server().request({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) });
    assert.deepEqual(listed.json().devices, [], 'the account no longer lists the device');
    assertNoProblems(watch, 'the phone');
  });
});

describe('the device page for an account with two-step verification on', () => {
  test('pairs a new browser after the code step: a wrong code is refused, the SMS code signs in', async (s) => {
    const owner = await enrolTwoStep(server());
    const { context, watch } = await openContext({ viewport: PHONE });
    s.after(() => context.close());
    const phone = await context.newPage();
    await phone.goto('/device');
    await waitForHeading(phone, 'Trusted device');
    const codeStep = phone.locator('#pair-two-step');
    assert.ok(await codeStep.isHidden(), 'the code step is hidden until it is needed');

    await phone.getByLabel('Email').fill(owner.email);
    await phone.getByLabel('Password', { exact: true }).fill(owner.password);
    await phone.getByLabel('Device name').fill('Second phone');
    await phone.getByRole('button', { name: 'Pair this device' }).click();

    // The password was right, but the account wants a code: the step shows in the page, no session yet.
    await phone.getByRole('heading', { level: 3, name: 'Verify it’s you' }).waitFor();
    assert.ok(await phone.locator('#pair-form').isHidden(), 'the pairing form makes way for the code step');
    assert.ok(!(await context.cookies()).some((c) => c.name === 'twostep_session'), 'no session before the code');
    const channels = codeStep.getByRole('list').getByRole('button');
    assert.deepEqual(await channels.allInnerTexts(), [`Text a code to •••• ${owner.phone.slice(-2)}`]);
    const input = phone.getByLabel('Code');
    assert.equal(await input.getAttribute('inputmode'), 'numeric');
    assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
    await assertAccessible(phone);

    await channels.first().click();
    await codeStep
      .getByRole('status')
      .filter({ hasText: `We sent a code to •••• ${owner.phone.slice(-2)}.` })
      .waitFor();
    const code = await smsCode(server(), owner.phone);
    await phoneScreenshot(phone, 'device-two-step');

    await input.fill(otherCode(code));
    await phone.getByRole('button', { name: 'Verify', exact: true }).click();
    await codeStep.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();
    assert.ok(await codeStep.isVisible(), 'a wrong code keeps the code step');
    assert.ok(await phone.locator('#pair').isVisible());
    await assertAccessible(phone);

    await input.fill(code);
    await phone.getByRole('button', { name: 'Verify', exact: true }).click();
    await phone.getByRole('heading', { level: 2, name: 'Second phone' }).waitFor();
    await phone.locator('#device-status[data-state="waiting"]').waitFor();
    assert.match(await phone.locator('#device-status').innerText(), /waiting for verification/);
    assert.ok(await phone.locator('#pair').isHidden(), 'the pairing form is gone');
    const cookies = await context.cookies();
    assert.ok(
      cookies.some((c) => c.name === 'twostep_device' && c.httpOnly),
      'the device holds its credential',
    );
    assert.ok(!cookies.some((c) => c.name === 'twostep_session'), 'the session used for pairing was ended');

    const listed = await server().request({ method: 'GET', url: '/api/v1/devices', headers: bearer(owner.token) });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed.json().devices.map((d: { name: string; trusted: boolean }) => ({ name: d.name, trusted: d.trusted })),
      [{ name: 'Second phone', trusted: false }],
    );

    // The wrong code was answered 400 on purpose, and the browser reports that response; nothing else may show.
    const problems = watch.problems();
    const expected = (p: string): boolean =>
      /^HTTP 400 for fetch .*\/api\/v1\/challenges\/[^/]+\/verify$/.test(p) ||
      /^console error: Failed to load resource: the server responded with a status of 400 .*\/api\/v1\/challenges\/[^/]+\/verify\)$/.test(
        p,
      );
    assert.ok(
      problems.some((p) => /^HTTP 400 for fetch .*\/verify$/.test(p)),
      `the wrong code was answered 400:\n${problems.join('\n')}`,
    );
    assert.deepEqual(
      problems.filter((p) => !expected(p)),
      [],
      `the phone's browser console:\n${watch.console().join('\n')}`,
    );
  });
});
