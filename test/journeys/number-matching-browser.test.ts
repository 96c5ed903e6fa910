// Number matching in real browsers (SPEC §4): the web device page of a phone shows three numbers for
// a sign-in push and no code; the sign-in page on the computer shows which one to pick; picking it on
// the phone brings the code, which signs in, or an Approve button, after which the computer's page
// goes on by itself. No console errors or CSP violations on either side.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import {
  assertAccessible,
  assertNoProblems,
  browserSuite,
  DESKTOP,
  PHONE,
  waitForHeading,
} from '../helpers/browser.ts';
import { bearer } from '../helpers/journeys.ts';
import { enrolTwoStep, smsCode, type TwoStepAccount } from '../helpers/two-step.ts';

const { server, openContext } = browserSuite({ NUMBER_MATCHING: 'true', CODE_SEND_INTERVAL_SECONDS: '0' });

/** The phone pairs itself on the web device page (the texted code) and is verified as a trusted device. */
async function pairTrustedPhone(t: TestApp, owner: TwoStepAccount, phone: Page): Promise<void> {
  await phone.goto('/device');
  await waitForHeading(phone, 'Trusted device');
  await phone.getByLabel('Email').fill(owner.email);
  await phone.getByLabel('Password', { exact: true }).fill(owner.password);
  await phone.getByLabel('Device name').fill('Ann’s phone');
  await phone.getByRole('button', { name: 'Pair this device' }).click();
  await phone.locator('#pair-two-step').getByRole('list').getByRole('button').first().click();
  await phone.locator('#pair-two-step').getByRole('status').waitFor();
  await phone.getByLabel('Code').fill(await smsCode(t, owner.phone));
  await phone.getByRole('button', { name: 'Verify', exact: true }).click();
  await phone.locator('#device-status[data-state="waiting"]').waitFor();
  const devices = (await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(owner.token) })).json()
    .devices as { id: string; name: string }[];
  const paired = devices.find((d) => d.name === 'Ann’s phone') as { id: string };
  const started = await t.request({
    method: 'POST',
    url: `/api/v1/devices/${paired.id}/verify`,
    headers: bearer(owner.token),
  });
  const verifyCode = (await phone.locator('#codes li.code-card .code-value').first().innerText()).replace(/\s/g, '');
  const verified = await t.request({
    method: 'POST',
    url: `/api/v1/challenges/${started.json().challenge.id}/verify`,
    headers: bearer(owner.token),
    payload: { code: verifyCode },
  });
  assert.equal(verified.statusCode, 200, verified.body);
  await phone.locator('#device-status[data-state="trusted"]').waitFor();
}

/** The computer signs in and asks for a push: it is told the number to pick, which it returns. */
async function signInUntilMatch(owner: TwoStepAccount, computer: Page): Promise<string> {
  await computer.goto('/signin');
  await computer.getByLabel('Email').fill(owner.email);
  await computer.getByLabel('Password', { exact: true }).fill(owner.password);
  await computer.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await computer.getByRole('button', { name: /Send a code to Ann’s phone/ }).click();
  const number = (await computer.locator('.match-number strong').innerText()).trim();
  assert.match(number, /^\d{2}$/);
  return number;
}

describe('number matching in a real browser', () => {
  test('the phone shows three numbers, the sign-in page says which; the right pick brings the code', async (s) => {
    const t = server();
    const owner = await enrolTwoStep(t);
    const a = await openContext({ viewport: PHONE });
    const b = await openContext({ viewport: DESKTOP });
    s.after(async () => {
      await a.context.close();
      await b.context.close();
    });
    const phone = await a.context.newPage();
    const computer = await b.context.newPage();
    await pairTrustedPhone(t, owner, phone);
    const number = await signInUntilMatch(owner, computer);
    await assertAccessible(computer);

    // The phone shows three numbers and no code until the right one is picked.
    const choices = phone.locator('#codes li.code-card .match-choice');
    await choices.first().waitFor();
    assert.equal(await choices.count(), 3);
    assert.ok((await choices.allInnerTexts()).includes(number));
    await assertAccessible(phone);
    await phone.getByRole('button', { name: number, exact: true }).click();
    // The three numbers are digits too: wait until they have given way to the code itself.
    const code = phone.locator('#codes li.code-card .code-value:not(:has(.match))').first();
    await code.filter({ hasText: /\d/ }).waitFor();
    const shown = (await code.innerText()).replace(/\s/g, '');
    assert.match(shown, /^\d{6}$/);

    await computer.getByLabel('Code').fill(shown);
    await computer.getByRole('button', { name: 'Verify' }).click();
    await computer.waitForURL('**/account');
    assertNoProblems(a.watch, 'the phone');
    assertNoProblems(b.watch, 'the computer');
  });

  test('the phone picks the number and taps Approve; the sign-in page moves on to the account by itself', async (s) => {
    const t = server();
    const owner = await enrolTwoStep(t);
    const a = await openContext({ viewport: PHONE });
    const b = await openContext({ viewport: DESKTOP });
    s.after(async () => {
      await a.context.close();
      await b.context.close();
    });
    const phone = await a.context.newPage();
    const computer = await b.context.newPage();
    await pairTrustedPhone(t, owner, phone);
    const number = await signInUntilMatch(owner, computer);
    // Without script the same approval is one button away.
    await computer.getByRole('button', { name: 'I approved it on my device — continue' }).waitFor();

    await phone.getByRole('button', { name: number, exact: true }).click();
    const approve = phone.getByRole('button', { name: 'Approve', exact: true });
    await approve.waitFor();
    // The code is shown too, for typing it instead.
    const code = phone.locator('#codes li.code-card .code-value:not(:has(.match))').first();
    assert.match((await code.innerText()).replace(/\s/g, ''), /^\d{6}$/);
    await assertAccessible(phone);
    await approve.click();
    await phone.getByText('Approved.').waitFor();

    // Nobody touches the computer: its page sees the approval and signs in.
    await computer.waitForURL('**/account');
    // The card is put away once the approval has been used.
    await phone.locator('#no-codes').waitFor();
    const account = await t.app.services.store.accounts.findByEmail(owner.email);
    const audit = await t.app.services.store.audit.listForAccount(account?.id as string, { limit: 50 });
    assert.ok(audit.some((e) => e.event === 'challenge.approved'));
    assertNoProblems(a.watch, 'the phone');
    assertNoProblems(b.watch, 'the computer');
  });
});
