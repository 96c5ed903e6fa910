// An attacker tries to read, plant or reuse cookies, frame the portal, inject script, or pick a
// session out of a cache (SECURITY.md item 28; DESIGN.md convention 11): every cookie is HttpOnly,
// SameSite=Lax, host-only on Path=/, and `__Host-` + Secure over https; pages ship a strict CSP;
// anything that carries a session is `no-store`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.ts';
import { bearer, createVerifiedAccount } from '../helpers/journeys.ts';
import { Browser, setCookieLines, signInBrowser, startSecondApp, startTestApp } from './support.ts';

interface ParsedCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie line (RFC 6265 §5.2): attribute names are case-insensitive. */
function parseSetCookie(line: string): ParsedCookie {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=');
    attributes.set(key.toLowerCase(), value.join('='));
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

function cookiesOf(response: LightMyRequestResponse): ParsedCookie[] {
  return setCookieLines(response).map(parseSetCookie);
}

function assertCookieFlags(cookie: ParsedCookie, options: { https: boolean }): void {
  const where = `${cookie.name}: ${[...cookie.attributes].map(([k, v]) => (v ? `${k}=${v}` : k)).join('; ')}`;
  assert.ok(cookie.attributes.has('httponly'), `HttpOnly missing: ${where}`);
  assert.equal(cookie.attributes.get('samesite')?.toLowerCase(), 'lax', `SameSite=Lax: ${where}`);
  assert.equal(cookie.attributes.get('path'), '/', `Path=/: ${where}`);
  assert.ok(!cookie.attributes.has('domain'), `a Domain attribute widens the cookie to subdomains: ${where}`);
  if (options.https) {
    assert.ok(cookie.name.startsWith('__Host-'), `__Host- prefix: ${where}`);
    assert.ok(cookie.attributes.has('secure'), `Secure: ${where}`);
  } else {
    assert.ok(!cookie.name.startsWith('__Host-'), `__Host- needs Secure, which plain http cannot keep: ${where}`);
  }
}

/** Every cookie the server sets on the way through sign-in, the portal, the language switch and sign-out. */
async function cookiesOfAJourney(t: TestApp, origin: string): Promise<Map<string, ParsedCookie[]>> {
  const seen = new Map<string, ParsedCookie[]>();
  const keep = (response: LightMyRequestResponse): void => {
    for (const cookie of cookiesOf(response)) seen.set(cookie.name, [...(seen.get(cookie.name) ?? []), cookie]);
  };
  const fields = await createVerifiedAccount(t);
  const api = await t.request({
    method: 'POST',
    url: '/api/v1/signin',
    headers: { origin },
    payload: { email: fields.email, password: fields.password },
  });
  assert.equal(api.statusCode, 200, api.body);
  keep(api);
  const browser = new Browser(t);
  const page = await browser.get('/signin');
  keep(page);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const form = await browser.postForm(
    '/signin',
    { _csrf: token, email: fields.email, password: fields.password },
    { headers: { origin } },
  );
  assert.equal(form.statusCode, 303, form.body.slice(0, 300));
  keep(form);
  keep(await browser.postForm('/language', { _csrf: token, locale: 'nl', back: '/' }, { headers: { origin } }));
  const out = await browser.postForm('/signout', { _csrf: token }, { headers: { origin } });
  assert.equal(out.statusCode, 303);
  keep(out);
  return seen;
}

// One development server for the plain-http tests, one https deployment for the others.
let t: TestApp;
before(async () => {
  t = await startTestApp({ PUBLIC_URL: 'http://localhost:3000' });
});
after(() => t.close());

describe('cookies on a plain-http development server', () => {
  test('session, form-token, language and known-browser cookies are HttpOnly, SameSite=Lax, Path=/, host-only', async () => {
    const seen = await cookiesOfAJourney(t, 'http://localhost:3000');
    assert.deepEqual([...seen.keys()].sort(), ['twostep_browser', 'twostep_csrf', 'twostep_lang', 'twostep_session']);
    for (const cookies of seen.values()) for (const cookie of cookies) assertCookieFlags(cookie, { https: false });
    assert.ok(
      seen.get('twostep_session')?.some((c) => c.value === ''),
      'sign-out clears the session cookie with the same name and path',
    );
  });
});

describe('cookies and headers behind https', () => {
  const publicUrl = 'https://twostep.example';
  let https: TestApp;
  before(async () => {
    https = await startSecondApp(t, { PUBLIC_URL: publicUrl });
  });
  after(() => https.close());

  test('every cookie carries the __Host- prefix and Secure', async () => {
    const seen = await cookiesOfAJourney(https, publicUrl);
    assert.deepEqual([...seen.keys()].sort(), [
      '__Host-twostep_browser',
      '__Host-twostep_csrf',
      '__Host-twostep_lang',
      '__Host-twostep_session',
    ]);
    for (const cookies of seen.values()) for (const cookie of cookies) assertCookieFlags(cookie, { https: true });
  });

  test('a session cookie without the prefix (one a sibling subdomain could plant) is ignored', async () => {
    const fields = await createVerifiedAccount(https);
    const signin = await https.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: fields.password },
    });
    const token = signin.json().token as string;
    const withPrefix = await https.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: `__Host-twostep_session=${token}` },
    });
    assert.equal(withPrefix.statusCode, 200);
    const withoutPrefix = await https.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: `twostep_session=${token}` },
    });
    assert.equal(withoutPrefix.statusCode, 401);
  });

  test('HSTS is sent, for a year and subdomains', async () => {
    for (const url of ['/signin', '/api/v1/me', '/healthz']) {
      const response = await https.request({ method: 'GET', url });
      const hsts = String(response.headers['strict-transport-security'] ?? '');
      const maxAge = Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0);
      assert.ok(maxAge >= 31_536_000, `${url}: ${hsts}`);
      assert.match(hsts, /includeSubDomains/i, url);
    }
  });
});

