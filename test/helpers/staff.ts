// Staff members for the console tests: created through the same flow as `twostep admin create`, and
// signed in through the API or the console's pages the way a person would.
import assert from 'node:assert/strict';
import { totpCode } from '../../src/core/totp.ts';
import { createStaff } from '../../src/flows/staff/staff-accounts.ts';
import type { StaffRole } from '../../src/store/schema.ts';
import { Browser } from '../security/support.ts';
import { type TestApp, uniqueEmail } from './app.ts';

export interface TestStaff {
  id: string;
  email: string;
  name: string;
  password: string;
  role: StaffRole;
  /** The authenticator key; undefined for a member who has not set one up yet. */
  secret: string | undefined;
}

export async function createTestStaff(
  t: TestApp,
  role: StaffRole,
  options: { setUpTotp?: boolean; name?: string } = { setUpTotp: true },
): Promise<TestStaff> {
  const created = await createStaff(
    t.app.services,
    { email: uniqueEmail(role), name: options.name ?? `Test ${role}`, role },
    'operator:cli',
    { setUpTotp: options.setUpTotp ?? false },
  );
  return {
    id: created.member.id,
    email: created.member.email,
    name: created.member.name,
    password: created.password,
    role,
    secret: created.totp?.secret,
  };
}

/**
 * A fresh code: the clock first moves to the next 30-second step, because each step's code is
 * accepted only once per member (as an authenticator shows it).
 */
export function freshCode(t: TestApp, secret: string): string {
  t.clock.advance(30_000);
  return totpCode(secret, t.clock.now());
}

/** Signs in through the API; returns the console bearer token. */
export async function staffToken(t: TestApp, staff: TestStaff): Promise<string> {
  assert.ok(staff.secret, 'this member has no authenticator');
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/console/signin',
    payload: { email: staff.email, password: staff.password, code: freshCode(t, staff.secret) },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().token;
}

/** Signs in through the console's pages (password, then code); returns the browser. */
export async function staffBrowser(t: TestApp, staff: TestStaff): Promise<Browser> {
  assert.ok(staff.secret, 'this member has no authenticator');
  const browser = new Browser(t);
  const first = await browser.postForm('/console/signin', {
    _csrf: await browser.formToken('/console/signin'),
    email: staff.email,
    password: staff.password,
  });
  assert.equal(first.statusCode, 303, first.body.slice(0, 500));
  assert.equal(first.headers.location, '/console/signin/code');
  const second = await browser.postForm('/console/signin/code', {
    _csrf: await browser.formToken('/console/signin/code'),
    code: freshCode(t, staff.secret),
  });
  assert.equal(second.statusCode, 303, second.body.slice(0, 500));
  assert.equal(second.headers.location, '/console/accounts');
  return browser;
}

export function consoleSession(browser: Browser): string | undefined {
  return [...browser.cookies].find(([name]) => name.endsWith('twostep_console'))?.[1];
}
