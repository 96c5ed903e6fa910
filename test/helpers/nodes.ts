// Two or more real `twostep serve` processes on one PostgreSQL and one Redis, driven over HTTP and
// WebSocket as a load balancer's clients would. The servers are DATABASE_URL and REDIS_URL, or else
// this machine's default servers when they answer; `servers` is undefined when there are none.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import pg from 'pg';
import { connectionUrl } from '../../src/device/connection.ts';
import { signNonce } from '../../src/device/keys.ts';
import { freePort, TEST_SECRET } from './app.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const BOOT_TIMEOUT_MS = 60_000;
export const STEP_TIMEOUT_MS = 10_000;

/** Rejects when the promise does not settle in time: no wait in this file is unbounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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

export const servers = await findServers();

export interface Node {
  name: string;
  baseUrl: string;
  child: ChildProcess;
  output(): string;
}

export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

export async function startNode(name: string, env: Record<string, string>): Promise<Node> {
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

export async function stopNode(node: Node): Promise<void> {
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

export interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code?: string } };
}

export async function call(node: Node, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
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

/** How many session checks node answered from its own session cache so far (its /metrics). */
export async function sessionCacheHits(node: Node): Promise<number> {
  const response = await within(fetch(new URL('/metrics', node.baseUrl)), STEP_TIMEOUT_MS, `/metrics on ${node.name}`);
  const line = (await response.text())
    .split('\n')
    .find((l) => l.startsWith('twostep_session_cache_total{outcome="hit"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A device's live connection driven by hand, so the test sees the exact close code. */
export function openDevice(node: Node, credential: string, privateKeyPem: string) {
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
