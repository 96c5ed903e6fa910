// The OpenID Connect provider (SPEC §3.14) is oidc-provider, configured for SECURITY.md item 39:
// authorization code only, PKCE S256 required of every client, exact redirect URIs, single-use codes
// whose reuse revokes what they gave, rotating refresh tokens with an absolute lifetime, RS256 ID
// tokens (never `none`) with auth_time/acr/amr, and RP-initiated logout with a confirmation.
// Its records, keys and clients live in the database; Twostep's own sign-in is the interaction.

import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type Configuration, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config.ts';
import { keyring } from '../../core/secrets.ts';
import { origin as auditOrigin, type Services } from '../../flows/context.ts';
import { authenticate, revokeSession } from '../../flows/sessions.ts';
import { cookieNames, isSecureDeployment } from '../cookies.ts';
import { adapterFactory } from './adapter.ts';
import { ACR_TWO_STEP, requiredAcr, supportedAcrs } from './assurance.ts';
import { dropExpiredKeys, keySetFingerprint, loadSigningKeys, SIGNING_ALG, type SigningJwk } from './keys.ts';
import { providerPages } from './provider-pages.ts';

export const OIDC_PATH = '/oidc';
export const INTERACTION_PATH = '/interaction';

/** Authorization codes are exchanged at once by the service's server: one minute (SECURITY.md item 39: ≤ 10 min). */
const CODE_TTL_SECONDS = 60;
/** The time to sign in, with a code, and consent. */
const INTERACTION_TTL_SECONDS = 30 * 60;

export function issuerOf(config: Config): string {
  return `${config.publicUrl}${OIDC_PATH}`;
}

/**
 * OIDC_COOKIE_KEYS, or in development keys derived from TWOSTEP_SECRET (loadConfig refuses production
 * without): the current secret's first (it signs), then those of TWOSTEP_SECRET_PREVIOUS (they verify).
 */
function cookieKeys(config: Config): string[] {
  if (config.oidcCookieKeys) return config.oidcCookieKeys.split(',').map((key) => key.trim());
  return keyring(config).all.map((secret) =>
    createHmac('sha256', secret).update('oidc-cookie-key').digest('base64url'),
  );
}

/** The Twostep session this browser presents, if it is live and belongs to `accountId`. */
async function portalSessionOf(services: Services, ctx: KoaContextWithOIDC, accountId: string) {
  const token = ctx.cookies.get(cookieNames(services.config).session, { signed: false });
  const auth = await authenticate(services, token);
  return auth?.account.id === accountId ? auth : undefined;
}

/**
 * oidc-provider's login prompt plus two checks of ours. Its single sign-on lasts only as long as the
 * Twostep session it came from, so signing out, a password change or a revoked session end it too;
 * and a service demanding two-step (acr_values) from a password-only sign-in gets a new sign-in.
 */
function interactionPolicyFor(services: Services) {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  login.checks.add(
    new interactionPolicy.Check(
      'twostep_session',
      'the Twostep session this sign-in came from has ended',
      async (ctx) => {
        const accountId = ctx.oidc.session?.accountId;
        if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        return (await portalSessionOf(services, ctx, accountId))
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT;
      },
    ),
  );
  login.checks.add(
    new interactionPolicy.Check('acr_two_step', 'the service asks for two-step verification', (ctx) =>
      requiredAcr(ctx.oidc.params?.acr_values) === ACR_TWO_STEP && ctx.oidc.session?.acr !== ACR_TWO_STEP
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
}

function configuration(services: Services, keys: SigningJwk[]): Configuration {
  const { config } = services;
  const tokenSeconds = config.policy.oidcAccessTokenMinutes * 60;
  const refreshSeconds = config.policy.oidcRefreshTokenDays * 86_400;
  const pages = providerPages(config);
  return {
    adapter: adapterFactory(services.store, config),
    clients: [],
    jwks: { keys: keys as unknown as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: cookieKeys(config),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    async findAccount(_ctx, sub, token) {
      const account = await services.store.accounts.findById(sub);
      // A locked or disabled account gets nothing more: no sign-in, no refreshed tokens.
      if (account?.state !== 'active') return undefined;
      // A password change or reset signs the account out everywhere (SPEC §3.3, §3.7): the tokens
      // services hold from before it stop working too. Refresh tokens count from the first of their
      // chain (iiat); the comparison is in whole seconds, so tokens of the very second of the change live.
      const issued = token as { iat?: number; iiat?: number } | undefined;
      const since = issued?.iiat ?? issued?.iat;
      const changed = account.password_changed_at;
      if (since !== undefined && changed && since < Math.floor(changed.getTime() / 1000)) return undefined;
      return {
        accountId: account.id,
        claims: () => ({
          sub: account.id,
          email: account.email,
          email_verified: account.email_verified_at !== null,
          name: account.name,
          locale: account.locale,
        }),
      };
    },
    // acr, amr and auth_time belong to the openid scope: every ID token says how the user signed in.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name', 'locale'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    acrValues: [...supportedAcrs],
    responseTypes: ['code'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    enabledJWA: {
      idTokenSigningAlgValues: [SIGNING_ALG],
      userinfoSigningAlgValues: [SIGNING_ALG],
    },
    // Services are registered with a client secret or as public apps (flows/services.ts), nothing else:
    // JWT client assertions (client_secret_jwt, private_key_jwt) would be an unused second way to
    // authenticate, with its own algorithm handling (an `alg: none` assertion among the threats), so
    // they are not offered. client_secret_post stays: oidc-provider accepts it for a basic client, and
    // openid-client sends it by default.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: SIGNING_ALG,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // CORS for browser-based public services, and for userinfo, from their own redirect origins only.
    clientBasedCORS(ctx, origin, client) {
      if (origin === 'null') return false;
      if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
      return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
    },
    rotateRefreshToken: true,
    ttl: {
      AuthorizationCode: CODE_TTL_SECONDS,
      AccessToken: tokenSeconds,
      IdToken: tokenSeconds,
      Interaction: INTERACTION_TTL_SECONDS,
      // The provider's single sign-on session: never longer than a Twostep web session (SECURITY.md item 29).
      Session: config.policy.sessionAbsoluteHours * 3600,
      Grant: refreshSeconds,
      // Rotation issues a new token at every use; it inherits the first one's issue time (iiat),
      // so the chain ends OIDC_REFRESH_TOKEN_DAYS after sign-in however often it is used.
      RefreshToken(_ctx, token) {
        const now = Math.floor(Date.now() / 1000);
        const started = typeof token.iiat === 'number' ? token.iiat : now;
        return Math.max(1, refreshSeconds - (now - started));
      },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
    },
    renderError: pages.renderError,
    interactions: {
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
      policy: interactionPolicyFor(services),
    },
  };
}

/** Records every sign-in a service received (the authorization response with a code): `service.signed_in`. */
function auditServiceSignIns(provider: Provider, services: Services): void {
  provider.use(async (ctx, next) => {
    await next();
    const code = ctx.oidc?.entities.AuthorizationCode;
    if (!code || ctx.status !== 303) return;
    const accountId = String(code.accountId);
    await services.store.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'service.signed_in',
      at: services.clock.now(),
      ...auditOrigin({ ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512) || null, locale: 'en' }),
      details: {
        service: String(code.clientId),
        serviceName: String(ctx.oidc.client?.clientName ?? code.clientId),
        acr: code.acr ?? null,
        amr: code.amr ?? [],
      },
    });
  });
}

/**
 * RP-initiated logout, confirmed on our page ("Sign out of Twostep?"), ends the Twostep session of
 * this browser as well as the provider's: the user said they want to be signed out.
 */
function endPortalSessionOnLogout(provider: Provider, services: Services): void {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !ctx.oidc.params?.logout) return;
    const name = cookieNames(services.config).session;
    const auth = await authenticate(services, ctx.cookies.get(name, { signed: false }));
    if (auth) {
      const requestCtx = { ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512) || null, locale: 'en' as const };
      await revokeSession(services, auth, auth.session.id, requestCtx);
    }
    ctx.cookies.set(name, null, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: isSecureDeployment(services.config),
      signed: false,
      overwrite: true,
    });
  });
}

