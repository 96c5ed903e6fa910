// Redis going away and coming back (issue 9, faults). A real `twostep serve` on its own Redis,
// a child process of this test (never the machine's shared one): while Redis is stopped, whatever
// rests on its budgets (checking a code, sending one, a password) fails closed with
// SERVICE_UNAVAILABLE and 503, within seconds, /readyz says not ready and what needs only the
// database keeps working; when Redis is back the same server recovers on its own, and the code that
// was refused during the outage was never used up.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../helpers/app.ts';
import { Load, type LoadAccount } from '../helpers/http-load.ts';
import { LOAD_SETTINGS, type ServerProcess, startServer, within } from '../helpers/server-process.ts';

const RECOVERY_TIMEOUT_MS = 15_000;

function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return within(
    new Promise((resolve, reject) => {
      child.stdout?.on('data', (d) => {
        output += d;
        if (output.includes('Ready to accept connections')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    }),
    10_000,
    'redis-server to start',
  );
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await within(exited, 10_000, 'redis-server to stop');
}

/** Polls until /readyz answers `status` (a real server reconnecting in real time: no fake clock reaches it). */
async function readyzBecomes(load: Load, status: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  for (;;) {
    const answer = await load.call('GET', '/readyz');
    if (answer.status === status) return answer.body;
    if (Date.now() > deadline)
      throw new Error(`/readyz still answers ${answer.status}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function errorCode(answer: { body: Record<string, unknown> }): string | undefined {
  return (answer.body.error as { code?: string } | undefined)?.code;
}

describe('Redis going away and coming back', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-redis-outage-'));
  let redisPort = 0;
  let redis: ChildProcess | undefined;
  let server: ServerProcess | undefined;
  let load: Load;
  let plain: LoadAccount;
  let twoStep: LoadAccount;
  let plainToken = '';
  /** A second session of the plain account, cached on the server before Redis goes. */
  let otherToken = '';
  let pending: { challengeId: string; channel: string; code: string };

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    server = await startServer({ ...LOAD_SETTINGS, DATA_DIR: dataDir, REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    load = new Load(server.baseUrl);
    await load.signUp();
    await load.signUp();
    [plain, twoStep] = load.accounts as [LoadAccount, LoadAccount];
    await load.enrol(twoStep);
    const signedIn = await load.expect('sign in', 200, 'POST', '/api/v1/signin', {
      body: { email: plain.email, password: plain.password },
    });
    plainToken = String(signedIn.token);
    const again = await load.expect('sign in again', 200, 'POST', '/api/v1/signin', {
      body: { email: plain.email, password: plain.password },
    });
    otherToken = String(again.token);
    for (let i = 0; i < 3; i += 1) await load.expect('session check', 200, 'GET', '/api/v1/me', { token: otherToken });
    // A sign-in waiting for its code when Redis goes.
    const first = await load.expect('password step', 200, 'POST', '/api/v1/signin', {
      body: { email: twoStep.email, password: twoStep.password },
    });
    const challenge = first.challenge as { id: string; channels: { id: string; type: string }[] };
    const channel = String(challenge.channels.find((c) => c.type === 'sms')?.id);
    await load.expect('send code', 202, 'POST', `/api/v1/challenges/${challenge.id}/send`, { body: { channel } });
    const code = await load.fromOutbox(String(twoStep.phone), (m) => m.code);
    pending = { challengeId: challenge.id, channel, code };
    await stopRedis(redis);
  });

  after(async () => {
    await server?.stop();
    await stopRedis(redis);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('while Redis is away, /readyz says not ready and names it, and /healthz still answers', async () => {
    const body = await readyzBecomes(load, 503);
    assert.deepEqual(body, { status: 'not_ready', checks: { database: 'ok', keyValue: 'unavailable' } });
    assert.equal((await load.call('GET', '/healthz')).status, 200);
  });

  test('checking a code, sending one and a password fail closed with SERVICE_UNAVAILABLE, within seconds', async () => {
    const started = performance.now();
    const checked = await load.call('POST', `/api/v1/challenges/${pending.challengeId}/verify`, {
      body: { code: pending.code },
    });
    assert.equal(checked.status, 503, JSON.stringify(checked.body));
    assert.equal(errorCode(checked), 'SERVICE_UNAVAILABLE');
    assert.equal(checked.body.token, undefined);
    const sent = await load.call('POST', `/api/v1/challenges/${pending.challengeId}/send`, {
      body: { channel: pending.channel },
    });
    assert.equal(sent.status, 503, JSON.stringify(sent.body));
    assert.equal(errorCode(sent), 'SERVICE_UNAVAILABLE');
    const password = await load.call('POST', '/api/v1/signin', {
      body: { email: plain.email, password: plain.password },
    });
    assert.equal(password.status, 503, JSON.stringify(password.body));
    assert.equal(errorCode(password), 'SERVICE_UNAVAILABLE');
    // Three refusals, each bounded by the 2-second command timeout rather than a hang.
    assert.ok(performance.now() - started < 10_000, `took ${Math.round(performance.now() - started)} ms`);
  });

  test('a signed-in session keeps reading the account while Redis is away', async () => {
    const me = await load.call('GET', '/api/v1/me', { token: plainToken });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((me.body as { email?: string }).email ?? (me.body.account as { email?: string })?.email, plain.email);
  });

  test('revoking a session fails closed while Redis is away: refused with SERVICE_UNAVAILABLE, nothing revoked', async () => {
    // Other nodes could not hear of a revocation made now, and might answer from their caches: so
    // it is not made, and says why.
    const revoked = await load.call('DELETE', `/api/v1/sessions/${otherToken.split('.')[0]}`, { token: plainToken });
    assert.equal(revoked.status, 503, JSON.stringify(revoked.body));
    assert.equal(errorCode(revoked), 'SERVICE_UNAVAILABLE');
    assert.equal((await load.call('GET', '/api/v1/me', { token: otherToken })).status, 200);
  });

  test('when Redis is back the same server recovers: ready again, the refused code still works, sign-in works', async () => {
    redis = await startRedis(redisPort);
    const body = await readyzBecomes(load, 200);
    assert.deepEqual(body, { status: 'ready', checks: { database: 'ok', keyValue: 'ok' } });
    const checked = await load.call('POST', `/api/v1/challenges/${pending.challengeId}/verify`, {
      body: { code: pending.code },
    });
    assert.equal(checked.status, 200, JSON.stringify(checked.body));
    assert.equal(typeof checked.body.token, 'string');
    await load.signIn(plain);
    await load.signIn(twoStep);
    // The session the outage could not revoke is revoked now, and refused on its very next request.
    const revoked = await load.call('DELETE', `/api/v1/sessions/${otherToken.split('.')[0]}`, { token: plainToken });
    assert.equal(revoked.status, 204, JSON.stringify(revoked.body));
    assert.equal((await load.call('GET', '/api/v1/me', { token: otherToken })).status, 401);
  });
});
