// "Messages": a tiny web app that signs its users in through Twostep with OpenID Connect, as any
// relying service would, using the openid-client library. It shows who is signed in and how (the
// ID token's acr and amr), can ask for two-step verification (acr_values), and signs out.
//
//   MESSAGES_CLIENT_ID=… MESSAGES_CLIENT_SECRET=… npx node examples/messages/server.ts
//
// Settings (environment): TWOSTEP_ISSUER (default http://localhost:3000/oidc), MESSAGES_CLIENT_ID,
// MESSAGES_CLIENT_SECRET, PORT (default 4000). Register it first; see README.md in this folder.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as client from 'openid-client';

const issuer = new URL(process.env.TWOSTEP_ISSUER ?? 'http://localhost:3000/oidc');
const clientId = process.env.MESSAGES_CLIENT_ID;
const clientSecret = process.env.MESSAGES_CLIENT_SECRET;
const port = Number(process.env.PORT ?? 4000);
const base = `http://localhost:${port}`;
const TWO_STEP = 'urn:twostep:acr:two-step';

if (!clientId || !clientSecret) {
  console.error('Set MESSAGES_CLIENT_ID and MESSAGES_CLIENT_SECRET (twostep services add prints them).');
  process.exit(64);
}

// openid-client refuses plain http unless told: allowed here only for a Twostep on this machine.
const local = issuer.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(issuer.hostname);
const config = await client.discovery(issuer, clientId, clientSecret, undefined, {
  ...(local ? { execute: [client.allowInsecureRequests] } : {}),
});

interface Visit {
  /** Between "sign in" and the callback. */
  pending?: { verifier: string; state: string; nonce: string };
  user?: { claims: client.IDToken; idToken: string; userinfo: client.UserInfoResponse };
}

// In memory, keyed by a random cookie: enough for an example.
const visits = new Map<string, Visit>();

function visitOf(request: IncomingMessage, response: ServerResponse): Visit {
  const id = /(?:^|;\s*)messages_visit=([\w-]{43})/.exec(request.headers.cookie ?? '')?.[1];
  if (id && visits.has(id)) return visits.get(id) as Visit;
  const fresh = randomBytes(32).toString('base64url');
  visits.set(fresh, {});
  response.setHeader('set-cookie', `messages_visit=${fresh}; Path=/; HttpOnly; SameSite=Lax`);
  return visits.get(fresh) as Visit;
}

const escape = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** RFC 8176 values as people would say them. */
const AMR: Record<string, string> = {
  pwd: 'password',
  otp: 'a code from a trusted device',
  sms: 'a code by text message',
  hwk: 'a security key',
  mfa: 'more than one factor',
};

function page(response: ServerResponse, body: string, status = 200): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Messages</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; line-height: 1.5">
<h1>Messages</h1>${body}</body></html>`);
}

function home(visit: Visit, response: ServerResponse): void {
  if (!visit.user) {
    page(response, `<p>You are not signed in.</p><p><a href="/login">Sign in with Twostep</a></p>`);
    return;
  }
  const { claims, userinfo } = visit.user;
  const how = (claims.amr as string[] | undefined)?.map((m) => AMR[m] ?? m).join(', ') ?? 'unknown';
  page(
    response,
    `<p>Signed in as <strong>${escape(userinfo.name ?? claims.sub)}</strong> (${escape(userinfo.email ?? '')}).</p>
<dl>
  <dt>How (amr)</dt><dd data-amr="${escape((claims.amr as string[] | undefined)?.join(' ') ?? '')}">${escape(how)}</dd>
  <dt>Level (acr)</dt><dd data-acr="${escape(claims.acr ?? '')}">${escape(claims.acr ?? 'none')}</dd>
  <dt>When (auth_time)</dt><dd>${escape(new Date(Number(claims.auth_time) * 1000).toISOString())}</dd>
</dl>
${claims.acr === TWO_STEP ? '' : '<p><a href="/login?two-step=1">Open your messages (needs two-step verification)</a></p>'}
<p><a href="/logout">Sign out</a></p>`,
  );
}

async function login(visit: Visit, url: URL, response: ServerResponse): Promise<void> {
  const verifier = client.randomPKCECodeVerifier();
  const pending = { verifier, state: client.randomState(), nonce: client.randomNonce() };
  visit.pending = pending;
  const authorize = client.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/callback`,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
    ...(url.searchParams.has('two-step') ? { acr_values: TWO_STEP } : {}),
  });
  response.writeHead(303, { location: authorize.href }).end();
}

async function callback(visit: Visit, url: URL, response: ServerResponse): Promise<void> {
  const pending = visit.pending;
  visit.pending = undefined;
  if (!pending) return page(response, '<p>No sign-in in progress. <a href="/">Start again</a>.</p>', 400);
  if (url.searchParams.has('error')) {
    return page(response, `<p>Twostep said: ${escape(url.searchParams.get('error'))}. <a href="/">Back</a></p>`, 400);
  }
  const tokens = await client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
  });
  const claims = tokens.claims();
  if (!claims || !tokens.id_token) return page(response, '<p>No ID token.</p>', 502);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  visit.user = { claims, idToken: tokens.id_token, userinfo };
  response.writeHead(303, { location: '/' }).end();
}

function logout(visit: Visit, response: ServerResponse): void {
  const idToken = visit.user?.idToken;
  visit.user = undefined;
  if (!idToken) return void response.writeHead(303, { location: '/' }).end();
  const end = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${base}/` });
  response.writeHead(303, { location: end.href }).end();
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', base);
  const visit = visitOf(request, response);
  const routes: Record<string, () => unknown> = {
    '/': () => home(visit, response),
    '/login': () => login(visit, url, response),
    '/callback': () => callback(visit, url, response),
    '/logout': () => logout(visit, response),
  };
  const route = routes[url.pathname];
  if (!route) return page(response, '<p>Not found.</p>', 404);
  Promise.resolve(route()).catch((error: unknown) => {
    console.error(error);
    page(response, `<p>Sign-in failed: ${escape((error as Error).message)}. <a href="/">Back</a></p>`, 500);
  });
});

server.listen(port, 'localhost', () => console.log(`Messages is running at ${base} (Twostep: ${issuer.href})`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
