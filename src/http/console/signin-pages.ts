// Staff sign-in pages: password, then the authenticator code or a security key (or, for a member with
// neither, the authenticator setup). No console session exists until both steps passed (SPEC §3.15: staff must use 2SV).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { endStaffSession } from '../../flows/staff/staff-sessions.ts';
import {
  confirmStaffTotpSetup,
  pendingSecondSteps,
  pendingStep,
  staffCodeStep,
  staffPasswordStep,
  staffSecurityKeyStep,
  staffTotpSetup,
} from '../../flows/staff/staff-sign-in.ts';
import { t } from '../../text/index.ts';
import { html } from '../pages/html.ts';
import { postedCredential, securityKeyForm, WEBAUTHN_SCRIPTS } from '../pages/security-key-form.ts';
import { consoleAlert, consoleLayout, consoleView } from './layout.ts';
import {
  clearConsoleSession,
  clearPendingSignIn,
  consoleCookieNames,
  readConsoleForm,
  setConsoleSession,
  setPendingSignIn,
} from './staff-auth.ts';

const hidden = { schema: { hide: true } };

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

function errorText(request: FastifyRequest, error: AppError | undefined): string | undefined {
  return error ? t(request.ctx.locale, `error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined;
}

function passwordPage(request: FastifyRequest, reply: FastifyReply, email: string, error?: AppError): string {
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    text('console.signin.title'),
    html`<section class="card">
  <h1>${text('console.signin.title')}</h1>
  <p>${text('console.signin.intro')}</p>
  ${consoleAlert(errorText(request, error))}
  <form method="post" action="/console/signin">
    ${view.csrf}
    <label for="email">${text('field.email')}</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${email}">
    <label for="password">${text('field.password')}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">${text('console.signin.next')}</button>
  </form>
</section>`,
  );
}

interface SecondSteps {
  totp: boolean;
  securityKeyOptions: object | undefined;
}

/** The second step: the code field when the member has an authenticator app, a key button when they have keys. */
function codePage(request: FastifyRequest, reply: FastifyReply, steps: SecondSteps, error?: AppError): string {
  const view = consoleView(request, reply);
  const { text } = view;
  const title = text(steps.totp ? 'console.code.title' : 'console.code.keyTitle');
  const keyForm = steps.securityKeyOptions
    ? html`<p>${text(steps.totp ? 'console.code.orKey' : 'console.code.keyIntro')}</p>
  ${securityKeyForm(view, {
    action: '/console/signin/key',
    ceremony: 'get',
    options: steps.securityKeyOptions,
    label: text('console.code.useKey'),
  })}`
    : '';
  return consoleLayout(
    request,
    view,
    title,
    html`<section class="card">
  <h1>${title}</h1>
  ${consoleAlert(errorText(request, error))}
  ${
    steps.totp
      ? html`<p>${text('console.code.intro')}</p>
  <form method="post" action="/console/signin/code">
    ${view.csrf}
    <label for="code">${text('console.code.label')}</label>
    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required>
    <button type="submit">${text('console.signin.submit')}</button>
  </form>`
      : ''
  }
  ${keyForm}
</section>`,
    steps.securityKeyOptions ? { scripts: WEBAUTHN_SCRIPTS } : {},
  );
}

function setupPage(
  request: FastifyRequest,
  reply: FastifyReply,
  setup: { secret: string; uri: string },
  error?: AppError,
): string {
  const view = consoleView(request, reply);
  const { text } = view;
  const grouped = setup.secret.replace(/(.{4})/g, '$1 ').trim();
  return consoleLayout(
    request,
    view,
    text('console.setup.title'),
    html`<section class="card">
  <h1>${text('console.setup.title')}</h1>
  <p>${text('console.setup.intro')}</p>
  <p>${text('console.setup.secret')}</p>
  <p class="recovery-key"><code data-secret>${grouped}</code></p>
  <p class="muted">${text('console.setup.uri')} <a href="${setup.uri}">${setup.uri}</a></p>
  ${consoleAlert(errorText(request, error))}
  <form method="post" action="/console/signin/setup">
    ${view.csrf}
    <label for="code">${text('console.code.label')}</label>
    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required>
    <button type="submit">${text('console.setup.submit')}</button>
  </form>
</section>`,
  );
}

/** Runs a step; a user-facing failure re-renders its page (with the right status) instead of the error page. */
async function orRerender(
  reply: FastifyReply,
  action: () => Promise<void>,
  rerender: (error: AppError) => Promise<string> | string,
): Promise<FastifyReply | undefined> {
  try {
    await action();
    return undefined;
  } catch (error) {
    if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'UNAUTHENTICATED' || error.status >= 500)
      throw error;
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply
      .status(error.status)
      .type('text/html; charset=utf-8')
      .send(await rerender(error));
  }
}

export function registerConsoleSignInPages(app: FastifyInstance, services: Services): void {
  const { config } = services;
  const pending = (request: FastifyRequest): string | undefined => request.cookies[consoleCookieNames(config).pending];
  const page = (reply: FastifyReply, body: string): FastifyReply => reply.type('text/html; charset=utf-8').send(body);

  app.get('/console', hidden, async (request, reply) =>
    reply.redirect(request.staff ? '/console/accounts' : '/console/signin', 303),
  );

  app.get('/console/signin', hidden, async (request, reply) => {
    if (request.staff) return reply.redirect('/console/accounts', 303);
    return page(reply, passwordPage(request, reply, ''));
  });

  app.post('/console/signin', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    let next = '';
    const failed = await orRerender(
      reply,
      async () => {
        const result = await staffPasswordStep(
          services,
          { email: field(form, 'email'), password: field(form, 'password') },
          request.ctx,
        );
        setPendingSignIn(reply, config, result.pendingToken);
        next = result.next;
      },
      (error) => passwordPage(request, reply, field(form, 'email').slice(0, 320), error),
    );
    if (failed) return failed;
    return reply.redirect(next === 'setup' ? '/console/signin/setup' : '/console/signin/code', 303);
  });

  app.get('/console/signin/code', hidden, async (request, reply) => {
    if ((await pendingStep(services, pending(request))) === 'setup')
      return reply.redirect('/console/signin/setup', 303);
    return page(reply, codePage(request, reply, await pendingSecondSteps(services, pending(request))));
  });

  app.post('/console/signin/code', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    let token = '';
    const failed = await orRerender(
      reply,
      async () => {
        token = await staffCodeStep(services, pending(request), field(form, 'code'), request.ctx);
      },
      async (error) => codePage(request, reply, await pendingSecondSteps(services, pending(request)), error),
    );
    if (failed) return failed;
    clearPendingSignIn(reply, config);
    setConsoleSession(reply, config, token);
    return reply.redirect('/console/accounts', 303);
  });

  app.post('/console/signin/key', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    let token = '';
    const failed = await orRerender(
      reply,
      async () => {
        token = await staffSecurityKeyStep(services, pending(request), postedCredential(form), request.ctx);
      },
      async (error) => codePage(request, reply, await pendingSecondSteps(services, pending(request)), error),
    );
    if (failed) return failed;
    clearPendingSignIn(reply, config);
    setConsoleSession(reply, config, token);
    return reply.redirect('/console/accounts', 303);
  });

  app.get('/console/signin/setup', hidden, async (request, reply) => {
    if ((await pendingStep(services, pending(request))) === 'code') return reply.redirect('/console/signin/code', 303);
    return page(reply, setupPage(request, reply, await staffTotpSetup(services, pending(request))));
  });

  app.post('/console/signin/setup', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    let token = '';
    const failed = await orRerender(
      reply,
      async () => {
        token = await confirmStaffTotpSetup(services, pending(request), field(form, 'code'), request.ctx);
      },
      async (error) => setupPage(request, reply, await staffTotpSetup(services, pending(request)), error),
    );
    if (failed) return failed;
    clearPendingSignIn(reply, config);
    setConsoleSession(reply, config, token);
    return reply.redirect('/console/accounts', 303);
  });

  app.post('/console/signout', hidden, async (request, reply) => {
    readConsoleForm(request);
    if (request.staff) await endStaffSession(services, request.staff, request.ctx);
    clearConsoleSession(reply, config);
    return reply.redirect('/console/signin', 303);
  });
}
