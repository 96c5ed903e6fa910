// The portal's code step (SPEC §3.2) and step-up (SPEC §3.3): choose where the code goes, type it.
// At sign-in the pending challenge lives in an HttpOnly cookie, so it is bound to this browser and
// never appears in a URL or a log line.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { answerChallenge, type ChallengeAnswer, replaceChallengeCode } from '../../flows/challenges.ts';
import { type Channel, listChannels, sendCodeThrough } from '../../flows/channels/index.ts';
import type { Services } from '../../flows/context.ts';
import { deviceApproval, isApproved } from '../../flows/device-approval.ts';
import { matchNumberFor } from '../../flows/number-matching.ts';
import { securityKeyOptionsIfAny, securityKeyProof } from '../../flows/security-key-proof.ts';
import { completeSignIn } from '../../flows/sign-in.ts';
import { startStepUp } from '../../flows/step-up.ts';
import type { Challenge } from '../../store/challenges.ts';
import { cookieNames, cookieOptions } from '../cookies.ts';
import { knownBrowserMarker, setKnownBrowserCookie } from '../known-browser-cookie.ts';
import { requireAuth } from '../request-context.ts';
import { setSessionCookie } from '../session-cookie.ts';
import { field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, type LayoutOptions, layout, noticeBox, pageView } from './layout.ts';
import { localReturnPath } from './return-path.ts';
import { postedCredential, securityKeyForm, WEBAUTHN_SCRIPTS } from './security-key-form.ts';

const hidden = { schema: { hide: true } };
export const PENDING_COOKIE = 'twostep_pending';

/** Only a local path: the return address must not become an open redirect. */
function safeReturn(value: unknown): string {
  return localReturnPath(value) ?? '/account';
}

export interface CodePage {
  title: string;
  action: string;
  channels: Channel[];
  sentTo?: Channel | undefined;
  /** With number matching: the number to pick on the device. */
  matchNumber?: number | undefined;
  /** WebAuthn options for this challenge when the account has security keys (security-key-form.ts). */
  securityKeyOptions?: object | undefined;
  /**
   * With number matching where the device may approve: the same-origin address that says whether it
   * did (`{approved}`), which public/approval.js polls before it sends the approval form.
   */
  approvalStatus?: string | undefined;
  error?: AppError | undefined;
  offerTrust: boolean;
  /** A way out below the form, e.g. the recovery key instead of a code. */
  footer?: Html;
  returnTo?: string;
}

export function codePage(request: FastifyRequest, reply: FastifyReply, page: CodePage): string {
  const view = pageView(request, reply);
  const { text } = view;
  const errorText = page.error
    ? text(`error.${page.error.code}`, {
        seconds: page.error.retryAfterSeconds ?? 0,
        days: request.server.services.config.policy.waitingPeriodDays,
      })
    : undefined;
  const returnField = page.returnTo ? html`<input type="hidden" name="return" value="${page.returnTo}">` : '';
  // An authenticator app needs no send: it has the code already (challenges.ts accepts it). Nor does
  // a security key, which answers in its own form.
  const sendable = page.channels.filter((channel) => channel.type === 'device' || channel.type === 'sms');
  const hasApp = page.channels.some((channel) => channel.type === 'totp');
  const keyForm = page.securityKeyOptions
    ? securityKeyForm(view, {
        action: page.action,
        ceremony: 'get',
        options: page.securityKeyOptions,
        label: text('twoStep.useSecurityKey'),
        hidden: returnField,
      })
    : '';
  return layout(
    request,
    view,
    page.title,
    html`
<section class="card">
  <h1>${page.title}</h1>
  ${alertBox(errorText)}
  ${page.sentTo ? noticeBox(text('twoStep.codeSent', { where: page.sentTo.label })) : ''}
  ${page.matchNumber ? html`<p class="match-number">${text('twoStep.pickNumber')} <strong>${String(page.matchNumber)}</strong></p>` : ''}
  ${
    page.channels.length === 0
      ? html`<p>${text('twoStep.noChannels')}</p>`
      : sendable.length === 0
        ? ''
        : html`
  <p>${text('twoStep.chooseChannel')}</p>
  <ul class="channels">
    ${sendable.map(
      (channel) => html`<li>
      <form method="post" action="${page.action}/send">${view.csrf}${returnField}
        <input type="hidden" name="channel" value="${channel.id}">
        <button type="submit" class="secondary">${text(channel.type === 'device' ? 'twoStep.sendToDevices' : 'twoStep.sendBySms', { where: channel.label })}</button>
      </form></li>`,
    )}
  </ul>`
  }
  ${keyForm}
  ${hasApp ? html`<p>${text(sendable.length === 0 ? 'twoStep.authenticatorOnly' : 'twoStep.orAuthenticator')}</p>` : ''}
  ${sendable.length === 0 && !hasApp && page.securityKeyOptions ? html`<p>${text('twoStep.securityKeyOnly')}</p>` : ''}
  <form method="post" action="${page.action}"${sendable.length === 0 && !hasApp && page.channels.length > 0 ? html` hidden` : ''}>
    ${view.csrf}${returnField}
    <label for="code">${text('field.code')}</label>
    <input id="code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12">
    ${page.offerTrust ? html`<p class="checkbox"><input id="trust" name="trustBrowser" type="checkbox" value="yes"><label for="trust">${text('twoStep.trustBrowser')}</label></p>` : ''}
    <button type="submit">${text('twoStep.verify')}</button>
  </form>
  ${
    page.matchNumber && page.approvalStatus
      ? html`
  <form method="post" action="${page.action}" class="approval" data-approval-status="${page.approvalStatus}">
    ${view.csrf}${returnField}
    <input type="hidden" name="approved" value="yes">
    <p>${text('twoStep.orApprove')}</p>
    <button type="submit" class="secondary">${text('twoStep.approvedContinue')}</button>
  </form>`
      : ''
  }
  ${page.footer ?? ''}
</section>`,
    scriptsFor(page),
  );
}

