// Starts the whole app as a user meets it, on the real backends of this run, with a fake clock
// and a log that tests can read. Use one per test file; isolate tests with distinct emails.
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { RootOperationNode } from 'kysely';
import { type App, createApp } from '../../src/app.ts';
import { type Config, loadConfig, type RawSettings } from '../../src/config.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { Db } from '../../src/store/database.ts';
import type { KeyValue } from '../../src/store/kv/port.ts';
import { openTestDatabase, openTestKeyValue, primaryKeyValue, type TestDatabase } from './backends.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';
export const GOOD_PASSWORD = 'violet tractor sings loudly';

export interface TestApp {
  app: App;
  config: Config;
  clock: FakeClock;
  database: TestDatabase;
  /** Every log line written so far, as text. */
  logText(): string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function testConfig(settings: RawSettings = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    TWOSTEP_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    PUBLIC_URL: 'http://localhost:3000',
    ...settings,
  });
}

export interface TestAppOptions {
  /** Use this app's database (already migrated; not closed by the new app) instead of a fresh one. */
  shareDatabaseWith?: TestApp;
  /**
   * The in-memory key-value store even when REDIS_URL is set: its expiry follows the fake clock,
   * while Redis expires keys in real time, which a test cannot advance without sleeping.
   */
  memoryKeyValue?: boolean;
  /**
   * This key-value store instead of a fresh one, left open by the app: another app's (two nodes on one
   * store), or one that injects a fault.
   */
  keyValue?: KeyValue;
  /** Told the SQL of every statement the app runs (BEGIN and COMMIT excepted), to count the work of a request. */
  onStatement?: (sql: string) => void;
}

export async function startTestApp(settings: RawSettings = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(settings);
  const clock = new FakeClock(new Date());
  const shared = options.shareDatabaseWith?.database;
  const database = shared ? { ...shared, close: async () => {} } : await openTestDatabase();
  const kv = options.keyValue ?? openTestKeyValue(options.memoryKeyValue ? 'memory' : primaryKeyValue(), clock);
  const lines: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const db = options.onStatement ? observed(database.db, options.onStatement) : database.db;
  const revisions = options.shareDatabaseWith?.app.services.revisions;
  const app = await createApp(config, { clock, db, kv, logDestination, ...(revisions ? { revisions } : {}) });
  await app.server.ready();
  return {
    app,
    config,
    clock,
    database,
    logText: () => lines.join(''),
    request: (options) => app.server.inject(options),
    async close() {
      await app.close();
      if (!options.keyValue) await kv.close();
      await database.close();
    },
  };
}

/**
 * The same database, telling `onStatement` the SQL of each statement it executes. Counted when the
 * result comes back: plugins also see the subqueries a query is built from, which are not statements.
 */
function observed(db: Db, onStatement: (sql: string) => void): Db {
  const built = new WeakMap<object, RootOperationNode>();
  return db.withPlugin({
    transformQuery({ node, queryId }) {
      built.set(queryId, node);
      return node;
    },
    async transformResult({ result, queryId }) {
      const node = built.get(queryId);
      if (node) onStatement(db.getExecutor().compileQuery(node, queryId).sql);
      return result;
    },
  });
}

/** A port nobody listens on right now: the OS picks it, we release it. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * The app listening on a real port of 127.0.0.1, for browsers. PUBLIC_URL matches the address the
 * browser uses, so the Origin check of forms and the links in emails work as in a deployment.
 */
export async function startListeningTestApp(
  settings: RawSettings = {},
  options: TestAppOptions = {},
): Promise<TestApp & { baseUrl: string }> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const t = await startTestApp({ PUBLIC_URL: baseUrl, PORT: String(port), ...settings }, options);
  try {
    await t.app.server.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await t.close();
    throw error;
  }
  return { ...t, baseUrl };
}

export function uniqueEmail(label = 'user'): string {
  return `${label}.${randomBytes(5).toString('hex')}@example.com`;
}
