// The provider's signing keys live in the database, are created on first start and rotate; the old
// key stays published until the tokens it signed expire (SPEC §3.14). And the operator's commands
// `twostep services …` and `twostep oidc …`, through the real CLI.
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { retiredKeyRetentionMs, rotateSigningKeys } from '../../src/http/oidc/keys.ts';
import { GOOD_PASSWORD, startListeningTestApp, type TestApp } from '../helpers/app.ts';
import { startCli } from '../helpers/cli.ts';
import { createVerifiedAccount } from '../helpers/journeys.ts';
import { addService, authorizationRequest, Browser, exchange, type TestService } from '../helpers/oidc.ts';

function kidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()).kid;
}

describe('OpenID Connect: signing keys', () => {
  let t: TestApp & { baseUrl: string };
  let service: TestService;

  before(async () => {
    t = await startListeningTestApp();
    service = await addService(t);
  });
  after(() => t.close());

  async function idToken(): Promise<string> {
    const account = await createVerifiedAccount(t);
    const browser = new Browser(t.baseUrl);
    const request = await authorizationRequest(service);
    await browser.go(request.url.toString());
    await browser.submit('/login', { email: account.email, password: GOOD_PASSWORD });
    const callback = await browser.submit('/consent');
    assert.ok(callback);
    return (await exchange(service, request, callback)).id_token as string;
  }

  /** Checks an RS256 signature against the key of the same kid in the published JWKS. */
  async function verifies(jwt: string): Promise<boolean> {
    const jwks = await (await fetch(`${t.baseUrl}/oidc/jwks`)).json();
    const jwk = jwks.keys.find((key: { kid: string }) => key.kid === kidOf(jwt));
    if (!jwk) return false;
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    return verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      createPublicKey({ key: jwk, format: 'jwk' }),
      Buffer.from(signature, 'base64url'),
    );
  }

  async function publishedKids(): Promise<string[]> {
    const jwks = await (await fetch(`${t.baseUrl}/oidc/jwks`)).json();
    return jwks.keys.map((key: { kid: string }) => key.kid);
  }

  test('the first start created one sealed key; rotation signs with a new one and keeps the old published', async () => {
    const stored = await t.app.services.store.oidcKeys.list();
    assert.equal(stored.length, 1);
    assert.ok(!stored[0]?.privateJwkSealed.includes('"d"'), 'the private key is not stored in clear');
    const before = await idToken();
    assert.equal(kidOf(before), stored[0]?.kid);

    const { kid } = await rotateSigningKeys({ store: t.app.services.store, config: t.config, clock: t.clock });
    await t.app.server.oidc.tick(); // what every node does each minute
    assert.deepEqual(await publishedKids(), [kid, stored[0]?.kid]);
    const afterRotation = await idToken();
    assert.equal(kidOf(afterRotation), kid);

    // Both tokens still verify against the published key set.
    for (const token of [before, afterRotation]) assert.ok(await verifies(token), kidOf(token));

    // While a token the old key signed may still be valid (65 minutes with the defaults), it stays published…
    t.clock.advance(retiredKeyRetentionMs(t.config) - 60_000);
    await t.app.server.oidc.tick();
    assert.deepEqual(await publishedKids(), [kid, stored[0]?.kid]);
    // …and once they have all expired, the running server stops publishing it at its next tick, no restart.
    t.clock.advance(2 * 60_000);
    await t.app.server.oidc.tick();
    assert.deepEqual(await publishedKids(), [kid]);
    assert.ok(await verifies(afterRotation), 'the new key still verifies its tokens');
    assert.ok(!(await verifies(before)), 'nothing verifies against the dropped key');
    assert.deepEqual(
      (await t.app.services.store.oidcKeys.list()).map((k) => k.kid),
      [kid],
    );
  });
});

describe('twostep services and twostep oidc', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'twostep-services-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function run(args: string[]) {
    return startCli(args, { DATA_DIR: dataDir, NODE_ENV: 'development' }).done(30_000);
  }

  test('add, list and remove a service; refuse a bad redirect URI; rotate the keys', async () => {
    const added = await run([
      'services',
      'add',
      '--name',
      'Messages',
      '--redirect-uri',
      'http://localhost:4000/callback',
      '--post-logout-redirect-uri',
      'http://localhost:4000/',
      '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const service = JSON.parse(added.stdout);
    assert.equal(service.name, 'Messages');
    assert.equal(service.kind, 'confidential');
    assert.match(service.clientSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(service.issuer, 'http://localhost:3000/oidc');

    const publicApp = await run([
      'services',
      'add',
      '--name',
      'Web',
      '--redirect-uri',
      'https://web.example/cb',
      '--public',
      '--json',
    ]);
    assert.equal(publicApp.code, 0, publicApp.stderr);
    assert.equal(JSON.parse(publicApp.stdout).clientSecret, undefined, 'a public service has no secret');

    const bad = await run(['services', 'add', '--name', 'Evil', '--redirect-uri', 'http://evil.example/cb']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /INVALID_REDIRECT_URI/);

    const listed = await run(['services', 'list']);
    assert.match(listed.stdout, new RegExp(`${service.clientId}\\s+confidential\\s+Messages`));
    assert.ok(!listed.stdout.includes(service.clientSecret), 'the secret is shown once only');

    const rotated = await run(['oidc', 'rotate-keys']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /new signing key \S+; 1 older key\(s\) retired/);
    const keys = await run(['oidc', 'keys']);
    assert.match(keys.stdout, /RS256 .* signing/);
    assert.match(keys.stdout, /RS256 .* retired/);

    const removed = await run(['services', 'remove', service.clientId]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!(await run(['services', 'list'])).stdout.includes(service.clientId));
    const again = await run(['services', 'remove', service.clientId]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /SERVICE_NOT_FOUND/);
  });
});
