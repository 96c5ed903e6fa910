// The crash run (issue 9, faults): mixed load against a real `twostep serve`, SIGKILL in the middle,
// a restart on the same data, then the invariants, checked in the database and over HTTP:
// - no account has two-step verification on without a confirmed recovery key and a trusted factor;
// - every committed change has its audit event (created, email confirmed, phone verified, recovery
//   key created, two-step enabled, password reset);
// - no code works twice: a challenge completed before the kill cannot be answered again after it;
// - no lost account: every sign-up whose confirmation answered 200 exists and signs in.
// The CI test (crash.test.ts) runs it briefly; `npm run test:crash` longer, with several kills.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { type Db, migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { freePort } from '../helpers/app.ts';
import { Load, type LoadAccount } from '../helpers/http-load.ts';
import { LOAD_SETTINGS, type ServerProcess, startServer, withSearchPath } from '../helpers/server-process.ts';

export interface CrashOptions {
  backend: 'pglite' | 'postgresql';
  /** PostgreSQL server URL (backend postgresql). */
  databaseUrl?: string;
  kills: number;
  loadMsPerKill: number;
  concurrency: number;
}

export interface CrashReport {
  backend: string;
  kills: number;
  operations: Record<string, number>;
  /** Journeys cut off by a kill: their requests got no answer. */
  cutOff: number;
  accounts: number;
  confirmedAccounts: number;
  twoStepAccounts: number;
  codesReplayed: number;
  restartMs: number[];
  /** Each broken invariant, in a sentence; empty when all hold. */
  violations: string[];
}

interface Backend {
  env: Record<string, string>;
  /** A connection for the checks; for PGlite only while the server is down (one process owns the files). */
  open(): Promise<Db>;
  cleanUp(): Promise<void>;
}

