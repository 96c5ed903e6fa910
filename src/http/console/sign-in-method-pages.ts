// The member's own sign-in methods in the console: the authenticator app and security keys, the
// second steps of a console sign-in. Adding a key is two pages (its name, then the WebAuthn ceremony,
// run by the portal's public/webauthn.js); removing one never removes the last second step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import {
  finishStaffSecurityKeyRegistration,
  listStaffSecurityKeys,
  removeStaffSecurityKey,
  removeStaffTotp,
  startStaffSecurityKeyRegistration,
} from '../../flows/staff/staff-security-keys.ts';
import { html } from '../pages/html.ts';
import { postedCredential, securityKeyForm, WEBAUTHN_SCRIPTS } from '../pages/security-key-form.ts';
import { consoleAlert, consoleLayout, consoleNotice, consoleTime, consoleView } from './layout.ts';
import { readConsoleForm, requireStaff } from './staff-auth.ts';

export const SIGN_IN_METHODS_PAGE = '/console/sign-in-methods';
const hidden = { schema: { hide: true } };
const DONE = ['added', 'removed', 'totp_removed'] as const;
type Done = (typeof DONE)[number];

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** A failure to show on the page; CSRF, a missing session and unexpected errors go to the console's handler. */
function shown(error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'UNAUTHENTICATED' || error.status >= 500)
    throw error;
  return error;
}

async function listPage(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  state: { done?: Done; error?: AppError } = {},
): Promise<string> {
  const auth = requireStaff(request);
  const keys = await listStaffSecurityKeys(services, auth);
  const totp = auth.member.totp_confirmed_at !== null;
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    text('console.methods.title'),
    html`<section class="card">
  <h1>${text('console.methods.title')}</h1>
  <p>${text('console.methods.intro')}</p>
  ${consoleNotice(state.done ? text(`console.methods.done.${state.done}`) : undefined)}
  ${consoleAlert(state.error ? text(`error.${state.error.code}`, { seconds: state.error.retryAfterSeconds ?? 0 }) : undefined)}
  <h2>${text('console.methods.totp')}</h2>
  <p data-totp="${totp ? 'on' : 'off'}">${text(totp ? 'console.methods.totpOn' : 'console.methods.totpOff')}</p>
  ${
    totp && keys.length > 0
      ? html`<form method="post" action="${SIGN_IN_METHODS_PAGE}/totp/remove">${view.csrf}<button type="submit" class="secondary">${text('console.methods.removeTotp')}</button></form>`
      : ''
  }
  <h2>${text('console.methods.keys')}</h2>
  ${
    keys.length === 0
      ? html`<p>${text('console.methods.noKeys')}</p>`
      : html`<table class="activity">
    <thead><tr><th scope="col">${text('securityKeys.name')}</th><th scope="col">${text('console.methods.added')}</th><th scope="col">${text('console.methods.lastUsed')}</th><th scope="col">${text('console.remove')}</th></tr></thead>
    <tbody>${keys.map(
      (
        key,
      ) => html`<tr data-key="${key.id}"><td>${key.name}</td><td>${consoleTime(key.createdAt)}</td><td>${key.lastUsedAt ? consoleTime(key.lastUsedAt) : text('console.methods.neverUsed')}</td>
      <td><form method="post" action="${SIGN_IN_METHODS_PAGE}/keys/${key.id}/remove" class="inline">${view.csrf}<button type="submit" class="secondary" aria-label="${text('console.remove')}: ${key.name}">${text('console.remove')}</button></form></td></tr>`,
    )}</tbody>
  </table>`
  }
  <form method="post" action="${SIGN_IN_METHODS_PAGE}/keys/new">
    ${view.csrf}
    <label for="key-name">${text('console.methods.name')}</label>
    <input id="key-name" name="name" maxlength="64" required autocomplete="off">
    <button type="submit">${text('console.methods.add')}</button>
  </form>
</section>`,
  );
}

function ceremonyPage(request: FastifyRequest, reply: FastifyReply, name: string, options: object): string {
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    text('console.methods.add'),
    html`<section class="card">
  <h1>${text('console.methods.add')}</h1>
  <p>${text('console.methods.addIntro')}</p>
  <p><strong>${name}</strong></p>
  ${securityKeyForm(view, {
    action: `${SIGN_IN_METHODS_PAGE}/keys`,
    ceremony: 'create',
    options,
    label: text('console.methods.add'),
    hidden: html`<input type="hidden" name="name" value="${name}">`,
  })}
  <p><a href="${SIGN_IN_METHODS_PAGE}">${text('console.methods.title')}</a></p>
</section>`,
    { scripts: WEBAUTHN_SCRIPTS },
  );
}

export function registerSignInMethodPages(app: FastifyInstance, services: Services): void {
  const page = (reply: FastifyReply, body: string): FastifyReply => reply.type('text/html; charset=utf-8').send(body);
  const done = (reply: FastifyReply, what: Done): FastifyReply =>
    reply.redirect(`${SIGN_IN_METHODS_PAGE}?done=${what}`, 303);
  const failed = async (request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> => {
    const failure = shown(error);
    return page(reply.status(failure.status), await listPage(request, reply, services, { error: failure }));
  };

  app.get(SIGN_IN_METHODS_PAGE, hidden, async (request, reply) => {
    const query = (request.query as { done?: unknown } | undefined)?.done;
    const state = DONE.find((d) => d === query);
    return page(reply, await listPage(request, reply, services, state ? { done: state } : {}));
  });

  app.post(`${SIGN_IN_METHODS_PAGE}/keys/new`, hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    try {
      const started = await startStaffSecurityKeyRegistration(services, requireStaff(request), field(form, 'name'));
      return page(reply, ceremonyPage(request, reply, started.name, started.options));
    } catch (error) {
      return failed(request, reply, error);
    }
  });

  app.post(`${SIGN_IN_METHODS_PAGE}/keys`, hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    try {
      await finishStaffSecurityKeyRegistration(
        services,
        requireStaff(request),
        { name: field(form, 'name'), response: postedCredential(form) },
        request.ctx,
      );
      return done(reply, 'added');
    } catch (error) {
      return failed(request, reply, error);
    }
  });

  app.post<{ Params: { id: string } }>(`${SIGN_IN_METHODS_PAGE}/keys/:id/remove`, hidden, async (request, reply) => {
    readConsoleForm(request);
    try {
      await removeStaffSecurityKey(services, requireStaff(request), request.params.id, request.ctx);
      return done(reply, 'removed');
    } catch (error) {
      return failed(request, reply, error);
    }
  });

  app.post(`${SIGN_IN_METHODS_PAGE}/totp/remove`, hidden, async (request, reply) => {
    readConsoleForm(request);
    try {
      await removeStaffTotp(services, requireStaff(request), request.ctx);
      return done(reply, 'totp_removed');
    } catch (error) {
      return failed(request, reply, error);
    }
  });
}
