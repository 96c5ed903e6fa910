// An attacker guesses passwords online: many against one account, one against many accounts
// (spraying), in parallel, or against emails that may not exist (SPEC §5, SECURITY.md items 8–9):
// after 5 failures each attempt waits, the waits grow to at most 15 minutes, the owner gets back in
// when a wait ends (never a permanent lock), one address is throttled across accounts, parallel
// requests cannot slip past the count, unknown emails are throttled exactly like known ones, and a
// browser the owner signed in with keeps a budget of its own (a stranger cannot keep the owner out).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.ts';
import { createVerifiedAccount, signUpFields } from '../helpers/journeys.ts';
import { assertErrorContract, startSecondApp, startTestApp } from './support.ts';

const FIFTEEN_MINUTES = 15 * 60;

/** Distinct documentation addresses (RFC 5737), so tests and attackers never share a counter by accident. */
let nextAddress = 0;
function freshAddress(): string {
  nextAddress += 1;
  return `198.51.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 1}`;
}

function attempt(t: TestApp, email: string, password: string, ip: string): Promise<LightMyRequestResponse> {
  return t.request({ method: 'POST', url: '/api/v1/signin', remoteAddress: ip, payload: { email, password } });
}

/** Retry-After of a 429, checked against the error contract. */
function retryAfter(response: LightMyRequestResponse, label: string): number {
  assert.equal(response.statusCode, 429, `${label}: ${response.statusCode} ${response.body}`);
  assert.equal(assertErrorContract(response, label), 'TOO_MANY_ATTEMPTS');
  const seconds = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds >= 1, `${label}: Retry-After ${response.headers['retry-after']}`);
  return seconds;
}

// The app on the backends of this run; with Redis, a second one whose attempt counters follow the
// fake clock (Redis expires keys in real time) for the tests that wait out delays.
let primary: TestApp;
let fakeTime: TestApp;
before(async () => {
  primary = await startTestApp();
  fakeTime = process.env.REDIS_URL ? await startSecondApp(primary) : primary;
});
after(async () => {
  if (fakeTime !== primary) await fakeTime.close();
  await primary.close();
});

describe('guessing one account (clock under the test’s control)', () => {
  let t: TestApp;
  before(() => {
    t = fakeTime;
  });

  test('after 5 failures attempts wait; the waits grow, stop at 15 minutes, and the owner gets in after one', async () => {
    const owner = await createVerifiedAccount(t);
    // The attacker changes address on every guess: the account's own counter still holds.
    for (let i = 1; i <= 5; i += 1) {
      const response = await attempt(t, owner.email, `wrong guess number ${i}`, freshAddress());
      assert.equal(response.statusCode, 401, `failure ${i} is an ordinary wrong password`);
    }
    const delays = [retryAfter(await attempt(t, owner.email, 'sixth guess', freshAddress()), 'after 5 failures')];
    // Even the right password waits: a running delay is checked before any password.
    retryAfter(await attempt(t, owner.email, owner.password, freshAddress()), 'the right password during a delay');
    for (let round = 0; round < 14; round += 1) {
      t.clock.advance((delays.at(-1) as number) * 1000);
      const guess = await attempt(t, owner.email, `wrong guess in round ${round}`, freshAddress());
      assert.equal(guess.statusCode, 401, `round ${round}: one guess per delay`);
      delays.push(retryAfter(await attempt(t, owner.email, 'again at once', freshAddress()), `round ${round}`));
    }
    for (let i = 1; i < delays.length; i += 1) {
      assert.ok((delays[i] as number) >= (delays[i - 1] as number), `delays never shrink: ${delays}`);
    }
    assert.ok((delays[5] as number) > (delays[0] as number), `delays grow: ${delays}`);
    assert.ok(
      delays.every((d) => d <= FIFTEEN_MINUTES),
      `bounded by 15 minutes: ${delays}`,
    );
    assert.equal(delays.at(-1), FIFTEEN_MINUTES, `they reach the bound: ${delays}`);

    // Knocking during a delay does not lengthen it.
    t.clock.advance(5 * 60_000);
    for (let i = 0; i < 5; i += 1) {
      const waiting = retryAfter(await attempt(t, owner.email, 'knock knock', freshAddress()), 'knocking');
      assert.ok(waiting <= 10 * 60, `the wait ran on while knocking: ${waiting}`);
    }
    // Never a permanent lock: once the wait is over the owner signs in, and the count starts again.
    t.clock.advance(10 * 60_000);
    const ownerIn = await attempt(t, owner.email, owner.password, freshAddress());
    assert.equal(ownerIn.statusCode, 200, ownerIn.body);
    const typo = await attempt(t, owner.email, 'an honest typo', freshAddress());
    assert.equal(typo.statusCode, 401, 'a success clears the failures');
  });

  test('parallel guesses cannot slip past the count, before or after a delay', async () => {
    const owner = await createVerifiedAccount(t);
    const burst = async (label: string): Promise<Record<number, number>> => {
      const responses = await Promise.all(
        Array.from({ length: 25 }, (_, i) => attempt(t, owner.email, `${label} guess ${i}`, freshAddress())),
      );
      const counts: Record<number, number> = {};
      for (const response of responses) counts[response.statusCode] = (counts[response.statusCode] ?? 0) + 1;
      return counts;
    };
    const first = await burst('fresh');
    assert.deepEqual(first, { 401: 5, 429: 20 }, 'five free guesses, however they are sent');
    t.clock.advance(FIFTEEN_MINUTES * 1000);
    const second = await burst('after the wait');
    assert.deepEqual(second, { 401: 1, 429: 24 }, 'one guess per delay, however many are sent at once');
    t.clock.advance(FIFTEEN_MINUTES * 1000);
    assert.equal((await attempt(t, owner.email, owner.password, freshAddress())).statusCode, 200);
  });

  test('a stolen session cannot guess the current password any faster', async () => {
    const owner = await createVerifiedAccount(t);
    const token = (await attempt(t, owner.email, owner.password, freshAddress())).json().token as string;
    const change = (currentPassword: string) =>
      t.request({
        method: 'POST',
        url: '/api/v1/password',
        remoteAddress: freshAddress(),
        headers: { authorization: `Bearer ${token}` },
        payload: { currentPassword, newPassword: 'attacker wants this passphrase' },
      });
    for (let i = 0; i < 5; i += 1) assert.equal((await change(`current guess ${i}`)).statusCode, 403);
    retryAfter(await change('sixth current guess'), 'password change after 5 failures');
    // The budget is the account's: sign-in waits too.
    retryAfter(await attempt(t, owner.email, owner.password, freshAddress()), 'sign-in shares the budget');
  });

  test('a stranger keeping the delays running cannot keep the owner out of a browser they signed in with', async () => {
    const owner = await createVerifiedAccount(t);
    const first = await attempt(t, owner.email, owner.password, freshAddress());
    const marker = first.cookies.find((c) => c.name.endsWith('twostep_browser'));
    assert.ok(marker, 'a sign-in gives the browser its marker');
    const fromOwnersBrowser = (password: string) =>
      t.request({
        method: 'POST',
        url: '/api/v1/signin',
        remoteAddress: freshAddress(),
        headers: { cookie: `${marker.name}=${marker.value}` },
        payload: { email: owner.email, password },
      });
    for (let i = 1; i <= 5; i += 1) await attempt(t, owner.email, `stranger guess ${i}`, freshAddress());
    retryAfter(await attempt(t, owner.email, owner.password, freshAddress()), 'everywhere else the account waits');
    const forged = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      remoteAddress: freshAddress(),
      headers: { cookie: `${marker.name}=${'x'.repeat(43)}` },
      payload: { email: owner.email, password: owner.password },
    });
    retryAfter(forged, 'a marker the account does not know counts for nothing');
    const owners = await fromOwnersBrowser(owner.password);
    assert.equal(owners.statusCode, 200, owners.body);
    // The owner's browser has a budget of its own, with the same delays: it is no way around them.
    for (let i = 1; i <= 5; i += 1) assert.equal((await fromOwnersBrowser(`owner typo ${i}`)).statusCode, 401);
    retryAfter(await fromOwnersBrowser(owner.password), 'the browser’s own budget');
  });
});

