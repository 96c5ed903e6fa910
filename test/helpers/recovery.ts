// Steps of recovery through the JSON API (forgot password, the recovery key), as a client takes them.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import { outboxFor } from './journeys.ts';
import { smsCode } from './two-step.ts';

/** Asks for a reset and waits until the email work that runs after the answer has finished. */
export async function requestReset(
  t: TestApp,
  email: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const response = await t.request({ method: 'POST', url: '/api/v1/password/forgot', headers, payload: { email } });
  await t.app.services.background.drain();
  return response;
}

/** The newest reset link emailed to this address, if any. */
export async function resetLink(t: TestApp, email: string): Promise<string | undefined> {
  const [newest] = (await outboxFor(t, email)).filter((m) => m.links.some((l) => l.includes('/reset-password?token=')));
  return newest?.links.find((l) => l.includes('/reset-password?token='));
}

export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') as string;
}

export async function resetWithToken(t: TestApp, token: string, newPassword: string) {
  return t.request({ method: 'POST', url: '/api/v1/password/reset', payload: { token, newPassword } });
}

export async function startRecovery(t: TestApp, email: string, recoveryKey: string) {
  return t.request({ method: 'POST', url: '/api/v1/recovery', payload: { email, recoveryKey } });
}

/** Step 1 and 2 of a recovery with the key: the key, then a code texted to the phone. Returns the recovery token. */
export async function recoverToCodeVerified(
  t: TestApp,
  account: { email: string; recoveryKey: string; phone: string },
): Promise<string> {
  const started = await startRecovery(t, account.email, account.recoveryKey);
  assert.equal(started.statusCode, 200, started.body);
  const { recoveryToken, challenge } = started.json();
  const sms = challenge.channels.find((c: { type: string }) => c.type === 'sms');
  assert.ok(sms, 'the recovery offers the trusted phone');
  const sent = await t.request({
    method: 'POST',
    url: '/api/v1/recovery/send',
    payload: { recoveryToken, channel: sms.id },
  });
  assert.equal(sent.statusCode, 202, sent.body);
  const verified = await t.request({
    method: 'POST',
    url: '/api/v1/recovery/verify',
    payload: { recoveryToken, code: await smsCode(t, account.phone) },
  });
  assert.equal(verified.statusCode, 200, verified.body);
  return recoveryToken;
}

export async function finishRecovery(t: TestApp, recoveryToken: string, newPassword: string) {
  return t.request({ method: 'POST', url: '/api/v1/recovery/password', payload: { recoveryToken, newPassword } });
}

/** The recovery key instead of a code (with the pending challenge), or with email and password (`/unlock`). */
export async function signInWithKey(t: TestApp, payload: Record<string, string>) {
  const url = 'challengeId' in payload ? '/api/v1/signin/recovery-key' : '/api/v1/unlock';
  return t.request({ method: 'POST', url, payload });
}
