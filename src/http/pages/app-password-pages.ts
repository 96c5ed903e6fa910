// The portal's app-specific passwords (SPEC §3.13), linked from Password & Security: the live ones
// with their last use, a form to generate one (shown once, in the answer to that form: never in a
// URL, a redirect or a later page), revoke one, revoke all. Every change is a protected change: a
// stale verification goes through the step-up page and comes back here (the hidden `return` field).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LABEL_MAX_LENGTH } from '../../core/app-password.ts';
import { type AppError, isAppError } from '../../core/errors.ts';
import {
  type AppPasswordView,
  createAppPassword,
  listAppPasswords,
  revokeAllAppPasswords,
  revokeAppPassword,
} from '../../flows/app-passwords.ts';
import type { Services } from '../../flows/context.ts';
import type { TextId } from '../../text/index.ts';
import { requireAuth } from '../request-context.ts';
import { type FormBody, field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, layout, noticeBox, type PageView, pageView } from './layout.ts';
import { sendHtml } from './page-replies.ts';

const hidden = { schema: { hide: true } };
export const APP_PASSWORDS_PAGE = '/account/app-passwords';
const NOTICES: Record<string, TextId> = {
  revoked: 'appPasswords.revokedNotice',
  'revoked-all': 'appPasswords.revokedAllNotice',
};

function formatTime(locale: string, date: Date): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

const returnHere = html`<input type="hidden" name="return" value="${APP_PASSWORDS_PAGE}">`;

function passwordList(view: PageView, passwords: AppPasswordView[], max: number): Html {
  const { text } = view;
  if (passwords.length === 0) return html`<p>${text('appPasswords.none')}</p>`;
  return html`<h2>${text('appPasswords.active', { count: passwords.length, max })}</h2>
  <ul class="devices app-passwords">${passwords.map(
    (p) => html`<li>
      <span class="device-facts">
        <strong>${p.label}</strong>
        <span class="muted">${text('appPasswords.created', { when: formatTime(view.locale, p.createdAt) })} · ${
          p.lastUsedAt
            ? text('appPasswords.lastUsed', { when: formatTime(view.locale, p.lastUsedAt), ip: p.lastUsedIp ?? '—' })
            : text('appPasswords.neverUsed')
        }</span>
      </span>
      <span class="actions">
        <form method="post" action="${APP_PASSWORDS_PAGE}/${p.id}/revoke" class="inline">${view.csrf}${returnHere}<button type="submit" class="secondary" aria-label="${text('appPasswords.revoke')}: ${p.label}">${text('appPasswords.revoke')}</button></form>
      </span>
    </li>`,
  )}</ul>
  <form method="post" action="${APP_PASSWORDS_PAGE}/revoke-all">${view.csrf}${returnHere}<button type="submit" class="danger">${text('appPasswords.revokeAll')}</button></form>`;
}

async function listPage(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  options: { values?: FormBody; error?: AppError } = {},
): Promise<string> {
  const view = pageView(request, reply);
  const { text } = view;
  const { account } = requireAuth(request);
  const notice = NOTICES[String((request.query as Record<string, unknown>).saved ?? '')];
  const error = options.error
    ? text(`error.${options.error.code}`, { seconds: options.error.retryAfterSeconds ?? 0 })
    : undefined;
  const body = account.two_step_enabled_at
    ? html`${passwordList(view, await listAppPasswords(services, account.id), services.config.policy.appPasswordsMax)}
  <h2 id="new">${text('appPasswords.new')}</h2>
  ${alertBox(error)}
  <form method="post" action="${APP_PASSWORDS_PAGE}">
    ${view.csrf}${returnHere}
    <label for="label">${text('appPasswords.label')}</label>
    <input id="label" name="label" required maxlength="${LABEL_MAX_LENGTH}" autocomplete="off" aria-describedby="label-hint" value="${field(options.values ?? {}, 'label')}">
    <p id="label-hint" class="hint">${text('appPasswords.labelHint', { max: LABEL_MAX_LENGTH })}</p>
    <button type="submit">${text('appPasswords.generate')}</button>
  </form>`
    : html`${alertBox(error)}<p>${text('appPasswords.needTwoStep')}</p>
  <p><a class="button" href="/account/two-step">${text('account.twoStep.getStarted')}</a></p>`;
  return layout(
    request,
    view,
    text('appPasswords.title'),
    html`
<h1>${text('appPasswords.title')}</h1>
${noticeBox(notice ? text(notice) : undefined)}
<section class="card">
  <p>${text('appPasswords.intro')}</p>
  ${body}
  <p><a href="/account#security">${text('deviceVerify.back')}</a></p>
</section>`,
  );
}

/** The new password, this once. */
function shownOncePage(request: FastifyRequest, reply: FastifyReply, label: string, password: string): string {
  const view = pageView(request, reply);
  const { text } = view;
  return layout(
    request,
    view,
    text('appPasswords.shown.title'),
    html`
<section class="card">
  <h1>${text('appPasswords.shown.title')}</h1>
  <p class="recovery-key"><span class="key-text" data-app-password>${password}</span></p>
  <p>${text('appPasswords.shown.body', { label })}</p>
  <p><a class="button" href="${APP_PASSWORDS_PAGE}">${text('appPasswords.shown.done')}</a></p>
</section>`,
  );
}

export function registerAppPasswordPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    scope.get(APP_PASSWORDS_PAGE, hidden, async (request, reply) =>
      sendHtml(reply, await listPage(request, reply, services)),
    );

    scope.post(APP_PASSWORDS_PAGE, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        const created = await createAppPassword(services, auth, field(form, 'label'), request.ctx);
        return sendHtml(reply, shownOncePage(request, reply, created.appPassword.label, created.password));
      } catch (error) {
        // A stale verification goes through the global handler to the step-up page, which comes back here.
        if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED') throw error;
        if (error.status >= 500) throw error;
        return sendHtml(reply.status(error.status), await listPage(request, reply, services, { values: form, error }));
      }
    });

    scope.post(`${APP_PASSWORDS_PAGE}/:id/revoke`, hidden, async (request, reply) => {
      readForm(request);
      const id = String((request.params as Record<string, unknown>).id ?? '');
      await revokeAppPassword(services, requireAuth(request), id, request.ctx);
      return redirect(reply, `${APP_PASSWORDS_PAGE}?saved=revoked`);
    });

    scope.post(`${APP_PASSWORDS_PAGE}/revoke-all`, hidden, async (request, reply) => {
      readForm(request);
      await revokeAllAppPasswords(services, requireAuth(request), request.ctx);
      return redirect(reply, `${APP_PASSWORDS_PAGE}?saved=revoked-all`);
    });
  });
}
