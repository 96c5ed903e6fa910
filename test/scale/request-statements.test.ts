// The work of the two hot paths of the benchmark (bench/README.md), counted in SQL statements rather
// than timed: a session check (`GET /api/v1/me` with a bearer token) and a full sign-in (password,
// then an authenticator-app code). Each statement is a round trip to PostgreSQL, competing with the
// password hashes for the same cores; a change that adds one to these paths should be a decision.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { cookieNames } from '../../src/http/cookies.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer } from '../helpers/journeys.ts';
import { answer, enrolTwoStep, passwordStep } from '../helpers/two-step.ts';

let t: TestApp;
let statements: string[] = [];
before(async () => {
  t = await startTestApp({}, { onStatement: (sql) => statements.push(sql) });
});
after(() => t.close());

const STEP_MS = 30_000;

function appCode(secret: string): string {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  return totp.generate({ timestamp: t.clock.now().getTime() });
}

/** Moves the fake clock into a time step no code of this account was used in. */
function toNextStep(): void {
  t.clock.advance(STEP_MS - (t.clock.now().getTime() % STEP_MS) + 1);
}

/** The statements `work` ran, listed in the message when an assertion fails. */
async function counted<T>(work: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  statements = [];
  const result = await work();
  const sql = statements;
  statements = [];
  return { result, sql };
}

/**
 * A two-step account like the benchmark's seeded ones: a verified phone (in a country with SMS, so
 * it is a channel) and a confirmed authenticator app, whose codes answer the sign-ins.
 */
async function enrolWithApp(): Promise<{ email: string; password: string; token: string; secret: string }> {
  const account = await enrolTwoStep(t);
  const started = await t.request({
    method: 'POST',
    url: '/api/v1/authenticators',
    headers: bearer(account.token),
    payload: {},
  });
  assert.equal(started.statusCode, 201, started.body);
  const { authenticator, secret } = started.json() as { authenticator: { id: string }; secret: string };
  toNextStep();
  const confirmed = await t.request({
    method: 'POST',
    url: `/api/v1/authenticators/${authenticator.id}/confirm`,
    headers: bearer(account.token),
    payload: { code: appCode(secret) },
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  return { ...account, secret };
}

/** Asserts how many statements a step ran, listing them when the count is off. */
function assertStatements(sql: string[], expected: number, step: string): void {
  assert.equal(sql.length, expected, `${step} ran ${sql.length} statements:\n${sql.join('\n')}`);
}

describe('statements per request on the benchmark paths', () => {
  test('a session check: two statements to read it, none once the node has it cached under an unmoved revision', async () => {
    const account = await enrolWithApp();
    toNextStep();
    const challenge = await passwordStep(t, account.email, account.password);
    const verified = await answer(t, challenge.id, appCode(account.secret));
    assert.equal(verified.statusCode, 200, verified.body);
    const session = verified.json().token as string;
    const check = () => counted(() => t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(session) }));

    // The first check learns whose session it is; the second reads the revision first, so it may cache.
    for (const step of ['first', 'second']) {
      const read = await check();
      assert.equal(read.result.statusCode, 200, read.result.body);
      assertStatements(read.sql, 2, `the ${step} GET /api/v1/me`);
    }
    const cached = await check();
    assert.equal(cached.result.statusCode, 200, cached.result.body);
    assertStatements(cached.sql, 0, 'GET /api/v1/me from the cache');
    assert.deepEqual(cached.result.json(), (await check()).result.json());
    // Past the cache's 60 seconds the node reads the session again, and writes its last-seen time
    // (once a minute): three statements.
    t.clock.advance(2 * 60_000);
    const touching = await check();
    assert.equal(touching.result.statusCode, 200, touching.result.body);
    assertStatements(touching.sql, 3, 'GET /api/v1/me after the cache and touch intervals');
  });

  test('with the session cache off, every session check reads the session with its account and the second steps', async () => {
    const uncached = await startTestApp({ SESSION_CACHE_SECONDS: '0' }, { onStatement: (sql) => statements.push(sql) });
    try {
      const account = await enrolTwoStep(uncached);
      for (let i = 0; i < 3; i += 1) {
        statements = [];
        const read = await uncached.request({ method: 'GET', url: '/api/v1/me', headers: bearer(account.token) });
        assert.equal(read.statusCode, 200, read.body);
        assertStatements(statements, 2, 'GET /api/v1/me without the cache');
      }
    } finally {
      await uncached.close();
    }
  });

  test('a full sign-in: the password step, then the app code', async () => {
    const account = await enrolWithApp();
    toNextStep();
    const signIn = await counted(() => passwordStep(t, account.email, account.password));
    assertStatements(signIn.sql, 3, 'POST /api/v1/signin');
    const verify = await counted(() => answer(t, signIn.result.id, appCode(account.secret)));
    assert.equal(verify.result.statusCode, 200, verify.result.body);
    assertStatements(verify.sql, 11, 'POST /api/v1/challenges/{id}/verify');
  });

  test('static files, probes and metrics never look up the session, even when the browser sends its cookie', async () => {
    const account = await enrolWithApp();
    const cookie = `${cookieNames(t.config).session}=${account.token}`;
    for (const url of ['/static/styles.css', '/static/webauthn.js', '/healthz', '/readyz', '/metrics']) {
      const fetched = await counted(() => t.request({ method: 'GET', url, headers: { cookie } }));
      assert.equal(fetched.result.statusCode, 200, `${url}: ${fetched.result.body}`);
      assert.equal(fetched.sql.filter((sql) => sql.includes('"sessions"')).length, 0, `${url}: ${fetched.sql}`);
    }
    // The same cookie on a route that needs it is still read (and is still valid).
    const me = await t.request({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    assert.equal(me.statusCode, 200, me.body);
  });
});
