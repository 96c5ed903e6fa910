// The session cache (flows/session-cache.ts) is safe across nodes: two apps on one database with
// one set of account revisions stand for two nodes. Node B has the session cached (its metrics say
// so), node A makes a change, and B's very next request sees it: revocation, sign-out, a password
// change, a new name, a new phone, two-step verification turned on. Also: a change under way makes
// every node read the database; entries expire; the cache is bounded; a cached session id with the
// wrong secret is refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { smsCode, uniqueMobile } from '../helpers/two-step.ts';

let a: TestApp;
let b: TestApp;
before(async () => {
  a = await startTestApp();
  b = await startTestApp({}, { shareDatabaseWith: a });
});
after(async () => {
  await b.close();
  await a.close();
});

async function hits(t: TestApp): Promise<number> {
  const metrics = await t.request({ method: 'GET', url: '/metrics' });
  const line = metrics.body.split('\n').find((l) => l.startsWith('twostep_session_cache_total{outcome="hit"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const me = (t: TestApp, token: string) => t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });

/** Checks the session on `t` until it answers from its cache (the third check), and returns that answer. */
async function cachedOn(t: TestApp, token: string) {
  await me(t, token);
  await me(t, token);
  const before = await hits(t);
  const answer = await me(t, token);
  assert.equal(answer.statusCode, 200, answer.body);
  assert.equal(await hits(t), before + 1, 'answered from the cache');
  return answer.json();
}

async function signedIn(): Promise<{ email: string; password: string; token: string }> {
  const account = await createVerifiedAccount(a);
  return { ...account, token: await signInToken(a, account.email, account.password) };
}

describe('the session cache across nodes', () => {
  test('a session revoked on A fails on its very next request on B, which had it cached', async () => {
    const account = await signedIn();
    const other = await signInToken(b, account.email, account.password);
    await cachedOn(b, other);
    const revoked = await a.request({
      method: 'DELETE',
      url: `/api/v1/sessions/${other.split('.')[0]}`,
      headers: bearer(account.token),
    });
    assert.equal(revoked.statusCode, 204, revoked.body);
    assert.equal((await me(b, other)).statusCode, 401);
    assert.equal((await me(b, account.token)).statusCode, 200, 'the session that revoked it lives on');
  });

  test('signed out on A: refused on B at once', async () => {
    const account = await signedIn();
    await cachedOn(b, account.token);
    const out = await a.request({ method: 'POST', url: '/api/v1/signout', headers: bearer(account.token) });
    assert.equal(out.statusCode, 204, out.body);
    assert.equal((await me(b, account.token)).statusCode, 401);
  });

  test("a password changed on A ends the account's other sessions on B at once", async () => {
    const account = await signedIn();
    const other = await signInToken(b, account.email, account.password);
    await cachedOn(b, other);
    const changed = await a.request({
      method: 'POST',
      url: '/api/v1/password',
      headers: bearer(account.token),
      payload: { currentPassword: account.password, newPassword: 'quiet harbour lanterns glow' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await me(b, other)).statusCode, 401);
  });

  test('a name, a phone and two-step verification changed on A show on B at once', async () => {
    const account = await signedIn();
    const seen = await cachedOn(b, account.token);
    assert.equal(seen.twoStep.enabled, false);
    const renamed = await a.request({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer(account.token),
      payload: { name: 'Renamed On A' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal((await me(b, account.token)).json().account.name, 'Renamed On A');

    await cachedOn(b, account.token);
    const phone = uniqueMobile();
    const added = await a.request({
      method: 'POST',
      url: '/api/v1/phones',
      headers: bearer(account.token),
      payload: { number: phone },
    });
    assert.equal(added.statusCode, 202, added.body);
    const verified = await a.request({
      method: 'POST',
      url: `/api/v1/challenges/${added.json().challenge.id}/verify`,
      headers: bearer(account.token),
      payload: { code: await smsCode(a, phone) },
    });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal((await me(b, account.token)).json().twoStep.phones.length, 1);

    await cachedOn(b, account.token);
    const key = await a.request({
      method: 'POST',
      url: '/api/v1/two-step/recovery-key',
      headers: bearer(account.token),
    });
    assert.equal(key.statusCode, 201, key.body);
    for (const [url, payload] of [
      ['/api/v1/two-step/recovery-key/confirm', { recoveryKey: key.json().recoveryKey }],
      ['/api/v1/two-step/enable', { acknowledged: true }],
    ] as const) {
      const answer = await a.request({ method: 'POST', url, headers: bearer(account.token), payload });
      assert.equal(answer.statusCode, 200, answer.body);
    }
    assert.equal((await me(b, account.token)).json().twoStep.enabled, true);
  });

  test('while a change is under way every node reads the database; after it, B caches again', async () => {
    const account = await signedIn();
    const seen = await cachedOn(b, account.token);
    await a.app.services.revisions.changing(seen.account.id);
    const before = await hits(b);
    for (let i = 0; i < 3; i += 1) assert.equal((await me(b, account.token)).statusCode, 200);
    assert.equal(await hits(b), before, 'nothing answered from the cache under the marker');
    await a.app.services.revisions.changed(seen.account.id);
    await cachedOn(b, account.token);
  });

  test('an entry is read again after SESSION_CACHE_SECONDS', async () => {
    const account = await signedIn();
    await cachedOn(b, account.token);
    b.clock.advance(61_000);
    const before = await hits(b);
    assert.equal((await me(b, account.token)).statusCode, 200);
    assert.equal(await hits(b), before, 'the old entry was not used');
  });

  test("a cached session's id with a wrong secret is refused", async () => {
    const account = await signedIn();
    await cachedOn(b, account.token);
    const [id, secret] = account.token.split('.') as [string, string];
    const wrong = `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    assert.equal((await me(b, wrong)).statusCode, 401);
    assert.equal((await me(b, account.token)).statusCode, 200);
  });
});

describe('the session cache is bounded', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ SESSION_CACHE_ENTRIES: '2' });
  });
  after(() => t.close());

  test('it keeps at most SESSION_CACHE_ENTRIES sessions, and the ones it dropped still work', async () => {
    const account = await createVerifiedAccount(t);
    const tokens = [];
    for (let i = 0; i < 4; i += 1) tokens.push(await signInToken(t, account.email, account.password));
    for (const token of tokens) for (let i = 0; i < 2; i += 1) assert.equal((await me(t, token)).statusCode, 200);
    assert.equal(t.app.services.sessionCache?.size, 2);
    assert.equal((await me(t, tokens[0] as string)).statusCode, 200);
  });
});
