// Steps of the account journeys through the JSON API, as a client would take them.
import assert from 'node:assert/strict';
import { GOOD_PASSWORD, type TestApp, uniqueEmail } from './app.ts';

export interface OutboxEntry {
  to: string;
  channel: 'email' | 'sms';
  subject?: string;
  body: string;
  links: string[];
  code?: string;
  at: string;
}

export async function outboxFor(t: TestApp, email: string): Promise<OutboxEntry[]> {
  const response = await t.request({ method: 'GET', url: `/dev/outbox.json?to=${encodeURIComponent(email)}` });
  assert.equal(response.statusCode, 200);
  return response.json();
}

/** The token of the newest verification link emailed to this address. */
export async function verificationToken(t: TestApp, email: string): Promise<string> {
  const [newest] = (await outboxFor(t, email)).filter((m) => m.links.some((l) => l.includes('/verify-email?token=')));
  assert.ok(newest, `no verification email for ${email}`);
  const link = newest.links.find((l) => l.includes('/verify-email?token='));
  return new URL(link as string).searchParams.get('token') as string;
}

export interface SignUpFields {
  email: string;
  password: string;
  name: string;
  birthDate: string;
  country: string;
}

export function signUpFields(overrides: Partial<SignUpFields> = {}): SignUpFields {
  return {
    email: uniqueEmail(),
    password: GOOD_PASSWORD,
    name: 'Ann Example',
    birthDate: '1990-04-01',
    country: 'NL',
    ...overrides,
  };
}

/** Signs up and confirms the email; returns the fields used. */
export async function createVerifiedAccount(t: TestApp, overrides: Partial<SignUpFields> = {}): Promise<SignUpFields> {
  const fields = signUpFields(overrides);
  const signup = await t.request({ method: 'POST', url: '/api/v1/signup', payload: fields });
  assert.equal(signup.statusCode, 202, signup.body);
  const verify = await t.request({
    method: 'POST',
    url: '/api/v1/email/verify',
    payload: { token: await verificationToken(t, fields.email) },
  });
  assert.equal(verify.statusCode, 200, verify.body);
  return fields;
}

/** Signs in through the API and returns the bearer token. */
export async function signInToken(t: TestApp, email: string, password: string = GOOD_PASSWORD): Promise<string> {
  const response = await t.request({ method: 'POST', url: '/api/v1/signin', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().token;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
