// Number matching in real browsers (SPEC §4): the web device page of a phone shows three numbers for
// a sign-in push and no code; the sign-in page on the computer shows which one to pick; picking it on
// the phone brings the code, which signs in. No console errors or CSP violations on either side.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertAccessible,
  assertNoProblems,
  browserSuite,
  DESKTOP,
  PHONE,
  waitForHeading,
} from '../helpers/browser.ts';
import { bearer } from '../helpers/journeys.ts';
import { enrolTwoStep, smsCode } from '../helpers/two-step.ts';

const { server, openContext } = browserSuite({ NUMBER_MATCHING: 'true', CODE_SEND_INTERVAL_SECONDS: '0' });

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

    // The phone pairs itself (the account asks for a code: the texted one) and is verified.
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

    // The computer signs in and asks for a push: it is told the number to pick.
    await computer.goto('/signin');
    await computer.getByLabel('Email').fill(owner.email);
    await computer.getByLabel('Password', { exact: true }).fill(owner.password);
    await computer.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
    await computer.getByRole('button', { name: /Send a code to Ann’s phone/ }).click();
    const number = (await computer.locator('.match-number strong').innerText()).trim();
    assert.match(number, /^\d{2}$/);
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
});
