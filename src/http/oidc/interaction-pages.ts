// Twostep's own sign-in as the OpenID Connect interaction (SPEC §3.14): the same flows as the portal
// (flows/sign-in.ts, the challenge channels), so a 2SV account on a browser it does not trust needs
// a code before the service gets one (SECURITY.md item 10: every path). A live portal session that
// is strong and fresh enough is used instead of asking again, unless the service said prompt=login.
// Every step is bound to this browser by oidc-provider's interaction cookie; the pending challenge
// is kept by interaction id in the key-value store, so any node can take the next step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import { AppError } from '../../core/errors.ts';
import { replaceChallengeCode } from '../../flows/challenges.ts';
import { listChannels, sendCodeThrough } from '../../flows/channels/index.ts';
import type { Services } from '../../flows/context.ts';
import { matchNumberFor } from '../../flows/number-matching.ts';
import { securityKeyOptionsIfAny } from '../../flows/security-key-proof.ts';
import type { AuthenticatedSession } from '../../flows/sessions.ts';
import { completeSignIn, signIn } from '../../flows/sign-in.ts';
import { cookieNames, cookieOptions } from '../cookies.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { field, readForm, redirect } from '../pages/forms.ts';
import { pageView } from '../pages/layout.ts';
import { approvalReply, codePage, formAnswer, sendFailure } from '../pages/two-step-pages.ts';
import { setSessionCookie } from '../session-cookie.ts';
import {
  ACR_TWO_STEP,
  type Assurance,
  type CodeChannelType,
  codeAssurance,
  passwordAssurance,
  requiredAcr,
  satisfies,
  sessionAssurance,
} from './assurance.ts';
import { replyWithFormTargets } from './csp.ts';
import { consentPage, loginPage } from './interaction-views.ts';
import type { OidcRuntime } from './provider.ts';

const hidden = { schema: { hide: true } };

interface Pending {
  challengeId: string;
  channel?: CodeChannelType;
}

type Details = Awaited<ReturnType<OidcRuntime['provider']['interactionDetails']>>;

function param(details: Details, name: string): string | undefined {
  const value = details.params[name];
  return typeof value === 'string' ? value : undefined;
}

