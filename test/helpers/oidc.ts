// A relying service and a browser for OpenID Connect tests: openid-client is the service (as a real
// one would be), and a small cookie-keeping fetch loop is the user's browser, following redirects
// until they leave Twostep for the service's redirect URI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as client from 'openid-client';
import { registerService } from '../../src/flows/services.ts';
import type { RelyingServiceKind } from '../../src/store/schema.ts';
import { freePort, type TestApp } from './app.ts';

export const REDIRECT_URI = 'http://localhost:4999/callback';
export const POST_LOGOUT_URI = 'http://localhost:4999/signed-out';

export interface TestService {
  clientId: string;
  clientSecret?: string;
  config: client.Configuration;
}

export async function addService(
  t: TestApp & { baseUrl: string },
  kind: RelyingServiceKind = 'confidential',
  name = 'Messages',
): Promise<TestService> {
  const { service, clientSecret } = await registerService(
    { store: t.app.services.store, clock: t.clock, config: t.config },
    { name, kind, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] },
    'test',
  );
  const config = await client.discovery(
    new URL(`${t.baseUrl}/oidc`),
    service.id,
    kind === 'confidential' ? clientSecret : undefined,
    kind === 'public' ? client.None() : undefined,
    { execute: [client.allowInsecureRequests] },
  );
  return { clientId: service.id, ...(clientSecret ? { clientSecret } : {}), config };
}

interface StoredCookie {
  value: string;
  path: string;
}

/** The user's browser: a cookie jar (with paths) and manual redirects. */
export class Browser {
  readonly cookies = new Map<string, StoredCookie>();
  readonly baseUrl: string;
  /** The last page shown (HTML), for reading forms. */
  page = '';
  status = 0;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  cookieHeader(url: URL): string {
    return [...this.cookies.entries()]
      .filter(
        ([, c]) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) ||
          c.path === '/',
      )
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired =
        value === '' ||
        attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url, this.baseUrl);
    const headers: Record<string, string> = { accept: 'text/html', cookie: this.cookieHeader(target) };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.keep(response);
    return response;
  }

  /**
   * Opens a URL and follows redirects while they stay on Twostep. Returns the URL of the first
   * redirect that leaves (the service's callback), or undefined when a page is shown instead.
   */
  async go(url: string, form?: Record<string, string>): Promise<URL | undefined> {
    let response = await this.request(url, form ? { form } : {});
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        this.status = response.status;
        this.page = await response.text();
        return undefined;
      }
      const next = new URL(location, response.url || url);
      if (next.origin !== new URL(this.baseUrl).origin) {
        this.status = response.status;
        this.page = '';
        return next;
      }
      response = await this.request(next.toString());
    }
    throw new Error('too many redirects');
  }

  /** Opens a URL and follows every redirect, on any origin, to the page it ends on. */
  async visit(url: string): Promise<string> {
    let next = new URL(url, this.baseUrl);
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.request(next.toString());
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        this.status = response.status;
        this.page = await response.text();
        return this.page;
      }
      next = new URL(location, next);
    }
    throw new Error('too many redirects');
  }

  /** The value of a hidden or text field on the last page. */
  field(name: string): string {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(this.page);
    assert.ok(match, `no field ${name} on the page:\n${this.page.slice(0, 2000)}`);
    return (match[1] as string).replace(/&amp;/g, '&');
  }

  /** The action of the first form whose action ends with `ending`. */
  action(ending: string): string {
    const actions = [...this.page.matchAll(/action="([^"]*)"/g)].map((m) => (m[1] as string).replace(/&amp;/g, '&'));
    const found = actions.find((a) => a.endsWith(ending));
    assert.ok(found, `no form for ${ending} on the page:\n${this.page.slice(0, 2000)}`);
    return found;
  }

  /** Submits the page's form for `part` with its CSRF token and these fields. */
  submit(part: string, fields: Record<string, string> = {}): Promise<URL | undefined> {
    return this.go(this.action(part), { _csrf: this.field('_csrf'), ...fields });
  }
}

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(
  service: TestService,
  extra: Record<string, string> = {},
): Promise<AuthorizationRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(service.config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

export function exchange(service: TestService, request: AuthorizationRequest, callback: URL) {
  return client.authorizationCodeGrant(service.config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

const EXAMPLE = new URL('../../examples/messages/server.ts', import.meta.url).pathname;

/** Registers the Messages example and runs it as its README says, beside the test server. */
export async function startExample(t: TestApp & { baseUrl: string }): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const { service, clientSecret } = await registerService(
    { store: t.app.services.store, clock: t.clock, config: t.config },
    { name: 'Messages', kind: 'confidential', redirectUris: [`${url}/callback`], postLogoutRedirectUris: [`${url}/`] },
    'test',
  );
  const child = spawn(process.execPath, [EXAMPLE], {
    env: {
      PATH: process.env.PATH ?? '',
      TWOSTEP_ISSUER: `${t.baseUrl}/oidc`,
      MESSAGES_CLIENT_ID: service.id,
      MESSAGES_CLIENT_SECRET: clientSecret as string,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start:\n${output}`)), 15_000);
    const seen = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Messages is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', seen);
  });
  return { url, stop: () => child.kill('SIGTERM') };
}
