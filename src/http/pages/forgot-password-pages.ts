// "Forgot password" in the portal (SPEC §3.7): the emailed link for accounts without two-step
// verification; the recovery key, a code and a new password for accounts with it. The recovery in
// progress lives in an HttpOnly cookie, never in a URL; every step is checked by the flow, so a
// crafted URL or a replayed form gets nowhere.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { replaceChallengeCode } from '../../flows/challenges.ts';
import { type Channel, listChannels, sendCodeThrough } from '../../flows/channels/index.ts';
import type { Services } from '../../flows/context.ts';
import { matchNumberFor } from '../../flows/number-matching.ts';
import { checkResetLink, requestPasswordReset, resetWithEmailLink } from '../../flows/recovery/email-link.ts';
import {
  finishKeyRecovery,
  recoveryAwaitsPassword,
  recoveryChallengeId,
  startKeyRecovery,
  verifyRecoveryCode,
} from '../../flows/recovery/key-recovery.ts';
import { securityKeyOptionsIfAny } from '../../flows/security-key-proof.ts';
import { cookieOptions } from '../cookies.ts';
import { field, handleForm, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { pageView } from './layout.ts';
import { cardPage, errorText, newKeyBody, recoveryKeyInput, sendPage } from './recovery-views.ts';
import { strengthMeter } from './strength-meter.ts';
import { type CodePage, codePage, formAnswer, sendFailure } from './two-step-pages.ts';

const hidden = { schema: { hide: true } };
const RECOVERY_COOKIE = 'twostep_recovery';

export function registerForgotPasswordPages(app: FastifyInstance, services: Services): void {
  const { policy } = services.config;
  const recoveryCookie = cookieOptions(services.config, { maxAgeSeconds: policy.recoveryMinutes * 60 });

  // The account's email rides along, hidden, so that password managers file the new password under it.
  function newPasswordForm(
    request: FastifyRequest,
    reply: FastifyReply,
    action: string,
    email: string,
    hiddenToken?: string,
  ) {
    const view = pageView(request, reply);
    return html`<form method="post" action="${action}">
    ${view.csrf}${hiddenToken === undefined ? '' : html`<input type="hidden" name="token" value="${hiddenToken}">`}
    <input type="email" name="username" autocomplete="username" value="${email}" hidden readonly>
    <label for="newPassword">${view.text('field.newPassword')}</label>
    <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" data-strength-meter="newPassword-meter" data-strength-label="newPassword-strength" required minlength="${policy.passwordMinLength}" maxlength="${policy.passwordMaxLength}" aria-describedby="newPassword-hint">
    <p id="newPassword-hint" class="hint">${view.text('hint.password', { min: policy.passwordMinLength })}</p>
    ${strengthMeter(view, 'newPassword')}
    <button type="submit">${view.text('forgot.save')}</button>
  </form>`;
  }

  function emailForm(request: FastifyRequest, reply: FastifyReply, email: string, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.title'),
      intro: view.text('forgot.intro'),
      error: errorText(view, error, services),
      body: html`<form method="post" action="/forgot-password">${view.csrf}
    <label for="email">${view.text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${email}">
    <button type="submit">${view.text('forgot.submit')}</button>
  </form>`,
    });
  }

  app.get('/forgot-password', hidden, (request, reply) => sendPage(reply, emailForm(request, reply, '')));

  app.post('/forgot-password', hidden, async (request, reply) => {
    const form = readForm(request);
    const email = field(form, 'email').trim();
    const failed = await handleForm(
      reply,
      () => requestPasswordReset(services, email, request.ctx),
      (error) => emailForm(request, reply, email, error),
    );
    if (failed) return failed;
    const view = pageView(request, reply);
    return sendPage(
      reply,
      cardPage(request, reply, {
        title: view.text('forgot.sentTitle'),
        intro: view.text('forgot.sent', { email, minutes: policy.passwordResetLinkMinutes }),
        body: html`<p>${view.text('forgot.twoStepHint')}</p>
  <p><a class="button secondary" href="/forgot-password/key">${view.text('forgot.useKey')}</a></p>`,
      }),
    );
  });

  // --- The emailed link (accounts without two-step verification) ---

  function linkPage(request: FastifyRequest, reply: FastifyReply, token: string, email: string, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.newPasswordTitle'),
      intro: view.text('forgot.newPasswordIntro'),
      error: errorText(view, error, services),
      body: newPasswordForm(request, reply, '/reset-password', email, token),
    });
  }

  function linkInvalidPage(request: FastifyRequest, reply: FastifyReply) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.title'),
      error: view.text('forgot.linkInvalid'),
      body: html`<p><a class="button" href="/forgot-password">${view.text('forgot.askAgain')}</a></p>`,
    });
  }

  function donePage(request: FastifyRequest, reply: FastifyReply) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.doneTitle'),
      intro: view.text('forgot.done'),
      body: html`<p><a class="button" href="/signin">${view.text('forgot.signIn')}</a></p>`,
    });
  }

  // Opening the link changes nothing (mail scanners follow links); the form does.
  app.get('/reset-password', hidden, async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    reply.header('referrer-policy', 'no-referrer');
    let email: string;
    try {
      email = await checkResetLink(services, token);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return sendPage(reply.status(error.status), linkInvalidPage(request, reply));
    }
    return sendPage(reply, linkPage(request, reply, token, email));
  });

  app.post('/reset-password', hidden, async (request, reply) => {
    const form = readForm(request);
    const token = field(form, 'token');
    reply.header('referrer-policy', 'no-referrer');
    const failed = await handleForm(
      reply,
      () => resetWithEmailLink(services, { token, newPassword: field(form, 'newPassword') }, request.ctx),
      (error) =>
        error.code === 'INVALID_TOKEN'
          ? linkInvalidPage(request, reply)
          : linkPage(request, reply, token, field(form, 'username'), error),
    );
    if (failed) return failed;
    return sendPage(reply, donePage(request, reply));
  });

  // --- The recovery key, a code, a new password (accounts with two-step verification) ---

  function keyPage(request: FastifyRequest, reply: FastifyReply, email: string, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.keyTitle'),
      intro: view.text('forgot.keyIntro'),
      error: errorText(view, error, services),
      body: html`<form method="post" action="/forgot-password/key">${view.csrf}
    <label for="email">${view.text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${email}">
    ${recoveryKeyInput(view)}
    <button type="submit">${view.text('forgot.submit')}</button>
  </form>`,
    });
  }

  app.get('/forgot-password/key', hidden, (request, reply) => sendPage(reply, keyPage(request, reply, '')));

  app.post('/forgot-password/key', hidden, async (request, reply) => {
    const form = readForm(request);
    const email = field(form, 'email').trim();
    let token = '';
    const failed = await handleForm(
      reply,
      async () => {
        token = (await startKeyRecovery(services, { email, recoveryKey: field(form, 'recoveryKey') }, request.ctx))
          .token;
      },
      (error) => keyPage(request, reply, email, error),
    );
    if (failed) return failed;
    reply.setCookie(RECOVERY_COOKIE, token, recoveryCookie);
    return redirect(reply, '/forgot-password/code');
  });

  const recoveryToken = (request: FastifyRequest) => request.cookies[RECOVERY_COOKIE] ?? '';

  async function renderCode(request: FastifyRequest, reply: FastifyReply, extra: Partial<CodePage> = {}) {
    let channels: Channel[];
    let securityKeyOptions: object | undefined;
    try {
      const challengeId = await recoveryChallengeId(services, recoveryToken(request));
      const challenge = await services.store.challenges.find(challengeId);
      channels = challenge ? await listChannels(services, challenge.accountId) : [];
      securityKeyOptions = challenge ? await securityKeyOptionsIfAny(services, challenge, channels) : undefined;
    } catch (error) {
      // Paused recoveries say so, with the wait; any other broken step starts again at the key.
      if (isAppError(error) && error.code === 'RECOVERY_PAUSED') {
        reply.header('retry-after', String(error.retryAfterSeconds ?? 0));
        return sendPage(reply.status(error.status), keyPage(request, reply, '', error));
      }
      return redirect(reply, '/forgot-password/key');
    }
    const title = pageView(request, reply).text('forgot.codeTitle');
    return sendPage(
      reply,
      codePage(request, reply, {
        title,
        action: '/forgot-password/code',
        channels,
        offerTrust: false,
        securityKeyOptions,
        ...extra,
      }),
    );
  }

  app.get('/forgot-password/code', hidden, (request, reply) => renderCode(request, reply));

  app.post('/forgot-password/code/send', hidden, async (request, reply) => {
    const form = readForm(request);
    try {
      const challenge = await services.store.challenges.find(
        await recoveryChallengeId(services, recoveryToken(request)),
      );
      if (!challenge) throw new AppError('RECOVERY_STEP_INVALID');
      const channel = await sendCodeThrough(
        services,
        challenge,
        field(form, 'channel'),
        () => replaceChallengeCode(services, challenge),
        request.ctx,
      );
      return renderCode(request, reply, { sentTo: channel, matchNumber: await matchNumberFor(services, challenge.id) });
    } catch (error) {
      return renderCode(request, reply, { error: sendFailure(reply, error) });
    }
  });

  app.post('/forgot-password/code', hidden, async (request, reply) => {
    const form = readForm(request);
    try {
      await verifyRecoveryCode(services, { token: recoveryToken(request), answer: formAnswer(form) }, request.ctx);
      return redirect(reply, '/forgot-password/new-password');
    } catch (error) {
      return renderCode(request, reply, { error: sendFailure(reply, error) });
    }
  });

  function keyPasswordPage(request: FastifyRequest, reply: FastifyReply, email: string, error?: AppError) {
    const view = pageView(request, reply);
    return cardPage(request, reply, {
      title: view.text('forgot.newPasswordTitle'),
      intro: view.text('forgot.newPasswordIntro'),
      error: errorText(view, error, services),
      body: newPasswordForm(request, reply, '/forgot-password/new-password', email),
    });
  }

  app.get('/forgot-password/new-password', hidden, async (request, reply) => {
    const email = await recoveryAwaitsPassword(services, recoveryToken(request)).catch(() => undefined);
    if (email === undefined) return redirect(reply, '/forgot-password/key');
    return sendPage(reply, keyPasswordPage(request, reply, email));
  });

  app.post('/forgot-password/new-password', hidden, async (request, reply) => {
    const form = readForm(request);
    let newKey = '';
    const failed = await handleForm(
      reply,
      async () => {
        const done = await finishKeyRecovery(
          services,
          { token: recoveryToken(request), newPassword: field(form, 'newPassword') },
          request.ctx,
        );
        newKey = done.recoveryKey;
      },
      (error) => keyPasswordPage(request, reply, field(form, 'username'), error),
    );
    if (failed) return failed;
    reply.clearCookie(RECOVERY_COOKIE, cookieOptions(services.config));
    const view = pageView(request, reply);
    return sendPage(
      reply,
      cardPage(request, reply, {
        title: view.text('forgot.doneTitle'),
        intro: view.text('forgot.done'),
        body: newKeyBody(view, newKey, view.text('forgot.newKey'), {
          href: '/signin',
          label: view.text('forgot.signIn'),
        }),
      }),
    );
  });
}