/** The directives of a Content-Security-Policy header, by name. */
function cspDirectives(header: string): Map<string, string[]> {
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name = '', ...values]) => [name.toLowerCase(), values]),
  );
}

describe('pages: CSP, framing, referrer, caching', () => {
  let browser: Browser;
  before(async () => {
    const fields = await createVerifiedAccount(t);
    browser = await signInBrowser(t, fields.email, fields.password);
  });

  const pages = ['/signin', '/signup', '/account', '/account/activity', '/verify-email?token=abc', '/no-such-page'];
  /** Visitors' pages as a visitor sees them (signed in, /signin redirects), account pages signed in. */
  const visit = (url: string): Promise<LightMyRequestResponse> =>
    url.startsWith('/account') ? browser.get(url) : new Browser(t).get(url);

  test('every page has a strict CSP: no inline or eval script or style, no framing, no plugins', async () => {
    for (const url of pages) {
      const response = await visit(url);
      assert.match(String(response.headers['content-type']), /^text\/html/, url);
      const header = response.headers['content-security-policy'];
      assert.equal(typeof header, 'string', `${url} has no CSP`);
      const csp = cspDirectives(header as string);
      for (const directive of ['script-src', 'style-src']) {
        const sources = csp.get(directive) ?? csp.get('default-src');
        assert.ok(sources, `${url}: neither ${directive} nor default-src`);
        for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'http:', 'https:']) {
          assert.ok(!sources.includes(bad), `${url}: ${directive} allows ${bad}`);
        }
      }
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], url);
      assert.deepEqual(csp.get('object-src'), ["'none'"], url);
      assert.ok(csp.has('base-uri'), `${url}: base-uri`);
      assert.equal(String(response.headers['x-frame-options']).toUpperCase(), 'DENY', url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      // The pages themselves keep to it: nothing inline that the policy would have to allow.
      assert.doesNotMatch(response.body, /<script(?![^>]*\ssrc=)[^>]*>/i, `${url} has an inline script`);
      assert.doesNotMatch(response.body, /<style[\s>]|\sstyle="|\son[a-z]+="/i, `${url} has inline style or handlers`);
    }
  });

  test('Referrer-Policy keeps URLs (and tokens in them) from leaking to other sites', async () => {
    for (const url of [...pages, '/api/v1/me', '/healthz']) {
      const response = await visit(url);
      assert.ok(
        ['no-referrer', 'same-origin', 'strict-origin'].includes(String(response.headers['referrer-policy'])),
        `${url}: ${response.headers['referrer-policy']}`,
      );
    }
    const verify = await browser.get('/verify-email?token=abc');
    assert.equal(verify.headers['referrer-policy'], 'no-referrer', 'the page opened from an emailed token');
  });

  test('no HSTS on a plain-http development server (it would pin localhost to https)', async () => {
    for (const url of ['/signin', '/api/v1/me']) {
      const response = await browser.get(url);
      assert.equal(response.headers['strict-transport-security'], undefined, url);
    }
  });

  test('responses that carry a session or account data are cache-control: no-store', async () => {
    const fields = await createVerifiedAccount(t);
    const signin = await t.request({
      method: 'POST',
      url: '/api/v1/signin',
      payload: { email: fields.email, password: fields.password },
    });
    assert.equal(signin.statusCode, 200);
    const token = signin.json().token as string;
    const responses: [string, LightMyRequestResponse][] = [
      ['POST /api/v1/signin', signin],
      ['GET /api/v1/me', await t.request({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })],
      ['GET /api/v1/sessions', await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(token) })],
      ['GET /api/v1/activity', await t.request({ method: 'GET', url: '/api/v1/activity', headers: bearer(token) })],
      ['GET /account', await browser.get('/account')],
      ['GET /account/activity', await browser.get('/account/activity')],
    ];
    const other = new Browser(t);
    const csrf = await other.formToken('/signin');
    responses.push([
      'POST /signin (form)',
      await other.postForm('/signin', { _csrf: csrf, email: fields.email, password: fields.password }),
    ]);
    responses.push(['POST /signout (form)', await other.postForm('/signout', { _csrf: csrf })]);
    responses.push([
      'POST /api/v1/signout',
      await t.request({ method: 'POST', url: '/api/v1/signout', headers: bearer(token) }),
    ]);
    for (const [label, response] of responses) {
      assert.ok(response.statusCode < 400, `${label}: ${response.statusCode}`);
      assert.match(
        String(response.headers['cache-control']),
        /no-store/,
        `${label}: ${response.headers['cache-control']}`,
      );
    }
  });
});
