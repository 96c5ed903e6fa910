// Opens the database: PostgreSQL when a URL is given, otherwise the embedded PGlite in a folder
// (or in memory for tests). Both speak the same SQL, so one set of migrations serves both.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, type LogEvent, PGliteDialect, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import type { Config } from '../config.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** Folder of the embedded database, or 'memory://' for a throw-away one. */
  dataDir?: string;
  /** PostgreSQL only: a schema to use as search_path (tests isolate themselves this way). */
  schema?: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** 0: no limit. */
  statementTimeoutMs?: number;
  /** Queries slower than `thresholdMs` go to `warn`: the SQL text only, never the parameters (secrets, hashes, emails). */
  slowQueries?: { thresholdMs: number; warn(fields: { durationMs: number; sql: string }, message: string): void };
}

/** The database settings of the configuration, as options for openDatabase. */
export function databaseOptions(config: Config): DatabaseOptions {
  return {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.database.poolSize,
    connectTimeoutMs: config.database.connectTimeoutMs,
    idleTimeoutMs: config.database.idleTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
  };
}

function slowQueryLog(options: DatabaseOptions): ((event: LogEvent) => void) | undefined {
  const slow = options.slowQueries;
  if (!slow) return undefined;
  return (event) => {
    if (event.queryDurationMillis < slow.thresholdMs) return;
    // event.query.parameters is deliberately never read.
    const fields = { durationMs: Math.round(event.queryDurationMillis), sql: event.query.sql };
    slow.warn(fields, event.level === 'error' ? 'slow query failed' : 'slow query');
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Db> {
  if (options.databaseUrl) {
    // Dates are stored as timestamptz; `pg` already returns them as Date. Bigints come back as strings.
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: slowQueryLog(options) });
  }
  const dir = options.dataDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir);
  return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), log: slowQueryLog(options) });
}

/**
 * `schema` names where the migration bookkeeping lives when the database is not in the default schema:
 * Kysely's migrator otherwise finds another schema's bookkeeping table and skips creating its own.
 */
export async function migrateToLatest(db: Db, options: { schema?: string } = {}): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
