// The composition root: opens the database and key-value store, builds the services and the HTTP
// server. Tests call createApp with their own clock, database and key-value store.

import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Config } from './config.ts';
import { type Clock, systemClock } from './core/clock.ts';
import type { Mailer } from './delivery/email/mailer.ts';
import { createOutboxMailer } from './delivery/email/outbox-mailer.ts';
import { createSmtpMailer } from './delivery/email/smtp-mailer.ts';
import { PushHub } from './delivery/push/hub.ts';
import { createSimSwapCheck } from './delivery/sim-swap/index.ts';
import { createSmsSender } from './delivery/sms/index.ts';
import { Alarms } from './flows/alarms.ts';
import { BackgroundTasks } from './flows/background.ts';
import type { Services } from './flows/context.ts';
import { createFlowMetrics } from './flows/metrics.ts';
import { SessionCache } from './flows/session-cache.ts';
import { sendEndedWaitingNotices } from './flows/two-step.ts';
import { buildServer, loggerOptions } from './http/server.ts';
import { loadBlocklist } from './passwords/blocklist.ts';
import { createPasswordHasher } from './passwords/hasher.ts';
import { guessability } from './passwords/strength.ts';
import { type AccountRevisions, accountRevisions } from './store/account-revisions.ts';
import { type Db, databaseOptions, migrateToLatest, openDatabase } from './store/database.ts';
import { createStore } from './store/index.ts';
import { openKeyValue } from './store/kv/index.ts';
import type { KeyValue } from './store/kv/port.ts';

export interface App {
  server: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  /** An already open (and migrated) database; otherwise one is opened from the configuration and migrated. */
  db?: Db;
  kv?: KeyValue;
  /**
   * Account revisions kept by another app on the same database (tests that run two apps on one
   * database, each with its own key-value store): both must see each other's changes.
   */
  revisions?: AccountRevisions;
  mailer?: Mailer;
  /** Where log lines go (default stdout); tests read them to prove no secret is ever logged. */
  logDestination?: pino.DestinationStream;
}

/**
 * A node caches sessions only where every writer moves the revisions it reads: with Redis (all nodes
 * share it) or on the embedded database (no other process can open it). PostgreSQL without Redis
 * means revisions in this process's memory, blind to another node or an operator's command.
 */
function sessionCacheFor(config: Config): SessionCache | undefined {
  if (config.sessionCacheSeconds === 0) return undefined;
  if (config.databaseUrl !== undefined && config.redisUrl === undefined) return undefined;
  return new SessionCache({ maxEntries: config.sessionCacheEntries, maxAgeMs: config.sessionCacheSeconds * 1000 });
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const log = pino(loggerOptions(config.logLevel), options.logDestination ?? pino.destination(1));
  const ownsDb = options.db === undefined;
  const db =
    options.db ??
    (await openDatabase({
      ...databaseOptions(config),
      slowQueries: { thresholdMs: config.database.slowQueryMs, warn: (fields, message) => log.warn(fields, message) },
    }));
  if (ownsDb) await migrateToLatest(db);
  const ownsKv = options.kv === undefined;
  const kv = options.kv ?? openKeyValue({ redisUrl: config.redisUrl, clock });
  const revisions =
    options.revisions ??
    accountRevisions(kv, (error) =>
      log.warn({ err: error }, 'an account revision could not be moved; its marker expires by itself'),
    );
  const store = createStore(db, { revisions });
  const mailer =
    options.mailer ??
    (config.smtpUrl
      ? createSmtpMailer(config.smtpUrl, config.mailFrom, log)
      : createOutboxMailer(store.outbox, clock, log));
  const hasher = await createPasswordHasher({
    memoryKib: config.policy.argon2MemoryKib,
    iterations: config.policy.argon2Iterations,
  });
  const metrics = createFlowMetrics();
  const hub = new PushHub(kv, store.devicePushes, log, { onDelivered: () => metrics.pushDelivered() });
  await hub.start();
  const background = new BackgroundTasks(log);
  const services: Services = {
    config,
    store,
    kv,
    hasher,
    clock,
    mailer,
    log,
    hub,
    sms: createSmsSender(config, store.outbox, clock, log),
    simSwap: createSimSwapCheck(config, clock),
    passwordChecks: { blocklist: loadBlocklist(), guessability },
    background,
    metrics,
    alarms: new Alarms({ config, kv, clock, log, metrics, mailer, background }),
    revisions,
    sessionCache: sessionCacheFor(config),
  };
  const server = await buildServer(services);
  // Background duty: the end-of-waiting-period emails. Every node may sweep; the store hands each account to one.
  const sweeper = setInterval(() => {
    sendEndedWaitingNotices(services).catch((error: unknown) =>
      log.warn({ err: error }, 'waiting-period sweep failed'),
    );
  }, 60_000);
  sweeper.unref();
  return {
    server,
    services,
    async close() {
      clearInterval(sweeper);
      await server.close();
      await services.background.drain();
      await hub.stop();
      if (!options.mailer) await mailer.close();
      if (ownsKv) await kv.close();
      if (ownsDb) await db.destroy();
    },
  };
}
