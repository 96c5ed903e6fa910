// Shared by the security tests (not a test file itself): a browser-like cookie jar, the portal's
// form tokens, the error contract of SPEC §7, and an app whose attempt counters follow the fake clock.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { RawSettings } from '../../src/config.ts';
import { errorCatalog } from '../../src/core/errors.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

export const EVIL_ORIGIN = 'https://evil.example';

/** The cookies a response sets, by name (value '' when it clears one). */
export function setCookies(response: LightMyRequestResponse): Map<string, string> {
  return new Map(response.cookies.map((c) => [c.name, c.value]));
}

/** The raw Set-Cookie header lines of a response. */
export function setCookieLines(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/** A browser's cookie jar for one site: remembers what responses set and sends it back. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly t: TestApp;
  constructor(t: TestApp) {
    this.t = t;
  }
  remember(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of response.cookies) {
      const expired = c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now());
      if (expired || c.value === '') this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return response;
  }
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.t.request({
      method: 'GET',
      url,
      headers: { accept: 'text/html', cookie: this.cookieHeader(), ...headers },
    });
    return this.remember(response);
  }
  /** The `_csrf` value of the first form on a page. */
  async formToken(url = '/signin'): Promise<string> {
    const page = await this.get(url);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(token, `no form token on ${url} (status ${page.statusCode})`);
    return token;
  }
  /**
   * Posts an urlencoded form as a same-origin browser would (Origin and Sec-Fetch-Site of our own
   * site); `options.headers` override those, and a header given as '' is left out.
   */
  async postForm(
    url: string,
    fields: Record<string, string>,
    options: { headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(this.t.config.publicUrl).origin,
      'sec-fetch-site': 'same-origin',
      cookie: this.cookieHeader(),
      ...options.headers,
    };
    const response = await this.t.request({
      method: 'POST',
      url,
      headers: Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== '')),
      payload: new URLSearchParams(fields).toString(),
    });
    return this.remember(response);
  }
  session(): string | undefined {
    return [...this.cookies].find(([name]) => name.endsWith('twostep_session'))?.[1];
  }
}

/** Signs in through the portal's form; returns the browser holding the session cookie. */
export async function signInBrowser(t: TestApp, email: string, password: string): Promise<Browser> {
  const browser = new Browser(t);
  const token = await browser.formToken('/signin');
  const response = await browser.postForm('/signin', { _csrf: token, email, password });
  assert.equal(response.statusCode, 303, response.body.slice(0, 500));
  assert.ok(browser.session(), 'signed in without a session cookie');
  return browser;
}

/** SPEC §7: `{"error": {"code", "message"}}` with the status the catalog gives that code. */
export function assertErrorContract(response: LightMyRequestResponse, context = ''): string {
  const where = `${context} → ${response.statusCode} ${response.body.slice(0, 300)}`;
  assert.ok(response.statusCode >= 400 && response.statusCode < 500, `expected a 4xx: ${where}`);
  assert.match(String(response.headers['content-type']), /^application\/json/, `not JSON: ${where}`);
  let body: unknown;
  assert.doesNotThrow(() => {
    body = JSON.parse(response.body);
  }, `unparseable body: ${where}`);
  const error = (body as { error?: Record<string, unknown> }).error;
  assert.ok(error && typeof error === 'object', `no error object: ${where}`);
  assert.deepEqual(Object.keys(body as object), ['error'], `extra top-level keys: ${where}`);
  for (const key of Object.keys(error)) assert.ok(['code', 'message', 'detail'].includes(key), `key ${key}: ${where}`);
  assert.equal(typeof error.code, 'string', where);
  assert.ok(Object.hasOwn(errorCatalog, error.code as string), `code not in src/core/errors.ts: ${where}`);
  assert.equal(errorCatalog[error.code as keyof typeof errorCatalog], response.statusCode, `status/code: ${where}`);
  assert.equal(typeof error.message, 'string', where);
  assert.ok((error.message as string).length > 0, where);
  return error.code as string;
}

/** A second app beside `first`, on the same database, with its own settings and a fake-clock key-value store. */
export function startSecondApp(first: TestApp, settings: RawSettings = {}): Promise<TestApp> {
  return startTestApp(settings, { shareDatabaseWith: first, memoryKeyValue: true });
}

export { startTestApp };