export async function createProvider(services: Services, keys: SigningJwk[]): Promise<Provider> {
  const provider = new Provider(issuerOf(services.config), configuration(services, keys));
  // Behind a reverse proxy the provider must see https and the client's address as Fastify does.
  provider.proxy = services.config.trustProxy;
  auditServiceSignIns(provider, services);
  endPortalSessionOnLogout(provider, services);
  provider.on('server_error', (_ctx, error) => services.log.error({ err: error }, 'oidc provider error'));
  provider.on('grant.revoked', (_ctx, grantId) => services.log.info({ grant: grantId }, 'oidc grant revoked'));
  return provider;
}

/**
 * The provider in use. Its keys are fixed at construction, so every minute each node compares the
 * stored key set with its own and builds a fresh provider when another node or `twostep oidc
 * rotate-keys` changed it; all state is in the database, so flows in progress simply continue.
 * The same tick sweeps expired records.
 */
export class OidcRuntime {
  #provider: Provider;
  #callback: (req: IncomingMessage, res: ServerResponse) => void;
  #fingerprint: string;
  readonly #services: Services;
  #timer: NodeJS.Timeout | undefined;

  private constructor(services: Services, provider: Provider, fingerprint: string) {
    this.#services = services;
    this.#provider = provider;
    this.#callback = provider.callback();
    this.#fingerprint = fingerprint;
  }

  static async start(services: Services): Promise<OidcRuntime> {
    const { keys, unreadable } = await loadSigningKeys(services);
    if (unreadable > 0)
      services.log.warn({ unreadable }, 'oidc signing keys sealed with another TWOSTEP_SECRET were skipped');
    const fingerprint = keySetFingerprint(await services.store.oidcKeys.list());
    const runtime = new OidcRuntime(services, await createProvider(services, keys), fingerprint);
    runtime.#timer = setInterval(() => {
      runtime.tick().catch((error: unknown) => services.log.warn({ err: error }, 'oidc maintenance failed'));
    }, 60_000);
    runtime.#timer.unref();
    return runtime;
  }

  get provider(): Provider {
    return this.#provider;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#callback(req, res);
  }

  /**
   * Reloads the keys if the stored set changed, which includes a retired key whose tokens have all
   * expired: it is deleted here first, so it leaves the published JWKS within a minute rather than
   * at the next restart or rotation. Sweeps expired provider records.
   */
  async tick(): Promise<void> {
    // oidc-provider stamps its records with the real clock (adapter.ts), so they expire by it.
    await this.#services.store.oidcPayloads.deleteExpired(new Date());
    await dropExpiredKeys(this.#services);
    const stored = keySetFingerprint(await this.#services.store.oidcKeys.list());
    if (stored === this.#fingerprint) return;
    const { keys } = await loadSigningKeys(this.#services);
    this.#provider = await createProvider(this.#services, keys);
    this.#callback = this.#provider.callback();
    this.#fingerprint = keySetFingerprint(await this.#services.store.oidcKeys.list());
    this.#services.log.info({ keys: keys.length }, 'oidc signing keys reloaded');
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
