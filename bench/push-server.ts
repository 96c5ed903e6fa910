// The server side of the push benchmark (bench/README.md), forked by bench/push.ts and driven over IPC.
// mode "app": the real server (createApp) on PGlite + in-memory key-value, or PostgreSQL + Redis; devices
// are seeded through the store, challenges issued with the product's own issueChallenge.
// mode "bare": a plain `ws` server that sends a payload of the same size to a random socket: the floor
// of what loopback, `ws` and one event loop cost, for the ratio.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { type WebSocket, WebSocketServer } from 'ws';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { DevicePublicKey } from '../src/core/device-signature.ts';
import { issueToken } from '../src/core/tokens.ts';
import { issueChallenge } from '../src/flows/challenges.ts';
import type { RequestContext } from '../src/flows/context.ts';
import { newAccountRow } from '../src/store/accounts.ts';
import { migrateToLatest, openDatabase } from '../src/store/database.ts';
import { RedisKeyValue } from '../src/store/kv/redis.ts';

export interface StartCommand {
  cmd: 'start';
  mode: 'app' | 'bare';
  devices: number;
  publicKey?: DevicePublicKey;
  databaseUrl?: string;
  redisUrl?: string;
}
export interface RunCommand {
  cmd: 'run';
  rate: number;
  seconds: number;
}
type Command = StartCommand | RunCommand | { cmd: 'mem' } | { cmd: 'stop' };

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** One issued challenge: id, hrtime (ns) just before issueChallenge was called, and when it returned. */
export type Issued = [id: string, startNs: number, returnedNs: number];

const DEVICES_PER_ACCOUNT = 20;
const BENCH_SECRET = 'bench-secret-that-is-long-enough-0123456789';
const CTX: RequestContext = {
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0',
  locale: 'en',
};

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

function nowNs(): number {
  // CLOCK_MONOTONIC: one clock for every process on this machine, nanosecond resolution.
  return Number(process.hrtime.bigint());
}

function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

let app: App | undefined;
let bare: WebSocketServer | undefined;
const bareSockets: WebSocket[] = [];
let cleanup: (() => Promise<void>) | undefined;
/** Device ids (app) or socket indexes (bare) to pick targets from. */
let targets: string[] = [];
let backends = '';

async function startApp(command: StartCommand): Promise<{ port: number; credentials: string[] }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    TWOSTEP_SECRET: BENCH_SECRET,
    LOG_LEVEL: 'warn',
    PUBLIC_URL: 'http://127.0.0.1:3000',
  });
  const schema = command.databaseUrl ? `bench_${randomBytes(5).toString('hex')}` : undefined;
  const db =
    command.databaseUrl && schema
      ? await openDatabase({ databaseUrl: command.databaseUrl, schema })
      : await openDatabase({ dataDir: 'memory://' });
  if (command.databaseUrl && schema) {
    const admin = new pg.Client({ connectionString: command.databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    cleanup = async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    };
  }
  await migrateToLatest(db);
  const kv = command.redisUrl
    ? new RedisKeyValue(command.redisUrl, { prefix: `bench:${randomBytes(5).toString('hex')}:` })
    : undefined;
  app = await createApp(config, { db, ...(kv ? { kv } : {}) });
  backends = `${command.databaseUrl ? 'PostgreSQL' : 'PGlite'} + ${kv ? 'Redis' : 'memory'}`;
  const dbToClose = db;
  const before = cleanup;
  cleanup = async () => {
    await app?.close();
    await kv?.close();
    await dbToClose.destroy();
    await before?.();
  };

  // Seeding through the store: one account per 20 devices (the per-account maximum). Every device has
  // its own row and credential, but all rows carry the same public key: signing is the client's cost.
  const { store } = app.services;
  const now = new Date();
  const credentials: string[] = [];
  const publicKey = command.publicKey as DevicePublicKey;
  for (let a = 0; a * DEVICES_PER_ACCOUNT < command.devices; a += 1) {
    const accountId = issueToken().id;
    const profile = {
      id: accountId,
      email: `bench.${a}.${accountId}@example.com`,
      password_hash: 'unused',
      name: `Bench ${a}`,
      birth_date: '1990-01-01',
      country: 'NL',
      locale: 'en',
    };
    await store.accounts.create({ ...newAccountRow(profile, now), email_verified_at: now });
    for (let d = 0; d < DEVICES_PER_ACCOUNT && credentials.length < command.devices; d += 1) {
      const issued = issueToken();
      await store.devices.register({
        id: issued.id,
        accountId,
        name: `Device ${d}`,
        model: 'bench',
        publicKey,
        credentialHash: issued.secretHash,
        createdAt: now,
      });
      credentials.push(issued.token);
      targets.push(`${accountId}/${issued.id}`);
    }
  }
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.server.address() as AddressInfo).port, credentials };
}