async function prepareBackend(options: CrashOptions): Promise<Backend> {
  if (options.backend === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-crash-'));
    return {
      env: { DATA_DIR: dir },
      open: () => openDatabase({ dataDir: dir }),
      cleanUp: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const url = options.databaseUrl;
  if (!url) throw new Error('the postgresql crash run needs a database URL');
  const schema = `crash_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const db = await openDatabase({ databaseUrl: url, schema, poolSize: 1 });
  await migrateToLatest(db, { schema });
  await db.destroy();
  // The generated development files still go to DATA_DIR, which the run owns and removes.
  const dir = mkdtempSync(join(tmpdir(), 'twostep-crash-pg-'));
  return {
    env: { DATA_DIR: dir, DATABASE_URL: withSearchPath(url, schema) },
    open: () => openDatabase({ databaseUrl: url, schema, poolSize: 2 }),
    async cleanUp() {
      rmSync(dir, { recursive: true, force: true });
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

/** Rows that break an invariant, one query each; every query must come back empty. */
const INVARIANTS: { what: string; query: string }[] = [
  {
    what: 'two-step verification on without a confirmed recovery key and a trusted factor',
    query: `select id from accounts a where two_step_enabled_at is not null and (recovery_key_hash is null or not (
      exists (select 1 from phones p where p.account_id = a.id and p.verified_at is not null and p.removed_at is null)
      or exists (select 1 from devices d where d.account_id = a.id and d.trusted_at is not null and d.removed_at is null)
      or exists (select 1 from authenticators t where t.account_id = a.id and t.confirmed_at is not null and t.removed_at is null)
      or exists (select 1 from security_keys k where k.account_id = a.id and k.removed_at is null)))`,
  },
  ...[
    ['an account without its account.created event', 'true', 'account.created'],
    [
      'a confirmed email without its account.email_verified event',
      'email_verified_at is not null',
      'account.email_verified',
    ],
    [
      'two-step verification on without its two_step.enabled event',
      'two_step_enabled_at is not null',
      'two_step.enabled',
    ],
    ['a recovery key without its recovery_key.created event', 'recovery_key_hash is not null', 'recovery_key.created'],
    [
      'a changed password without its account.password_reset event',
      'password_changed_at is not null',
      'account.password_reset',
    ],
  ].map(([what, where, event]) => ({
    what: what as string,
    query: `select id from accounts a where ${where} and not exists (
      select 1 from audit_events e where e.account_id = a.id and e.event = '${event}')`,
  })),
  {
    what: 'a verified phone without its phone.verified event',
    query: `select id from phones p where verified_at is not null and not exists (
      select 1 from audit_events e where e.account_id = p.account_id and e.event = 'phone.verified')`,
  },
  {
    what: 'a completed challenge without its challenge.completed event',
    query: `select id from challenges c where completed_at is not null and not exists (
      select 1 from audit_events e where e.account_id = c.account_id and e.event = 'challenge.completed')`,
  },
];

async function checkDatabase(db: Db, violations: string[]): Promise<{ accounts: number; twoStep: number }> {
  for (const invariant of INVARIANTS) {
    const { rows } = await sql.raw<{ id: string }>(invariant.query).execute(db);
    if (rows.length > 0) violations.push(`${invariant.what}: ${rows.length} (e.g. ${rows[0]?.id})`);
  }
  const { rows } = await sql<{ accounts: string; two_step: string }>`
    select count(*) as accounts, count(two_step_enabled_at) as two_step from accounts`.execute(db);
  return { accounts: Number(rows[0]?.accounts), twoStep: Number(rows[0]?.two_step) };
}

/** Over HTTP after the restart: acknowledged accounts sign in, accepted codes are refused. */
async function checkOverHttp(load: Load, violations: string[], replayedBefore: number): Promise<number> {
  const confirmed = load.accounts.filter((a) => a.confirmed);
  for (const account of confirmed) {
    if (!(await signsIn(load, account))) violations.push(`lost account: ${account.email} no longer signs in`);
  }
  const toReplay = load.usedCodes.slice(replayedBefore);
  for (const used of toReplay) {
    const again = await load.call('POST', `/api/v1/challenges/${used.challengeId}/verify`, {
      ...(used.token ? { token: used.token } : {}),
      body: { code: used.code },
    });
    const code = (again.body.error as { code?: string } | undefined)?.code;
    if (again.status !== 410 || code !== 'CHALLENGE_CLOSED')
      violations.push(`code of challenge ${used.challengeId} answered again: ${again.status} ${code ?? ''}`);
  }
  return toReplay.length;
}

async function signsIn(load: Load, account: LoadAccount): Promise<boolean> {
  // A reset cut off by the kill may or may not have committed: either password is then the right one.
  for (const password of [account.password, account.unconfirmedPassword]) {
    if (password === undefined) continue;
    const answer = await load.call('POST', '/api/v1/signin', { body: { email: account.email, password } });
    if (answer.status === 200) {
      account.password = password;
      delete account.unconfirmedPassword;
      // An enrolment cut off after `enable` committed leaves two-step on without the client knowing.
      account.twoStep = answer.body.status === 'two_step_required';
      return true;
    }
  }
  return false;
}

/** Workers run journeys until told to stop; a journey cut off by the kill just ends. */
async function drive(load: Load, concurrency: number, until: () => boolean): Promise<void> {
  const worker = async (): Promise<void> => {
    while (!until()) await load.step().catch(() => {});
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const backend = await prepareBackend(options);
  const port = await freePort();
  const env = { ...LOAD_SETTINGS, ...backend.env };
  const violations: string[] = [];
  const restartMs: number[] = [];
  let server: ServerProcess | undefined;
  let cutOff = 0;
  let replayed = 0;
  let counts = { accounts: 0, twoStep: 0 };
  try {
    server = await startServer(env, { port });
    const load = new Load(server.baseUrl);
    for (let kill = 0; kill < options.kills; kill += 1) {
      let killed = false;
      const errorsBefore = load.stats.errors.length;
      const driving = drive(load, options.concurrency, () => killed);
      await new Promise((resolve) => setTimeout(resolve, options.loadMsPerKill));
      killed = true;
      await server.kill();
      await driving;
      cutOff += load.stats.errors.length - errorsBefore;
      if (options.backend === 'postgresql') {
        // The database as the crash left it, before the restarted server touches it.
        const db = await backend.open();
        counts = await checkDatabase(db, violations);
        await db.destroy();
      }
      const restarting = performance.now();
      server = await startServer(env, { port });
      restartMs.push(Math.round(performance.now() - restarting));
      replayed += await checkOverHttp(load, violations, replayed);
      if (options.backend === 'pglite') {
        await server.stop();
        const db = await backend.open();
        counts = await checkDatabase(db, violations);
        await db.destroy();
        if (kill < options.kills - 1) server = await startServer(env, { port });
      }
    }
    return {
      backend: options.backend,
      kills: options.kills,
      operations: { ...load.stats.operations },
      cutOff,
      accounts: counts.accounts,
      confirmedAccounts: load.accounts.filter((a) => a.confirmed).length,
      twoStepAccounts: counts.twoStep,
      codesReplayed: replayed,
      restartMs,
      violations,
    };
  } finally {
    await server?.stop();
    await backend.cleanUp();
  }
}
