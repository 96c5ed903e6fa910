// OpenID Connect state is shared by every node (issue 10): the user signs in to a service through
// node A, and the service redeems the authorization code, reads userinfo and rotates its refresh
// token through node B; a code redeemed on B is refused when replayed on A, which revokes what it gave. Both nodes are real
// `twostep serve` processes behind one PUBLIC_URL (as behind a load balancer), on one PostgreSQL and
// one Redis: codes, grants and refresh tokens live in the database (the Kysely adapter), the signing
// keys too. Skipped only when there are no servers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import pg from 'pg';
import { systemClock } from '../../src/core/clock.ts';
import { registerService } from '../../src/flows/services.ts';
import { migrateToLatest, openDatabase } from '../../src/store/database.ts';
import { createStore } from '../../src/store/index.ts';
import { GOOD_PASSWORD, testConfig, uniqueEmail } from '../helpers/app.ts';
import { signUpFields } from '../helpers/journeys.ts';
import { type Node, servers, startNode, stopNode, withSearchPath } from '../helpers/nodes.ts';
import { Browser, REDIRECT_URI } from '../helpers/oidc.ts';

describe('OpenID Connect across nodes', { skip: servers ? false : 'needs DATABASE_URL and REDIS_URL' }, () => {
  const schema = `oidc_nodes_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'twostep-oidc-nodes-'));
  let admin: pg.Client;
  let a: Node;
  let b: Node;
  let clientId = '';
  let clientSecret = '';

  before(async () => {
    const { databaseUrl, redisUrl } = servers as { databaseUrl: string; redisUrl: string };
    admin = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const db = await openDatabase({ databaseUrl, schema, poolSize: 1 });
    await migrateToLatest(db);
    const registered = await registerService(
      { store: createStore(db), clock: systemClock, config: testConfig() },
      { name: 'Messages', kind: 'confidential', redirectUris: [REDIRECT_URI] },
      'test',
    );
    await db.destroy();
    clientId = registered.service.id;
    clientSecret = registered.clientSecret as string;
    const env = { DATABASE_URL: withSearchPath(databaseUrl, schema), REDIS_URL: redisUrl, DATA_DIR: dataDir };
    a = await startNode('A', env);
    // One public address for both, as behind a load balancer: B answers for A's issuer.
    b = await startNode('B', { ...env, PUBLIC_URL: a.baseUrl });
  });

  after(async () => {
    await Promise.all([a, b].filter((n) => n !== undefined).map(stopNode));
    if (admin) {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The service as it would be configured against `node`: the issuer's metadata, every endpoint on that node. */
  function serviceOn(node: Node, metadata: client.ServerMetadata): client.Configuration {
    const onNode = (url: string | undefined) => url?.replace(a.baseUrl, node.baseUrl);
    const config = new client.Configuration(
      {
        ...metadata,
        token_endpoint: onNode(metadata.token_endpoint),
        userinfo_endpoint: onNode(metadata.userinfo_endpoint),
        jwks_uri: onNode(metadata.jwks_uri),
      },
      clientId,
      clientSecret,
    );
    client.allowInsecureRequests(config);
    return config;
  }

  test('signed in through A; the code, userinfo and refresh tokens work through B, and only once', async () => {
    // An account, signed up on A and confirmed on B.
    const fields = signUpFields({ email: uniqueEmail('oidc.nodes') });
    const signUp = await fetch(`${a.baseUrl}/api/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    assert.equal(signUp.status, 202);
    const outbox = (await (
      await fetch(`${b.baseUrl}/dev/outbox.json?to=${encodeURIComponent(fields.email)}`)
    ).json()) as {
      links: string[];
    }[];
    const link = outbox.flatMap((m) => m.links).find((l) => l.includes('/verify-email?token='));
    assert.ok(link, 'the confirmation email');
    const verified = await fetch(`${b.baseUrl}/api/v1/email/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: new URL(link).searchParams.get('token') }),
    });
    assert.equal(verified.status, 200);

    // The service discovers the issuer (one address for both nodes) and sends the user there (A).
    const discovered = await client.discovery(new URL(`${a.baseUrl}/oidc`), clientId, clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const onA = serviceOn(a, discovered.serverMetadata());
    const onB = serviceOn(b, discovered.serverMetadata());
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(onA, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email offline_access',
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const browser = new Browser(a.baseUrl);
    await browser.go(url.toString());
    await browser.submit('/login', { email: fields.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback, browser.page.slice(0, 500));

    // The code is redeemed through B, its access token read through B.
    const tokens = await client.authorizationCodeGrant(onB, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.ok(tokens.claims()?.sub, 'an ID token, checked against the keys B publishes');
    const info = await client.fetchUserInfo(onB, tokens.access_token, tokens.claims()?.sub as string);
    assert.equal(info.email, fields.email);
    // The refresh token rotates on B; the old one is then dead on A.
    assert.ok(tokens.refresh_token, 'offline_access with consent gives a refresh token');
    const rotated = await client.refreshTokenGrant(onB, tokens.refresh_token);
    assert.ok(rotated.access_token && rotated.refresh_token);
    const invalidGrant = (error: Error & { error?: string }) => error.error === 'invalid_grant';
    await assert.rejects(client.refreshTokenGrant(onA, tokens.refresh_token), invalidGrant);
    // The same code again, now on A: refused, and (RFC 6749 §4.1.2) what it gave is revoked, on B too.
    await assert.rejects(
      client.authorizationCodeGrant(onA, callback, { pkceCodeVerifier: verifier, expectedState: state }),
      invalidGrant,
    );
    await assert.rejects(client.refreshTokenGrant(onB, rotated.refresh_token as string), invalidGrant);
  });
});
