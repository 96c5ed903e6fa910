// The real backends the suites run against. PGlite and the in-memory key-value store always; the
// PostgreSQL server and Redis whenever DATABASE_URL and REDIS_URL are set (CI sets both in its second run).
// Each test file gets its own PostgreSQL schema and Redis key prefix, so files never see each other's data.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Clock } from '../../src/core/clock.ts';
import { type Db, migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { MemoryKeyValue } from '../../src/store/kv/memory.ts';
import type { KeyValue } from '../../src/store/kv/port.ts';
import { RedisKeyValue } from '../../src/store/kv/redis.ts';

export interface TestDatabase {
  name: 'pglite' | 'postgresql';
  db: Db;
  close(): Promise<void>;
}

export function databaseBackends(): TestDatabase['name'][] {
  return process.env.DATABASE_URL ? ['pglite', 'postgresql'] : ['pglite'];
}

export function keyValueBackends(): ('memory' | 'redis')[] {
  return process.env.REDIS_URL ? ['memory', 'redis'] : ['memory'];
}

/** The backend the whole app runs on in this test run: the servers when configured, else embedded. */
export function primaryDatabase(): TestDatabase['name'] {
  return process.env.DATABASE_URL ? 'postgresql' : 'pglite';
}

export async function openTestDatabase(name: TestDatabase['name'] = primaryDatabase()): Promise<TestDatabase> {
  if (name === 'pglite') {
    const db = await openDatabase({ dataDir: 'memory://' });
    await migrateToLatest(db);
    return { name, db, close: () => db.destroy() };
  }
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const db = await openDatabase({ databaseUrl: url, schema, poolSize: 20 });
  await migrateToLatest(db, { schema });
  return {
    name,
    db,
    async close() {
      await db.destroy();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

export function openTestKeyValue(name: 'memory' | 'redis', clock: Clock): KeyValue {
  if (name === 'memory') return new MemoryKeyValue(clock);
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  return new RedisKeyValue(url, { prefix: `test:${randomBytes(6).toString('hex')}:` });
}

export function primaryKeyValue(): 'memory' | 'redis' {
  return process.env.REDIS_URL ? 'redis' : 'memory';
}
