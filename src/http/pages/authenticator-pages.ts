// The portal's authenticator apps (TOTP), linked from Password & Security and from the enrolment's
// devices step: the confirmed apps, a form to add one (a QR code and the secret in groups, then the
// first code), remove one. Adding and removing are protected changes on an account with two-step
// verification: a stale verification goes through the step-up page and comes back (the `return` field).
// The QR code is server-rendered SVG in an <img> data URI: no script, no inline style, fine under the CSP.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import {
  type AuthenticatorEnrolment,
  confirmAuthenticator,
  listAuthenticators,
  pendingAuthenticator,
  removeAuthenticator,
  startAuthenticator,
} from '../../flows/authenticators.ts';
import type { Services } from '../../flows/context.ts';
import { requireAuth } from '../request-context.ts';
import { field, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { alertBox, layout, noticeBox, pageView } from './layout.ts';
import { errorText, sendHtml, shownOnPage } from './page-replies.ts';
import { localReturnPath } from './return-path.ts';

const hidden = { schema: { hide: true } };
export const AUTHENTICATORS_PAGE = '/account/authenticators';

/** Where to go when done: back to the enrolment when it sent us, else this page. */
function nextPath(value: unknown): string {
  return localReturnPath(value) ?? AUTHENTICATORS_PAGE;
}

async function listPage(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  error?: AppError,
): Promise<string> {
  const view = pageView(request, reply);
  const { text } = view;
  const { account } = requireAuth(request);
  const query = request.query as Record<string, unknown>;
  const saved = String(query.saved ?? '');
  const next = localReturnPath(query.return);
  const returnField = html`<input type="hidden" name="return" value="${AUTHENTICATORS_PAGE}">`;
  const apps = (await listAuthenticators(services, account.id)).filter((a) => a.confirmed);
  return layout(
    request,
    view,
    text('authenticators.title'),
    html`
<h1>${text('authenticators.title')}</h1>
${noticeBox(saved === 'added' ? text('authenticators.added') : saved === 'removed' ? text('authenticators.removed') : undefined)}
<section class="card">
  <p>${text('authenticators.intro')}</p>
  ${alertBox(errorText(view, error))}
  ${
    apps.length === 0
      ? html`<p>${text('authenticators.none')}</p>`
      : html`<ul class="devices authenticators">${apps.map(
          (a) => html`<li>
      <span class="device-facts"><strong>${a.label}</strong></span>
      <span class="actions"><form method="post" action="${AUTHENTICATORS_PAGE}/${a.id}/remove" class="inline">${view.csrf}${returnField}<button type="submit" class="secondary" aria-label="${text('authenticators.remove')}: ${a.label}">${text('authenticators.remove')}</button></form></span>
    </li>`,
        )}</ul>
  <p class="hint">${text('authenticators.replaceHint')}</p>`
  }
  <form method="post" action="${AUTHENTICATORS_PAGE}">
    ${view.csrf}<input type="hidden" name="return" value="${next ?? AUTHENTICATORS_PAGE}">
    <label for="label">${text('authenticators.label')}</label>
    <input id="label" name="label" maxlength="64" autocomplete="off" value="${text('authenticators.defaultLabel')}">
    <button type="submit">${text('authenticators.add')}</button>
  </form>
  ${next ? html`<p><a href="${next}">${text('enrol.back')}</a></p>` : ''}
  <p><a href="/account#security">${text('deviceVerify.back')}</a></p>
</section>`,
  );
}

/** The QR code, the secret in groups and the first-code form. */
function setupPage(
  request: FastifyRequest,
  reply: FastifyReply,
  enrolment: AuthenticatorEnrolment,
  next: string,
  error?: AppError,
): string {
  const view = pageView(request, reply);
  const { text } = view;
  const qr = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg).toString('base64')}`;
  return layout(
    request,
    view,
    text('authenticators.setup.title'),
    html`
<section class="card">
  <h1>${text('authenticators.setup.title')}</h1>
  ${alertBox(errorText(view, error))}
  <p>${text('authenticators.setup.scan')}</p>
  <p><img class="qr-code" src="${qr}" alt="${text('authenticators.setup.qrAlt')}" width="200" height="200"></p>
  <p>${text('authenticators.setup.type')}</p>
  <p class="recovery-key"><code class="key-text" data-totp-secret>${enrolment.secretGroups}</code></p>
  <form method="post" action="${AUTHENTICATORS_PAGE}/${enrolment.authenticator.id}/confirm">
    ${view.csrf}<input type="hidden" name="return" value="${next}">
    <label for="code">${text('authenticators.setup.code')}</label>
    <input id="code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12">
    <button type="submit">${text('authenticators.setup.confirm')}</button>
  </form>
  <p><a href="${AUTHENTICATORS_PAGE}">${text('enrol.back')}</a></p>
</section>`,
  );
}

export function registerAuthenticatorPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    scope.get(AUTHENTICATORS_PAGE, hidden, async (request, reply) =>
      sendHtml(reply, await listPage(request, reply, services)),
    );

    scope.post(AUTHENTICATORS_PAGE, hidden, async (request, reply) => {
      const form = readForm(request);
      try {
        const enrolment = await startAuthenticator(services, requireAuth(request), field(form, 'label') || undefined);
        return sendHtml(reply, setupPage(request, reply, enrolment, nextPath(field(form, 'return'))));
      } catch (error) {
        const failure = shownOnPage(error);
        return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
      }
    });

    scope.post(`${AUTHENTICATORS_PAGE}/:id/confirm`, hidden, async (request, reply) => {
      const form = readForm(request);
      const id = String((request.params as Record<string, unknown>).id ?? '');
      const auth = requireAuth(request);
      const next = nextPath(field(form, 'return'));
      try {
        await confirmAuthenticator(services, auth, id, field(form, 'code'), request.ctx);
        return redirect(reply, next === AUTHENTICATORS_PAGE ? `${AUTHENTICATORS_PAGE}?saved=added` : next);
      } catch (error) {
        const failure = shownOnPage(error);
        const enrolment = await pendingAuthenticator(services, auth, id);
        if (!enrolment)
          return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
        return sendHtml(reply.status(failure.status), setupPage(request, reply, enrolment, next, failure));
      }
    });

    scope.post(`${AUTHENTICATORS_PAGE}/:id/remove`, hidden, async (request, reply) => {
      readForm(request);
      const id = String((request.params as Record<string, unknown>).id ?? '');
      try {
        await removeAuthenticator(services, requireAuth(request), id, request.ctx);
      } catch (error) {
        const failure = shownOnPage(error);
        return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
      }
      return redirect(reply, `${AUTHENTICATORS_PAGE}?saved=removed`);
    });
  });
}
