// Slow queries are logged for the operator (issue 10) with their SQL text and how long they took,
// never their parameters: those are emails, hashes and tokens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { type Db, openDatabase } from '../../src/store/database.ts';

const SECRET_PARAMETER = 'a-secret-parameter-9f3b2c';
const warnings: { fields: { durationMs: number; sql: string }; message: string }[] = [];
let db: Db;

before(async () => {
  db = await openDatabase({
    dataDir: 'memory://',
    slowQueries: { thresholdMs: 40, warn: (fields, message) => warnings.push({ fields, message }) },
  });
});
after(() => db.destroy());

test('a query slower than SLOW_QUERY_MS is logged with its SQL text and duration, without its parameters', async () => {
  warnings.length = 0;
  await sql`select pg_sleep(0.06), ${SECRET_PARAMETER}::text as value`.execute(db);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  const [warning] = warnings;
  assert.equal(warning?.message, 'slow query');
  assert.match(String(warning?.fields.sql), /pg_sleep\(0\.06\), \$1::text/);
  assert.ok(Number(warning?.fields.durationMs) >= 40, JSON.stringify(warning));
  assert.ok(!JSON.stringify(warnings).includes(SECRET_PARAMETER), 'the parameter never reaches the log');
});

test('a quick query is not logged', async () => {
  warnings.length = 0;
  await sql`select ${SECRET_PARAMETER}::text as value`.execute(db);
  assert.deepEqual(warnings, []);
});