async function startBare(): Promise<{ port: number; credentials: string[] }> {
  bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => bare?.once('listening', () => resolve()));
  bare.on('connection', (socket) => {
    bareSockets.push(socket);
    socket.send(JSON.stringify({ type: 'ready' }));
  });
  backends = 'none (plain ws)';
  cleanup = async () => {
    for (const socket of bareSockets) socket.terminate();
    await new Promise<void>((resolve) => bare?.close(() => resolve()));
  };
  return { port: (bare.address() as AddressInfo).port, credentials: [] };
}

/** Open loop: challenges start on schedule whether or not earlier ones finished (no coordinated omission). */
async function run(command: RunCommand): Promise<{ issued: Issued[]; failed: number; cpuMs: number }> {
  const issued: Issued[] = [];
  let failed = 0;
  const total = Math.round(command.rate * command.seconds);
  const intervalMs = 1000 / command.rate;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const inFlight: Promise<void>[] = [];
  const fire = (): void => {
    const target = targets[Math.floor(Math.random() * targets.length)] as string;
    if (app) {
      const [accountId, deviceId] = target.split('/') as [string, string];
      const startNs = nowNs();
      inFlight.push(
        issueChallenge(
          app.services,
          { accountId, purpose: 'verify_device', subject: deviceId, deviceIds: [deviceId] },
          CTX,
        ).then(
          (challenge) => {
            issued.push([challenge.id, startNs, nowNs()]);
          },
          () => {
            failed += 1;
          },
        ),
      );
    } else {
      const socket = bareSockets[Number(target)] as WebSocket;
      const id = randomBytes(16).toString('base64url');
      const startNs = nowNs();
      socket.send(
        JSON.stringify({
          type: 'code',
          challengeId: id,
          code: '123456',
          purpose: 'verify_device',
          expiresAt: new Date().toISOString(),
          context: { browser: 'Firefox on macOS', ip: CTX.ip, place: 'Netherlands', at: new Date().toISOString() },
        }),
      );
      issued.push([id, startNs, nowNs()]);
    }
  };
  for (let i = 0; i < total; i += 1) {
    const due = startedAt + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    fire();
  }
  await Promise.all(inFlight);
  const cpu = process.cpuUsage(cpuBefore);
  return { issued, failed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', async (command: Command) => {
  try {
    if (command.cmd === 'start') {
      const started = command.mode === 'app' ? await startApp(command) : await startBare();
      if (command.mode === 'bare') targets = Array.from({ length: command.devices }, (_, i) => String(i));
      send({ type: 'started', ...started, backends });
    } else if (command.cmd === 'mem') {
      if (bare) targets = bareSockets.map((_, i) => String(i));
      send({
        type: 'mem',
        memory: memory(),
        connected: app ? app.services.hub.connectedCount() : bareSockets.length,
      });
    } else if (command.cmd === 'run') {
      send({ type: 'ran', ...(await run(command)) });
    } else if (command.cmd === 'stop') {
      await cleanup?.();
      send({ type: 'stopped' });
      process.exit(0);
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
send({ type: 'up' });
