// Two `twostep serve` processes on one PostgreSQL and one Redis behave as one service (SPEC §3.6,
// docs/device-protocol.md §4): a device connected to node A gets the code of a challenge created on
// node B, removing it on B closes its socket on A with 4403, a session revoked on A fails on B's very
// next request, and wrong passwords spread over both nodes share one throttle. Runs against
// DATABASE_URL and REDIS_URL, or else this machine's default servers when they answer, so the proof
// runs in every `npm test`; skipped only when there are none.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sha256 } from '../../src/core/tokens.ts';
import { connectionUrl } from '../../src/device/connection.ts';
import { createDeviceKeys, signNonce } from '../../src/device/keys.ts';
import { migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { freePort, GOOD_PASSWORD, TEST_SECRET, uniqueEmail } from '../helpers/app.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const BOOT_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 10_000;

/** Rejects when the promise does not settle in time: no wait in this file is unbounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(String(data).startsWith('+PONG') || String(data).startsWith('-NOAUTH')));
  });
}

/** The servers of this run: the configured ones (which must answer), else the machine's defaults if they answer. */
async function findServers(): Promise<{ databaseUrl: string; redisUrl: string } | undefined> {
  const configured = process.env.DATABASE_URL && process.env.REDIS_URL;
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (configured) return { databaseUrl, redisUrl };
  return (await postgresAnswers(databaseUrl)) && (await redisAnswers(redisUrl)) ? { databaseUrl, redisUrl } : undefined;
}

const servers = await findServers();

interface Node {
  name: string;
  baseUrl: string;
  child: ChildProcess;
  output(): string;
}

function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  // Only what the command needs: nothing else from the test run's environment leaks in.
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      TWOSTEP_SECRET: TEST_SECRET,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: baseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Only the account's counter is under test; loopback is shared with other runs on this Redis.
      SIGNIN_FREE_FAILURES_PER_IP: '10000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const node = { name, baseUrl, child, output: () => output };
  const started = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (output.includes('Twostep is running at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`node ${name} exited with ${code}:\n${output}`)));
  });
  try {
    await within(started, BOOT_TIMEOUT_MS, `node ${name} to start`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return node;
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  node.child.kill('SIGTERM');
  try {
    await within(exited, 10_000, `node ${node.name} to stop`);
  } catch {
    node.child.kill('SIGKILL');
    await within(exited, 5_000, `node ${node.name} to be killed`).catch(() => {});
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code?: string } };
}

async function call(node: Node, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const response = await within(
    fetch(new URL(path, node.baseUrl), {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    STEP_TIMEOUT_MS,
    `${method} ${path} on node ${node.name}`,
  );
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} } as Answer;
}

/** A device's live connection driven by hand, so the test sees the exact close code. */
function openDevice(node: Node, credential: string, privateKeyPem: string) {
  const ws = new WebSocket(connectionUrl(node.baseUrl));
  const messages: Record<string, unknown>[] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    [];
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as Record<string, unknown>;
    if (message.type === 'hello') {
      ws.send(JSON.stringify({ type: 'auth', credential, signature: signNonce(privateKeyPem, String(message.nonce)) }));
    }
    messages.push(message);
    for (const waiter of waiters.filter((w) => w.match(message))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
  );
  return {
    ws,
    closed,
    next(match: (m: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return within(new Promise((resolve) => waiters.push({ match, resolve })), STEP_TIMEOUT_MS, what);
    },
  };
}

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

  test('a session revoked on node A fails on its very next request on node B', async () => {
    assert.ok(token, 'signed in by the first test');
    const nodeA = a as Node;
    const nodeB = b as Node;
    const second = await call(nodeB, 'POST', '/api/v1/signin', { body: { email, password: GOOD_PASSWORD } });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const other = String(second.body.token);
    assert.equal((await call(nodeB, 'GET', '/api/v1/me', { token: other })).status, 200);
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
