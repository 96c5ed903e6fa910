// Steps of two-step verification through the JSON API, as a client takes them.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import type { TestApp } from './app.ts';
import { bearer, createVerifiedAccount, outboxFor, type SignUpFields, signInToken } from './journeys.ts';

/** A valid Dutch mobile number no other test uses. */
export function uniqueMobile(): string {
  return `+3161${String(randomInt(1_000_000, 9_999_999))}`;
}

/** The code of the newest SMS to this number. */
export async function smsCode(t: TestApp, number: string): Promise<string> {
  const [sms] = (await outboxFor(t, number)).filter((m) => m.channel === 'sms');
  assert.ok(sms?.code, `no SMS code for ${number}`);
  return sms.code;
}

export interface TwoStepAccount extends SignUpFields {
  phone: string;
  recoveryKey: string;
  /** A fresh two-step session from enrolment. */
  token: string;
}

/** Adds a new number and answers the code texted to it: a trusted phone of the session's account. */
export async function addTrustedPhone(t: TestApp, token: string): Promise<{ id: string; number: string }> {
  const number = uniqueMobile();
  const added = await t.request({
    method: 'POST',
    url: '/api/v1/phones',
    headers: bearer(token),
    payload: { number },
  });
  assert.equal(added.statusCode, 202, added.body);
  const verified = await t.request({
    method: 'POST',
    url: `/api/v1/challenges/${added.json().challenge.id}/verify`,
    headers: bearer(token),
    payload: { code: await smsCode(t, number) },
  });
  assert.equal(verified.statusCode, 200, verified.body);
  return { id: added.json().phone.id, number };
}

/** Signs up, verifies a phone by SMS, confirms a recovery key and turns two-step verification on. */
export async function enrolTwoStep(t: TestApp, overrides: Partial<SignUpFields> = {}): Promise<TwoStepAccount> {
  const fields = await createVerifiedAccount(t, overrides);
  const token = await signInToken(t, fields.email, fields.password);
  const phone = (await addTrustedPhone(t, token)).number;
  const created = await t.request({ method: 'POST', url: '/api/v1/two-step/recovery-key', headers: bearer(token) });
  assert.equal(created.statusCode, 201, created.body);
  const recoveryKey = created.json().recoveryKey as string;
  const confirmed = await t.request({
    method: 'POST',
    url: '/api/v1/two-step/recovery-key/confirm',
    headers: bearer(token),
    payload: { recoveryKey },
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  const enabled = await t.request({
    method: 'POST',
    url: '/api/v1/two-step/enable',
    headers: bearer(token),
    payload: { acknowledged: true },
  });
  assert.equal(enabled.statusCode, 200, enabled.body);
  return { ...fields, phone, recoveryKey, token };
}

/** Password step; returns the pending challenge. */
export async function passwordStep(
  t: TestApp,
  email: string,
  password: string,
  cookie?: string,
): Promise<{ id: string; channels: { id: string; type: string }[] }> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/signin',
    payload: { email, password },
    ...(cookie ? { headers: { cookie } } : {}),
  });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.json().status, 'two_step_required', response.body);
  return response.json().challenge;
}

export async function sendCode(t: TestApp, challengeId: string, channel: string, headers: Record<string, string> = {}) {
  return t.request({ method: 'POST', url: `/api/v1/challenges/${challengeId}/send`, headers, payload: { channel } });
}

export async function answer(
  t: TestApp,
  challengeId: string,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return t.request({
    method: 'POST',
    url: `/api/v1/challenges/${challengeId}/verify`,
    headers,
    payload: { code, ...extra },
  });
}

/** A code that is certainly not `code`. */
export function otherCode(code: string): string {
  return String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0');
}

/** Turns two-step verification off with the session's recent verification, as the owner confirms it. */
export async function turnTwoStepOff(t: TestApp, token: string): Promise<void> {
  const off = await t.request({
    method: 'POST',
    url: '/api/v1/two-step/disable',
    headers: bearer(token),
    payload: { confirmed: true },
  });
  assert.equal(off.statusCode, 200, off.body);
}