export function registerOidcInteractions(app: FastifyInstance, services: Services, runtime: OidcRuntime): void {
  const { config, kv } = services;
  const pendingKey = (uid: string) => `oidc-pending:${uid}`;
  const pendingTtlMs = config.policy.codeLifetimeMinutes * 60_000;

  /** The interaction this browser is in; the URL's id must be the one its cookie names. */
  async function interaction(request: FastifyRequest, reply: FastifyReply): Promise<Details> {
    const { uid } = request.params as { uid: string };
    let details: Details;
    try {
      details = await runtime.provider.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      if ((error as { name?: string }).name === 'SessionNotFound') throw new AppError('SERVICE_SIGNIN_EXPIRED');
      throw error;
    }
    if (details.uid !== uid) throw new AppError('SERVICE_SIGNIN_EXPIRED');
    // Forms here end in a redirect to the service, which the CSP's form-action must allow.
    replyWithFormTargets(reply, [param(details, 'redirect_uri') ?? '']);
    return details;
  }

  async function serviceName(details: Details): Promise<string> {
    const clientId = param(details, 'client_id') ?? '';
    const client = await runtime.provider.Client.find(clientId);
    return String(client?.clientName ?? clientId);
  }

  /** Hands the result to oidc-provider and sends the browser on (cookies set on this reply go along). */
  async function finish(request: FastifyRequest, reply: FastifyReply, result: InteractionResults) {
    const returnTo = await runtime.provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    return redirect(reply, returnTo);
  }

  function loginResult(accountId: string, assurance: Assurance, at?: Date): InteractionResults {
    return {
      login: {
        accountId,
        acr: assurance.acr,
        amr: assurance.amr,
        ...(at ? { ts: Math.floor(at.getTime() / 1000) } : {}),
      },
    };
  }

  /** The portal session, when it may stand in for a sign-in to this service (max_age, prompt=login, acr_values). */
  function reusable(details: Details, auth: AuthenticatedSession | undefined): AuthenticatedSession | undefined {
    if (!auth) return undefined;
    const reasons = details.prompt.reasons;
    if (reasons.includes('login_prompt') || reasons.includes('id_token_hint')) return undefined;
    const maxAge = param(details, 'max_age');
    const ageMs = services.clock.now().getTime() - auth.session.verified_at.getTime();
    if (maxAge !== undefined && ageMs > Number(maxAge) * 1000) return undefined;
    const needed = requiredAcr(details.params.acr_values);
    return satisfies(sessionAssurance(auth.session.assurance).acr, needed) ? auth : undefined;
  }

  async function showLogin(request: FastifyRequest, reply: FastifyReply, details: Details, error?: AppError) {
    const page = loginPage(request, reply, {
      uid: details.uid,
      service: await serviceName(details),
      needsTwoStep: requiredAcr(details.params.acr_values) === ACR_TWO_STEP,
      email: error ? field(request.body as Record<string, unknown>, 'email') : (param(details, 'login_hint') ?? ''),
      error,
    });
    return reply.type('text/html; charset=utf-8').send(page);
  }

  async function showCode(
    request: FastifyRequest,
    reply: FastifyReply,
    details: Details,
    extra: {
      sentTo?: Awaited<ReturnType<typeof sendCodeThrough>>;
      matchNumber?: number | undefined;
      approvalStatus?: string;
      error?: AppError;
    } = {},
  ) {
    const pending = await readPending(details.uid);
    const challenge = pending ? await services.store.challenges.find(pending.challengeId) : undefined;
    if (!challenge || challenge.completedAt || challenge.cancelledAt)
      return redirect(reply, `/interaction/${details.uid}`);
    const channels = await listChannels(services, challenge.accountId);
    const securityKeyOptions = await securityKeyOptionsIfAny(services, challenge, channels);
    const title = pageView(request, reply).text('twoStep.signInTitle');
    return reply.type('text/html; charset=utf-8').send(
      codePage(request, reply, {
        title,
        action: `/interaction/${details.uid}/verify`,
        channels,
        offerTrust: true,
        securityKeyOptions,
        ...extra,
      }),
    );
  }

  async function readPending(uid: string): Promise<Pending | undefined> {
    const raw = await kv.get(pendingKey(uid));
    return raw ? (JSON.parse(raw) as Pending) : undefined;
  }

  app.get('/interaction/:uid', hidden, async (request, reply) => {
    const details = await interaction(request, reply);
    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId ?? '';
      const account = await services.store.accounts.findById(accountId);
      const missing = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
      return reply.type('text/html; charset=utf-8').send(
        consentPage(request, reply, {
          uid: details.uid,
          service: await serviceName(details),
          email: account?.email ?? '',
          scopes: missing,
        }),
      );
    }
    const session = reusable(details, request.auth);
    if (session) {
      return finish(
        request,
        reply,
        loginResult(session.account.id, sessionAssurance(session.session.assurance), session.session.verified_at),
      );
    }
    return showLogin(request, reply, details);
  });

  app.post('/interaction/:uid/login', hidden, async (request, reply) => {
    const form = readForm(request);
    const details = await interaction(request, reply);
    if (details.prompt.name !== 'login') return redirect(reply, `/interaction/${details.uid}`);
    const needsTwoStep = requiredAcr(details.params.acr_values) === ACR_TWO_STEP;
    let result: Awaited<ReturnType<typeof signIn>>;
    try {
      result = await signIn(
        services,
        {
          email: field(form, 'email'),
          password: field(form, 'password'),
          // A service that demands two-step gets a code even from a browser the account trusts.
          trustedBrowser: needsTwoStep ? undefined : request.cookies[cookieNames(config).trustedBrowser],
          knownBrowser: knownBrowserMarker(request, config),
        },
        request.ctx,
      );
    } catch (error) {
      return showLogin(request, reply, details, sendFailure(reply, error));
    }
    if (result.status === 'two_step_required') {
      await kv.set(pendingKey(details.uid), JSON.stringify({ challengeId: result.challenge.id }), pendingTtlMs);
      return redirect(reply, `/interaction/${details.uid}/verify`);
    }
    setSessionCookie(reply, config, result.token);
    setKnownBrowserCookie(reply, config, result.knownBrowser);
    if (needsTwoStep) {
      // Only an account without two-step verification gets here: it cannot give what the service demands.
      return finish(request, reply, {
        error: 'unmet_authentication_requirements',
        error_description: 'two-step verification is not turned on for this account',
      });
    }
    return finish(request, reply, loginResult(result.account.id, passwordAssurance()));
  });

  app.get('/interaction/:uid/verify', hidden, async (request, reply) => {
    const details = await interaction(request, reply);
    return showCode(request, reply, details);
  });

  app.post('/interaction/:uid/verify/send', hidden, async (request, reply) => {
    const form = readForm(request);
    const details = await interaction(request, reply);
    const pending = await readPending(details.uid);
    const challenge = pending ? await services.store.challenges.find(pending.challengeId) : undefined;
    if (!pending || !challenge) return redirect(reply, `/interaction/${details.uid}`);
    try {
      const channel = await sendCodeThrough(
        services,
        challenge,
        field(form, 'channel'),
        () => replaceChallengeCode(services, challenge),
        request.ctx,
      );
      // The newest code is the only one that works: its channel says how the user will have signed in (amr).
      await kv.set(pendingKey(details.uid), JSON.stringify({ ...pending, channel: channel.type }), pendingTtlMs);
      return showCode(request, reply, details, {
        sentTo: channel,
        matchNumber: await matchNumberFor(services, challenge.id),
        approvalStatus: `/interaction/${details.uid}/verify/approval`,
      });
    } catch (error) {
      return showCode(request, reply, details, { error: sendFailure(reply, error) });
    }
  });

  app.get('/interaction/:uid/verify/approval', hidden, async (request, reply) => {
    const details = await interaction(request, reply);
    return approvalReply(services, reply, (await readPending(details.uid))?.challengeId);
  });

  app.post('/interaction/:uid/verify', hidden, async (request, reply) => {
    const form = readForm(request);
    const details = await interaction(request, reply);
    const pending = await readPending(details.uid);
    if (!pending) return redirect(reply, `/interaction/${details.uid}`);
    let result: Awaited<ReturnType<typeof completeSignIn>>;
    try {
      result = await completeSignIn(
        services,
        pending.challengeId,
        {
          answer: formAnswer(form),
          trustBrowser: field(form, 'trustBrowser') === 'yes',
          knownBrowser: knownBrowserMarker(request, config),
        },
        request.ctx,
      );
    } catch (error) {
      return showCode(request, reply, details, { error: sendFailure(reply, error) });
    }
    await kv.delete(pendingKey(details.uid));
    setSessionCookie(reply, config, result.token);
    setKnownBrowserCookie(reply, config, result.knownBrowser);
    if (result.trustedBrowser) {
      reply.setCookie(
        cookieNames(config).trustedBrowser,
        result.trustedBrowser,
        cookieOptions(config, { maxAgeSeconds: config.policy.trustedBrowserDays * 86_400 }),
      );
    }
    // An authenticator app's code needs no send, and wins over a code sent before it that was never typed.
    // A code typed from an app, or a security key, answered it: not whatever a code was last sent to.
    const channel =
      result.answeredBy === 'totp' || result.answeredBy === 'webauthn' ? result.answeredBy : pending.channel;
    return finish(request, reply, loginResult(result.account.id, codeAssurance(channel)));
  });

  app.post('/interaction/:uid/consent', hidden, async (request, reply) => {
    readForm(request);
    const details = await interaction(request, reply);
    if (details.prompt.name !== 'consent') return redirect(reply, `/interaction/${details.uid}`);
    const accountId = details.session?.accountId;
    const clientId = param(details, 'client_id');
    if (!accountId || !clientId) throw new AppError('SERVICE_SIGNIN_EXPIRED');
    const { Grant } = runtime.provider;
    const grant =
      (details.grantId ? await Grant.find(details.grantId) : undefined) ?? new Grant({ accountId, clientId });
    const missingScopes = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    const missingClaims = (details.prompt.details.missingOIDCClaims as string[] | undefined) ?? [];
    if (missingScopes.length > 0) grant.addOIDCScope(missingScopes.join(' '));
    if (missingClaims.length > 0) grant.addOIDCClaims(missingClaims);
    const grantId = await grant.save();
    await services.store.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'service.authorized',
      at: services.clock.now(),
      ip: request.ctx.ip,
      userAgent: request.ctx.userAgent,
      details: { service: clientId, scopes: missingScopes },
    });
    return finish(request, reply, { consent: { grantId } });
  });

  app.post('/interaction/:uid/abort', hidden, async (request, reply) => {
    readForm(request);
    const details = await interaction(request, reply);
    await kv.delete(pendingKey(details.uid));
    return finish(request, reply, { error: 'access_denied', error_description: 'the user declined' });
  });
}
