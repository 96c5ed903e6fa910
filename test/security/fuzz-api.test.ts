// An attacker throws hostile values at every operation of the OpenAPI document the running server
// publishes (/docs/json), with and without a valid session: malformed, oversized and wrongly typed
// bodies, unicode edge cases (lone surrogates, NUL, bidi controls), very long strings, deep JSON,
// wrong content types and path parameters of odd shapes. After every request: never a 5xx, every
// refusal is `{error: {code, message}}` with a code of docs/errors.md, /readyz still says ready,
// and the row counts of accounts and audit_events moved only for requests that answered 2xx.
// bad-input.test.ts holds the fixed classics (10 MB bodies, broken JSON, the portal's forms); this
// file is the property over the whole document. Seeded and bounded: the same runs every time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import type { TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { assertErrorContract, startTestApp } from './support.ts';

const RUNS_PER_OPERATION = 12;
const SEED = 20_261_203;

let t: TestApp;
before(async () => {
  t = await startTestApp({}, { memoryKeyValue: true });
});
after(() => t.close());

const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '\u0000',
    '\ud800',
    '\udfff',
    'a\udc00b',
    '\u202e',
    '\ufeff',
    'ﬁ',
    '😀',
    '../..',
    '%00',
    '__proto__',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\u200b', 'é', '"', '\\', '\n'), maxLength: 20 }),
  fc.constantFrom(300, 5000, 70_000).map((n) => 'x'.repeat(n)),
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileText, { maxLength: 3 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
);

function nested(depth: number): string {
  return `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
}

/** Raw body text: an object with the operation's own fields set to hostile values, or not an object at all. */
function bodyFor(fields: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record(Object.fromEntries([...fields, 'extra'].map((f) => [f, anyValue])), { requiredKeys: [] })
        .map((value) => JSON.stringify(value)),
    },
    { weight: 1, arbitrary: anyValue.map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom(500, 20_000).map(nested) },
    { weight: 1, arbitrary: fc.constantFrom('{', '[1,]', '\u0000', '{"a":1}}', '\ufeff{}') },
  );
}

/** A path segment of an odd shape, percent-encoded byte by byte as it would cross the wire. */
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  hostileText
    .filter((s) => s.length > 0 && s.length < 400)
    .map((s) => [...new TextEncoder().encode(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom(
    '%',
    '%zz',
    '..',
    '-1',
    '0',
    'A'.repeat(22),
    '00000000-0000-0000-0000-000000000000',
    'a'.repeat(2000),
  ),
);

interface Operation {
  method: string;
  path: string;
  fields: string[];
}

async function operations(): Promise<Operation[]> {
  const response = await t.request({ method: 'GET', url: '/docs/json' });
  assert.equal(response.statusCode, 200);
  const doc = response.json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: object } }> } | undefined)
        ?.content?.['application/json']?.schema;
      ops.push({ method: method.toUpperCase(), path, fields: Object.keys(schema?.properties ?? {}) });
    }
  }
  return ops;
}

/** Rows that only a completed change may add or remove. */
async function rowCounts(): Promise<string> {
  // Work a request started after answering (forgot password) belongs to that request, not the next.
  await t.app.services.background.drain();
  const db = t.database.db;
  const count = async (table: 'accounts' | 'audit_events') =>
    Number((await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return `accounts ${await count('accounts')}, audit_events ${await count('audit_events')}`;
}

let nextAddress = 0;
function address(): string {
  nextAddress += 1;
  return `192.0.2.${(nextAddress % 250) + 1}`;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  test('the document lists the operations to fuzz', async () => {
    const ops = await operations();
    assert.ok(ops.length >= 60, `only ${ops.length} operations`);
  });

  test('hostile values never get a 5xx or an undocumented error, and refusals write nothing', async (context) => {
    const ops = await operations();
    for (const [index, op] of ops.entries()) {
      await context.test(`${op.method} ${op.path}`, async () => {
        let token = await signInToken(t, (await createVerifiedAccount(t)).email);
        await fc.assert(
          fc.asyncProperty(
            op.fields.length > 0 || op.method !== 'GET'
              ? fc.option(bodyFor(op.fields), { nil: undefined })
              : fc.constant(undefined),
            fc.array(oddSegment, { minLength: 4, maxLength: 4 }),
            fc.array(
              fc.tuple(
                hostileText.map((s) => s.slice(0, 20)),
                hostileText,
              ),
              { maxLength: 3 },
            ),
            fc.constantFrom('none', 'session', 'garbage'),
            fc.constantFrom(
              'application/json',
              'application/json',
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/xml',
            ),
            async (body, segments, query, auth, contentType) => {
              let i = 0;
              const path = op.path.replace(/\{\w+\}/g, () => segments[i++ % segments.length] as string);
              const search = new URLSearchParams(query).toString();
              const headers: Record<string, string> = {};
              if (auth === 'session') Object.assign(headers, bearer(token));
              if (auth === 'garbage') headers.authorization = 'Bearer \u00ff not.a-token';
              const request: InjectOptions = {
                method: op.method as InjectOptions['method'],
                url: search ? `${path}?${search}` : path,
                remoteAddress: address(),
                headers,
              };
              if (body !== undefined) {
                headers['content-type'] = contentType;
                request.payload = body;
              }
              const before = await rowCounts();
              const response = await t.request(request);
              const label = `${op.method} ${String(request.url).slice(0, 100)} [${auth}, ${contentType}] ${body?.slice(0, 120) ?? ''}`;
              assert.ok(response.statusCode < 500, `${label} → ${response.statusCode} ${response.body.slice(0, 300)}`);
              if (response.statusCode >= 400) {
                assertErrorContract(response, label);
                assert.equal(await rowCounts(), before, `${label}: a refused request left rows behind`);
              }
              const ready = await t.request({ method: 'GET', url: '/readyz' });
              assert.equal(ready.statusCode, 200, `${label}: not ready afterwards: ${ready.body}`);
              // A success may have ended the session (sign-out, password change): the next run gets a new one.
              if (auth === 'session' && response.statusCode < 300 && op.method !== 'GET') {
                token = await signInToken(t, (await createVerifiedAccount(t)).email);
              }
            },
          ),
          { numRuns: RUNS_PER_OPERATION, seed: SEED + index, endOnFailure: true },
        );
      });
    }
  });

  test('a 10 MB body on every operation is refused with BODY_TOO_LARGE, and the server stays ready', async () => {
    const huge = `{"a":"${'x'.repeat(10 * 1024 * 1024)}"}`;
    for (const op of (await operations()).filter((o) => o.method !== 'GET')) {
      const response = await t.request({
        method: op.method as InjectOptions['method'],
        url: op.path.replace(/\{\w+\}/g, 'x'),
        headers: { 'content-type': 'application/json' },
        payload: huge,
      });
      assert.equal(assertErrorContract(response, `${op.method} ${op.path}`), 'BODY_TOO_LARGE');
    }
    assert.equal((await t.request({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