describe('spraying, parallel guesses and unknown emails (on the backends of this run)', () => {
  let t: TestApp;
  before(() => {
    t = primary;
  });

  test('a burst of parallel guesses gets exactly the free ones checked, on this run’s key-value store', async () => {
    const owner = await createVerifiedAccount(t);
    const responses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => attempt(t, owner.email, `burst guess ${i}`, freshAddress())),
    );
    const checked = responses.filter((r) => r.statusCode === 401).length;
    assert.equal(checked, t.config.policy.signinFreeFailures, responses.map((r) => r.statusCode).join(' '));
    for (const response of responses.filter((r) => r.statusCode !== 401)) retryAfter(response, 'burst');
  });

  test('one address spraying one password over many accounts is throttled; owners elsewhere are not', async () => {
    const accounts = [];
    for (let i = 0; i < 22; i += 1) accounts.push(await createVerifiedAccount(t));
    // One of them really uses the sprayed password: the attacker must not learn that either.
    const sprayed = 'summer holiday twenty twenty six';
    const unlucky = await createVerifiedAccount(t, { password: sprayed });
    const attacker = freshAddress();
    const statuses: number[] = [];
    for (const account of [...accounts, unlucky]) {
      statuses.push((await attempt(t, account.email, sprayed, attacker)).statusCode);
    }
    const free = t.config.policy.signinFreeFailuresPerIp;
    assert.deepEqual(statuses.slice(0, free), Array(free).fill(401), 'the first failures are ordinary');
    assert.deepEqual(statuses.slice(free), Array(statuses.length - free).fill(429), `then throttled: ${statuses}`);
    // Each account saw a single failure: owners on their own addresses are unaffected.
    for (const account of [accounts[0], unlucky]) {
      assert.ok(account);
      assert.equal((await attempt(t, account.email, account.password, freshAddress())).statusCode, 200);
    }
  });

  test('an unknown email is throttled exactly like a known one', async () => {
    const known = await createVerifiedAccount(t);
    const unknown = signUpFields().email;
    const run = async (email: string): Promise<string[]> => {
      const ip = freshAddress();
      const seen: string[] = [];
      // Case and surrounding spaces do not give a fresh counter either.
      const spellings = [email, email.toUpperCase(), ` ${email} `];
      for (let i = 0; i < 8; i += 1) {
        const response = await attempt(t, spellings[i % 3] as string, `wrong guess ${i}`, ip);
        seen.push(`${response.statusCode} ${response.headers['retry-after'] ?? '-'} ${response.body}`);
      }
      return seen;
    };
    const knownRun = await run(known.email);
    const unknownRun = await run(unknown);
    assert.deepEqual(unknownRun, knownRun);
    assert.equal(knownRun.filter((line) => line.startsWith('401')).length, 5, knownRun.join('\n'));
    assert.ok(knownRun.at(-1)?.startsWith('429'), knownRun.join('\n'));
  });
});
