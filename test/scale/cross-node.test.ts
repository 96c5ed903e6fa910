// Two `twostep serve` processes on one PostgreSQL and one Redis behave as one service (SPEC §3.6,
// docs/device-protocol.md §4): a device connected to node A gets the code of a challenge created on
// node B, removing it on B closes its socket on A with 4403, a session revoked on A fails on B's very
// next request, and wrong passwords spread over both nodes share one throttle. Runs against
// DATABASE_URL and REDIS_URL, or else this machine's default servers when they answer, so the proof
// runs in every `npm test`; skipped only when there are none.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sha256 } from '../../src/core/tokens.ts';
import { createDeviceKeys } from '../../src/device/keys.ts';
import { migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/app.ts';
import {
  call,
  type Node,
  openDevice,
  STEP_TIMEOUT_MS,
  servers,
  sessionCacheHits,
  startNode,
  stopNode,
  within,
  withSearchPath,
} from '../helpers/nodes.ts';

describe('two nodes on one PostgreSQL and one Redis', {
  skip: servers ? false : 'needs DATABASE_URL and REDIS_URL',
}, () => {
  const schema = `cross_node_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-cross-node-'));
  const email = uniqueEmail('cross-node');
  let admin: pg.Client;
  let a: Node | undefined;
  let b: Node | undefined;
  let token = '';

  before(async () => {
    const { databaseUrl, redisUrl } = servers as { databaseUrl: string; redisUrl: string };
    admin = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    // Migrated once here, so the two nodes do not race to create the migration tables.
    const db = await openDatabase({ databaseUrl, schema, poolSize: 1 });
    await migrateToLatest(db);
    await db.destroy();
    const env = { DATABASE_URL: withSearchPath(databaseUrl, schema), REDIS_URL: redisUrl, DATA_DIR: dataDir };
    [a, b] = await Promise.all([startNode('A', env), startNode('B', env)]);
  });

  after(async () => {
    await Promise.all([a, b].filter((n) => n !== undefined).map(stopNode));
    if (admin) {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
    if (servers) {
      // The account's throttle counters; everything else the nodes wrote expires on its own.
      const redis = new Redis(servers.redisUrl, { maxRetriesPerRequest: 1 });
      const key = `twostep:pw:acct:${sha256(email)}`;
      await redis.del(`${key}:attempts`, `${key}:wait`, `${key}:successes`).catch(() => {});
      redis.disconnect();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('sign up and confirm across nodes, then sign in on A', async () => {
    const nodeA = a as Node;
    const nodeB = b as Node;
    const signup = await call(nodeA, 'POST', '/api/v1/signup', {
      body: { email, password: GOOD_PASSWORD, name: 'Ann Example', birthDate: '1990-04-01', country: 'NL' },
    });
    assert.equal(signup.status, 202, JSON.stringify(signup.body));
    // Node B reads the email node A wrote: one database.
    const outbox = await call(nodeB, 'GET', `/dev/outbox.json?to=${encodeURIComponent(email)}`);
    const link = (outbox.body as unknown as { links: string[] }[])
      .flatMap((m) => m.links)
      .find((l) => l.includes('/verify-email?token='));
    assert.ok(link, `no verification email on node B: ${JSON.stringify(outbox.body)}`);
    const confirmed = await call(nodeB, 'POST', '/api/v1/email/verify', {
      body: { token: new URL(link).searchParams.get('token') },
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    const signin = await call(nodeA, 'POST', '/api/v1/signin', { body: { email, password: GOOD_PASSWORD } });
    assert.equal(signin.status, 200, JSON.stringify(signin.body));
    token = String(signin.body.token);
  });

  test('a device on node A gets the code of a challenge made on node B, and removal on B closes it with 4403', async () => {
    assert.ok(token, 'signed in by the previous test');
    const nodeA = a as Node;
    const nodeB = b as Node;
    const keys = createDeviceKeys();
    const paired = await call(nodeA, 'POST', '/api/v1/devices', {
      token,
      body: { name: 'Phone on A', model: 'Node test', publicKey: keys.publicKey },
    });
    assert.equal(paired.status, 201, JSON.stringify(paired.body));
    const deviceId = String((paired.body.device as { id: string }).id);
    const device = openDevice(nodeA, String(paired.body.credential), keys.privateKeyPem);
    await device.next((m) => m.type === 'ready', 'the device to be ready on node A');

    const started = await call(nodeB, 'POST', `/api/v1/devices/${deviceId}/verify`, { token });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const challengeId = String((started.body.challenge as { id: string }).id);
    const push = await device.next(
      (m) => m.type === 'code' && m.challengeId === challengeId,
      'the code from node B on the device connected to node A',
    );
    assert.match(String(push.code), /^\d{6}$/);
    assert.equal(push.purpose, 'verify_device');

    const answered = await call(nodeB, 'POST', `/api/v1/challenges/${challengeId}/verify`, {
      token,
      body: { code: String(push.code) },
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal((answered.body.device as { trusted: boolean }).trusted, true);
    const listedOnA = await call(nodeA, 'GET', '/api/v1/devices', { token });
    assert.deepEqual(
      (listedOnA.body.devices as { id: string; trusted: boolean }[]).map((d) => [d.id, d.trusted]),
      [[deviceId, true]],
    );

    const removed = await call(nodeB, 'DELETE', `/api/v1/devices/${deviceId}`, { token });
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    const closed = await within(device.closed, STEP_TIMEOUT_MS, 'node A to close the removed device');
    assert.equal(closed.code, 4403, `closed with ${closed.code} ${closed.reason}`);
  });

  test('a session revoked on node A fails on its very next request on node B, which had it cached', async () => {
    assert.ok(token, 'signed in by the first test');
    const nodeA = a as Node;
    const nodeB = b as Node;
    const second = await call(nodeB, 'POST', '/api/v1/signin', { body: { email, password: GOOD_PASSWORD } });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const other = String(second.body.token);
    // Three checks on B: the first learns the account, the second caches, the third is answered from the cache.
    for (let i = 0; i < 2; i += 1) assert.equal((await call(nodeB, 'GET', '/api/v1/me', { token: other })).status, 200);
    const hitsBefore = await sessionCacheHits(nodeB);
    assert.equal((await call(nodeB, 'GET', '/api/v1/me', { token: other })).status, 200);
    assert.equal(await sessionCacheHits(nodeB), hitsBefore + 1, 'node B answered from its session cache');
    const revoked = await call(nodeA, 'DELETE', `/api/v1/sessions/${other.split('.')[0]}`, { token });
    assert.equal(revoked.status, 204, JSON.stringify(revoked.body));
    const onB = await call(nodeB, 'GET', '/api/v1/me', { token: other });
    assert.equal(onB.status, 401, JSON.stringify(onB.body));
    assert.equal((await call(nodeA, 'GET', '/api/v1/me', { token: other })).status, 401);
    assert.equal(
      (await call(nodeB, 'GET', '/api/v1/me', { token })).status,
      200,
      'the session that revoked it lives on',
    );
  });

  test('wrong passwords spread over both nodes share one throttle: the 6th is refused on either', async () => {
    const nodes = [a as Node, b as Node];
    for (let i = 0; i < 5; i += 1) {
      const node = nodes[i % 2] as Node;
      const wrong = await call(node, 'POST', '/api/v1/signin', { body: { email, password: `wrong guess ${i}` } });
      assert.equal(wrong.status, 401, `guess ${i + 1} on node ${node.name}: ${JSON.stringify(wrong.body)}`);
    }
    // The 5th failure started a one-second wait: both nodes refuse at once.
    const sixth = await Promise.all(
      nodes.map((node) => call(node, 'POST', '/api/v1/signin', { body: { email, password: GOOD_PASSWORD } })),
    );
    for (const [i, answer] of sixth.entries()) {
      assert.equal(answer.status, 429, `6th attempt on node ${nodes[i]?.name}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error?.code, 'TOO_MANY_ATTEMPTS');
    }
  });
});
