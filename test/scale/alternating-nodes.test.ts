// Any number of nodes behind a load balancer behave as one (issue 10): two real `twostep serve`
// processes on one PostgreSQL and one Redis, and each step of a whole two-step journey goes to the
// other node than the step before. Budgets, throttles, single use and sessions are shared state, so
// a split cannot loosen them: wrong codes spread over both nodes lock at the account's budget, the
// per-address throttle counts both nodes' failures, one code answered on both at once signs in once,
// and a revoked session is refused on its very next request, on the other node. (Push fan-out from
// one node to a device on the other is in cross-node.test.ts.) Skipped only when there are no servers.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/app.ts';
import type { OutboxEntry } from '../helpers/journeys.ts';
import { type Node, STEP_TIMEOUT_MS, servers, startNode, stopNode, within, withSearchPath } from '../helpers/nodes.ts';
import { otherCode, uniqueMobile } from '../helpers/two-step.ts';

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code?: string } };
}

async function ask(
  node: Node,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; ip: string },
): Promise<Answer> {
  const response = await within(
    fetch(new URL(path, node.baseUrl), {
      method,
      headers: {
        'x-forwarded-for': options.ip,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    STEP_TIMEOUT_MS,
    `${method} ${path} on node ${node.name}`,
  );
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

describe('each step of a journey on the other node', {
  skip: servers ? false : 'needs DATABASE_URL and REDIS_URL',
}, () => {
  const schema = `alternating_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-alternating-'));
  const email = uniqueEmail('alternating');
  const phone = uniqueMobile();
  // One address per run of this file: its failures are its own on a shared Redis.
  const ip = `203.0.113.${randomInt(1, 255)}`;
  let admin: pg.Client;
  let a: Node;
  let b: Node;

  before(async () => {
    const { databaseUrl, redisUrl } = servers as { databaseUrl: string; redisUrl: string };
    admin = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const db = await openDatabase({ databaseUrl, schema, poolSize: 1 });
    await migrateToLatest(db);
    await db.destroy();
    const env = {
      DATABASE_URL: withSearchPath(databaseUrl, schema),
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      TRUST_PROXY: 'true',
      SIGNIN_FREE_FAILURES_PER_IP: '3',
      CODE_SEND_INTERVAL_SECONDS: '0',
      CODE_SENDS_PER_HOUR: '100',
      SMS_PER_IP_PER_DAY: '10000',
      SMS_PER_NUMBER_PER_DAY: '100',
      CODE_ATTEMPTS_PER_CHALLENGE: '3',
      WRONG_CODES_PER_ACCOUNT: '4',
    };
    [a, b] = await Promise.all([startNode('A', env), startNode('B', env)]);
  });

  after(async () => {
    await Promise.all([a, b].filter((n) => n !== undefined).map(stopNode));
    if (admin) {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function outbox(node: Node, to: string): Promise<OutboxEntry[]> {
    const answer = await ask(node, 'GET', `/dev/outbox.json?to=${encodeURIComponent(to)}`, { ip });
    assert.equal(answer.status, 200);
    return answer.body as unknown as OutboxEntry[];
  }

  async function newestSmsCode(node: Node): Promise<string> {
    const [sms] = (await outbox(node, phone)).filter((m) => m.channel === 'sms');
    assert.ok(sms?.code, `no SMS on node ${node.name}`);
    return sms.code;
  }

  /** The password step on one node, a code sent from the other; returns the challenge and the code. */
  async function passwordThenCode(passwordOn: Node, sendOn: Node): Promise<{ challengeId: string; code: string }> {
    const signin = await ask(passwordOn, 'POST', '/api/v1/signin', { ip, body: { email, password: GOOD_PASSWORD } });
    assert.equal(signin.status, 200, JSON.stringify(signin.body));
    assert.equal(signin.body.status, 'two_step_required');
    const challenge = signin.body.challenge as { id: string; channels: { id: string; type: string }[] };
    const sms = challenge.channels.find((c) => c.type === 'sms');
    assert.ok(sms);
    const sent = await ask(sendOn, 'POST', `/api/v1/challenges/${challenge.id}/send`, {
      ip,
      body: { channel: sms.id },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    return { challengeId: challenge.id, code: await newestSmsCode(passwordOn) };
  }

  test('sign-up, confirmation, enrolment, sign-in with a code, session check, step-up and sign-out alternate A and B', async () => {
    const signup = await ask(a, 'POST', '/api/v1/signup', {
      ip,
      body: { email, password: GOOD_PASSWORD, name: 'Ann Example', birthDate: '1990-04-01', country: 'NL' },
    });
    assert.equal(signup.status, 202, JSON.stringify(signup.body));
    const link = (await outbox(b, email)).flatMap((m) => m.links).find((l) => l.includes('/verify-email?token='));
    assert.ok(link, 'node B reads the email node A wrote');
    const confirmed = await ask(b, 'POST', '/api/v1/email/verify', {
      ip,
      body: { token: new URL(link).searchParams.get('token') },
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    const first = await ask(a, 'POST', '/api/v1/signin', { ip, body: { email, password: GOOD_PASSWORD } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const firstToken = String(first.body.token);

    // Enrolment: phone on B, its code on A, the recovery key made on B, confirmed on A, 2SV on at B.
    const added = await ask(b, 'POST', '/api/v1/phones', { ip, token: firstToken, body: { number: phone } });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    const phoneChallenge = (added.body.challenge as { id: string }).id;
    const phoneVerified = await ask(a, 'POST', `/api/v1/challenges/${phoneChallenge}/verify`, {
      ip,
      token: firstToken,
      body: { code: await newestSmsCode(b) },
    });
    assert.equal(phoneVerified.status, 200, JSON.stringify(phoneVerified.body));
    const key = await ask(b, 'POST', '/api/v1/two-step/recovery-key', { ip, token: firstToken });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const keyConfirmed = await ask(a, 'POST', '/api/v1/two-step/recovery-key/confirm', {
      ip,
      token: firstToken,
      body: { recoveryKey: key.body.recoveryKey },
    });
    assert.equal(keyConfirmed.status, 200, JSON.stringify(keyConfirmed.body));
    const enabled = await ask(b, 'POST', '/api/v1/two-step/enable', {
      ip,
      token: firstToken,
      body: { acknowledged: true },
    });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));

    // Sign-in: password on A, code sent from B, answered on A, the session used on B.
    const { challengeId, code } = await passwordThenCode(a, b);
    const done = await ask(a, 'POST', `/api/v1/challenges/${challengeId}/verify`, { ip, body: { code } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'signed_in');
    const token = String(done.body.token);
    const me = await ask(b, 'GET', '/api/v1/me', { ip, token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((me.body.session as { assurance: string }).assurance, 'two-step');

    // Step-up: started on A, its code sent from B, answered on A.
    const stepUp = await ask(a, 'POST', '/api/v1/step-up', { ip, token });
    assert.equal(stepUp.status, 201, JSON.stringify(stepUp.body));
    const stepChallenge = stepUp.body.challenge as { id: string; channels: { id: string; type: string }[] };
    const channel = stepChallenge.channels.find((c) => c.type === 'sms')?.id;
    const stepSent = await ask(b, 'POST', `/api/v1/challenges/${stepChallenge.id}/send`, {
      ip,
      token,
      body: { channel },
    });
    assert.equal(stepSent.status, 202, JSON.stringify(stepSent.body));
    const stepped = await ask(a, 'POST', `/api/v1/challenges/${stepChallenge.id}/verify`, {
      ip,
      token,
      body: { code: await newestSmsCode(b) },
    });
    assert.equal(stepped.status, 200, JSON.stringify(stepped.body));

    // Revoked on B: the very next request, on A, is refused.
    const sessions = await ask(b, 'GET', '/api/v1/sessions', { ip, token });
    const current = (sessions.body.sessions as { id: string; current: boolean }[]).find((s) => s.current);
    assert.ok(current, JSON.stringify(sessions.body));
    const revoked = await ask(b, 'DELETE', `/api/v1/sessions/${current.id}`, { ip, token });
    assert.equal(revoked.status, 204, JSON.stringify(revoked.body));
    const after = await ask(a, 'GET', '/api/v1/me', { ip, token });
    assert.equal(after.status, 401, JSON.stringify(after.body));
  });

  test('one code answered on both nodes at once signs in exactly once', async () => {
    const { challengeId, code } = await passwordThenCode(b, a);
    const answers = await Promise.all(
      [a, b].map((node) => ask(node, 'POST', `/api/v1/challenges/${challengeId}/verify`, { ip, body: { code } })),
    );
    const statuses = answers.map((x) => x.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(answers.map((x) => x.body)));
    const refused = answers.find((x) => x.status !== 200);
    assert.equal(refused?.body.error?.code, 'CHALLENGE_CLOSED', JSON.stringify(refused?.body));
  });

  test('wrong codes spread over both nodes and two challenges lock the account at its budget of 4', async () => {
    const first = await passwordThenCode(a, b);
    const nodes = [a, b, a];
    for (const [i, node] of nodes.entries()) {
      const wrong = await ask(node, 'POST', `/api/v1/challenges/${first.challengeId}/verify`, {
        ip,
        body: { code: otherCode(first.code) },
      });
      assert.equal(wrong.body.error?.code, 'CODE_WRONG', `wrong code ${i + 1} on ${node.name}`);
    }
    // Three wrong answers (spread over A and B) ended that challenge: its own budget is shared too.
    const late = await ask(b, 'POST', `/api/v1/challenges/${first.challengeId}/verify`, {
      ip,
      body: { code: first.code },
    });
    assert.notEqual(late.status, 200, JSON.stringify(late.body));

    const second = await passwordThenCode(b, a);
    const fourth = await ask(b, 'POST', `/api/v1/challenges/${second.challengeId}/verify`, {
      ip,
      body: { code: otherCode(second.code) },
    });
    assert.equal(fourth.body.error?.code, 'CODE_WRONG');
    // The 4th wrong code in a row locked the account: the right code no longer signs in, on either node.
    const right = await ask(a, 'POST', `/api/v1/challenges/${second.challengeId}/verify`, {
      ip,
      body: { code: second.code },
    });
    assert.notEqual(right.status, 200, JSON.stringify(right.body));
    for (const node of [a, b]) {
      const signin = await ask(node, 'POST', '/api/v1/signin', { ip, body: { email, password: GOOD_PASSWORD } });
      assert.equal(
        signin.body.error?.code,
        'ACCOUNT_LOCKED',
        `sign-in on ${node.name}: ${JSON.stringify(signin.body)}`,
      );
    }
  });

  test('the per-address sign-in throttle counts failures on both nodes: the 4th from one address is refused', async () => {
    const sprayer = `198.51.100.${randomInt(1, 255)}`;
    for (const [i, node] of [a, b, a].entries()) {
      const wrong = await ask(node, 'POST', '/api/v1/signin', {
        ip: sprayer,
        body: { email: uniqueEmail(`spray${i}`), password: 'a guessed password' },
      });
      assert.equal(wrong.status, 401, `guess ${i + 1} on ${node.name}: ${JSON.stringify(wrong.body)}`);
    }
    const fourth = await ask(b, 'POST', '/api/v1/signin', {
      ip: sprayer,
      body: { email: uniqueEmail('spray3'), password: 'a guessed password' },
    });
    assert.equal(fourth.status, 429, JSON.stringify(fourth.body));
    assert.equal(fourth.body.error?.code, 'TOO_MANY_ATTEMPTS');
  });
});
