// The portal's email change (SPEC §3.3): a page of its own, because the new address and the current
// password are asked for together and, on a two-step account, only after a recent code (the step-up
// comes first and returns here). The link emailed to the new address opens a page with a button:
// following a link (or a mail scanner prefetching it) never changes anything.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { confirmEmailChange, requestEmailChange } from '../../flows/email-change.ts';
import { hasRecentTwoStep } from '../../flows/step-up.ts';
import { requireAuth } from '../request-context.ts';
import { type FormBody, field, handleForm, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { alertBox, layout, pageView } from './layout.ts';
import { errorText, sendHtml } from './page-replies.ts';
import { stepUpUrl } from './return-path.ts';

const hidden = { schema: { hide: true } };
const PAGE = '/account/email';

function changeEmailPage(request: FastifyRequest, reply: FastifyReply, values: FormBody, error?: AppError): string {
  const view = pageView(request, reply);
  const { text } = view;
  const account = requireAuth(request).account;
  return layout(
    request,
    view,
    text('account.changeEmail'),
    html`
<section class="card">
  <h1>${text('account.changeEmail')}</h1>
  <p>${text('account.changeEmail.lead', { email: account.email })}</p>
  ${alertBox(errorText(view, error))}
  <form method="post" action="${PAGE}">
    ${view.csrf}<input type="hidden" name="return" value="${PAGE}">
    <input type="text" autocomplete="username" value="${account.email}" hidden readonly>
    <label for="newEmail">${text('field.newEmail')}</label>
    <input id="newEmail" name="newEmail" type="email" autocomplete="email" required maxlength="254" value="${field(values, 'newEmail')}">
    <label for="currentPassword">${text('field.currentPassword')}</label>
    <input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
    <button type="submit">${text('account.changeEmail.submit')}</button>
  </form>
  <p><a href="/account#profile">${text('deviceVerify.back')}</a></p>
</section>`,
  );
}

function confirmPage(request: FastifyRequest, reply: FastifyReply, token: string, error?: AppError): string {
  const view = pageView(request, reply);
  const { text } = view;
  return layout(
    request,
    view,
    text('emailChange.title'),
    html`
<section class="card">
  <h1>${text('emailChange.title')}</h1>
  ${alertBox(errorText(view, error))}
  <p>${text('emailChange.body')}</p>
  <form method="post" action="/confirm-email-change">
    ${view.csrf}<input type="hidden" name="token" value="${token}">
    <button type="submit">${text('emailChange.submit')}</button>
  </form>
</section>`,
  );
}

function donePage(request: FastifyRequest, reply: FastifyReply, email: string): string {
  const view = pageView(request, reply);
  const { text } = view;
  const next = request.auth ? { href: '/account#profile', label: text('deviceVerify.back') } : undefined;
  return layout(
    request,
    view,
    text('emailChange.done.title'),
    html`
<section class="card">
  <h1>${text('emailChange.done.title')}</h1>
  <p>${text('emailChange.done.body', { email })}</p>
  <p><a class="button" href="${next?.href ?? '/signin'}">${next?.label ?? text('nav.signIn')}</a></p>
</section>`,
  );
}

export function registerEmailChangePages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    scope.get(PAGE, hidden, async (request, reply) => {
      const auth = requireAuth(request);
      // Verify first, then type: the step-up page comes back here.
      if (auth.account.two_step_enabled_at && !hasRecentTwoStep(services, auth))
        return redirect(reply, stepUpUrl(PAGE));
      return sendHtml(reply, changeEmailPage(request, reply, {}));
    });

    scope.post(PAGE, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await requestEmailChange(
          services,
          auth,
          { newEmail: field(form, 'newEmail'), currentPassword: field(form, 'currentPassword') },
          request.ctx,
        );
      } catch (error) {
        // A stale verification goes through the global handler to the step-up page, which comes back here.
        if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED') throw error;
        if (error.status >= 500) throw error;
        if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
        return sendHtml(reply.status(error.status), changeEmailPage(request, reply, form, error));
      }
      return redirect(reply, '/account?saved=email-sent#profile');
    });
  });

  app.get('/confirm-email-change', hidden, async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    // As on /verify-email: the token in the URL is never sent on as a Referer.
    reply.header('referrer-policy', 'no-referrer');
    return sendHtml(reply, confirmPage(request, reply, token));
  });

  app.post('/confirm-email-change', hidden, async (request, reply) => {
    const form = readForm(request);
    let email = '';
    const failed = await handleForm(
      reply,
      async () => {
        email = (await confirmEmailChange(services, field(form, 'token'), request.ctx)).email;
      },
      (error) => confirmPage(request, reply, field(form, 'token'), error),
    );
    if (failed) return failed;
    return sendHtml(reply, donePage(request, reply, email));
  });
}