/** The answer a code step's form carries: the approval form's `approved`, or the typed code. */
/** What a code-step form answered: a device's approval, a security key's assertion, or the typed code. */
export function formAnswer(form: Record<string, unknown>): ChallengeAnswer {
  if (field(form, 'approved') === 'yes') return deviceApproval;
  if (field(form, 'credential')) return securityKeyProof(postedCredential(form) ?? null);
  return field(form, 'code');
}

/** The scripts a code page needs: the WebAuthn ceremony for a security key, the approval poll. */
function scriptsFor(page: CodePage): LayoutOptions {
  const scripts = [
    ...(page.securityKeyOptions ? WEBAUTHN_SCRIPTS : []),
    ...(page.matchNumber && page.approvalStatus ? ['approval.js'] : []),
  ];
  return scripts.length > 0 ? { scripts } : {};
}

/** What a waiting page's script polls: whether the device approved the challenge, never cached. */
export async function approvalReply(services: Services, reply: FastifyReply, challengeId: string | undefined) {
  return reply
    .header('cache-control', 'no-store')
    .send({ approved: challengeId ? await isApproved(services, challengeId) : false });
}

export function sendFailure(reply: FastifyReply, error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.status >= 500) throw error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.status(error.status);
  return error;
}

export function registerTwoStepPages(app: FastifyInstance, services: Services): void {
  const names = cookieNames(services.config);
  const pendingOptions = {
    ...cookieOptions(services.config, { maxAgeSeconds: services.config.policy.codeLifetimeMinutes * 60 }),
  };

  async function pendingSignIn(request: FastifyRequest) {
    const id = request.cookies[PENDING_COOKIE];
    const challenge = id ? await services.store.challenges.find(id) : undefined;
    return challenge?.purpose === 'sign_in' && !challenge.completedAt && !challenge.cancelledAt ? challenge : undefined;
  }

  async function renderSignIn(request: FastifyRequest, reply: FastifyReply, extra: Partial<CodePage> = {}) {
    const challenge = await pendingSignIn(request);
    if (!challenge) return redirect(reply, '/signin');
    const channels = await listChannels(services, challenge.accountId);
    const securityKeyOptions = await securityKeyOptionsIfAny(services, challenge, channels);
    const title = pageView(request, reply).text('twoStep.signInTitle');
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        codePage(request, reply, {
          title,
          action: '/signin/verify',
          channels,
          offerTrust: true,
          securityKeyOptions,
          footer: html`<p><a href="/signin/recovery-key">${pageView(request, reply).text('signin.useKey')}</a></p>`,
          ...extra,
        }),
      );
  }

  /** Called by the sign-in form when the password was right and a code is needed. */
  app.decorate('startPortalSignInStep', (reply: FastifyReply, challengeId: string) => {
    reply.setCookie(PENDING_COOKIE, challengeId, pendingOptions);
    return redirect(reply, '/signin/verify');
  });

  app.get('/signin/verify', hidden, (request, reply) => renderSignIn(request, reply));

  app.post('/signin/verify/send', hidden, async (request, reply) => {
    const form = readForm(request);
    const challenge = await pendingSignIn(request);
    if (!challenge) return redirect(reply, '/signin');
    try {
      const channel = await sendCodeThrough(
        services,
        challenge,
        field(form, 'channel'),
        () => replaceChallengeCode(services, challenge),
        request.ctx,
      );
      return renderSignIn(request, reply, {
        sentTo: channel,
        matchNumber: await matchNumberFor(services, challenge.id),
        approvalStatus: '/signin/verify/approval',
      });
    } catch (error) {
      return renderSignIn(request, reply, { error: sendFailure(reply, error) });
    }
  });

  // The pending challenge's id lives in the HttpOnly cookie, so the page's script asks here.
  app.get('/signin/verify/approval', hidden, async (request, reply) =>
    approvalReply(services, reply, (await pendingSignIn(request))?.id),
  );

  app.post('/signin/verify', hidden, async (request, reply) => {
    const form = readForm(request);
    const challenge = await pendingSignIn(request);
    if (!challenge) return redirect(reply, '/signin');
    try {
      const result = await completeSignIn(
        services,
        challenge,
        {
          answer: formAnswer(form),
          trustBrowser: field(form, 'trustBrowser') === 'yes',
          knownBrowser: knownBrowserMarker(request, services.config),
        },
        request.ctx,
      );
      reply.clearCookie(PENDING_COOKIE, cookieOptions(services.config));
      setSessionCookie(reply, services.config, result.token);
      setKnownBrowserCookie(reply, services.config, result.knownBrowser);
      if (result.trustedBrowser) {
        reply.setCookie(
          names.trustedBrowser,
          result.trustedBrowser,
          cookieOptions(services.config, { maxAgeSeconds: services.config.policy.trustedBrowserDays * 86_400 }),
        );
      }
      return redirect(reply, '/account');
    } catch (error) {
      return renderSignIn(request, reply, { error: sendFailure(reply, error) });
    }
  });

  // Step-up: a protected change sent the user here with ?return=<where they were>.
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    const renderStepUp = async (
      request: FastifyRequest,
      reply: FastifyReply,
      returnTo: string,
      extra: Partial<CodePage> = {},
    ) => {
      const auth = requireAuth(request);
      const channels = await listChannels(services, auth.account.id);
      const securityKeyOptions = channels.some((c) => c.type === 'webauthn')
        ? await securityKeyOptionsIfAny(services, await stepUpChallenge(request, reply), channels)
        : undefined;
      const title = pageView(request, reply).text('twoStep.stepUpTitle');
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          codePage(request, reply, {
            title,
            action: '/account/verify',
            channels,
            offerTrust: false,
            returnTo,
            securityKeyOptions,
            ...extra,
          }),
        );
    };

    const pendingStepUp = async (request: FastifyRequest) => {
      const auth = requireAuth(request);
      const challenge = await services.store.challenges.find(request.cookies[PENDING_COOKIE] ?? '');
      return challenge?.purpose === 'step_up' && challenge.subject === auth.session.id ? challenge : undefined;
    };

    /** This session's open step-up challenge (a security key answers it without a send), or a new one. */
    const stepUpChallenge = async (request: FastifyRequest, reply: FastifyReply): Promise<Challenge> => {
      const pending = await pendingStepUp(request);
      if (pending && !pending.completedAt && !pending.cancelledAt && pending.expiresAt > services.clock.now())
        return pending;
      const auth = requireAuth(request);
      const started = await startStepUp(services, auth, request.ctx);
      reply.setCookie(PENDING_COOKIE, started.id, pendingOptions);
      const stored = await services.store.challenges.find(started.id);
      if (!stored) throw new AppError('NOT_FOUND');
      return stored;
    };

    scope.get('/account/verify', hidden, (request, reply) =>
      renderStepUp(request, reply, safeReturn((request.query as Record<string, unknown>).return)),
    );

    scope.post('/account/verify/send', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const returnTo = safeReturn(field(form, 'return'));
      try {
        const challenge = await startStepUp(services, auth, request.ctx);
        reply.setCookie(PENDING_COOKIE, challenge.id, pendingOptions);
        const stored = await services.store.challenges.find(challenge.id);
        if (!stored) throw new AppError('NOT_FOUND');
        const channel = await sendCodeThrough(
          services,
          stored,
          field(form, 'channel'),
          () => replaceChallengeCode(services, stored),
          request.ctx,
        );
        return renderStepUp(request, reply, returnTo, {
          sentTo: channel,
          matchNumber: await matchNumberFor(services, stored.id),
          approvalStatus: '/account/verify/approval',
        });
      } catch (error) {
        return renderStepUp(request, reply, returnTo, { error: sendFailure(reply, error) });
      }
    });

    /** This session's step-up, named by the pending cookie. */
    scope.get('/account/verify/approval', hidden, async (request, reply) =>
      approvalReply(services, reply, (await pendingStepUp(request))?.id),
    );

    scope.post('/account/verify', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const returnTo = safeReturn(field(form, 'return'));
      const challenge = await pendingStepUp(request);
      try {
        if (!challenge) throw new AppError('CHALLENGE_CLOSED');
        await answerChallenge(services, auth.account.id, challenge.id, formAnswer(form), request.ctx);
        reply.clearCookie(PENDING_COOKIE, cookieOptions(services.config));
        return redirect(reply, returnTo);
      } catch (error) {
        return renderStepUp(request, reply, returnTo, { error: sendFailure(reply, error) });
      }
    });
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    startPortalSignInStep(reply: FastifyReply, challengeId: string): FastifyReply;
  }
}
