// The portal's security keys and passkeys, linked from Password & Security: the keys with when they
// were added and last used, adding one (a name, then the browser's WebAuthn ceremony), removing one.
// Adding and removing are protected changes on an account with two-step verification: a stale
// verification goes through the step-up page and comes back (the `return` field).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import { securityKeyLimits } from '../../core/security-key-policy.ts';
import type { Services } from '../../flows/context.ts';
import {
  finishSecurityKeyRegistration,
  listSecurityKeys,
  removeSecurityKey,
  startSecurityKeyRegistration,
} from '../../flows/security-keys.ts';
import { requireAuth } from '../request-context.ts';
import { field, readForm, redirect } from './forms.ts';
import { html } from './html.ts';
import { alertBox, layout, noticeBox, type PageView, pageView } from './layout.ts';
import { errorText, sendHtml, shownOnPage } from './page-replies.ts';
import { localReturnPath } from './return-path.ts';
import { postedCredential, securityKeyForm, WEBAUTHN_SCRIPTS } from './security-key-form.ts';

const hidden = { schema: { hide: true } };
export const SECURITY_KEYS_PAGE = '/account/security-keys';

function when(view: PageView, date: Date): string {
  return date.toLocaleString(view.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
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
  // Sent here from the enrolment: a way back to it.
  const back = localReturnPath(query.return);
  const returnField = html`<input type="hidden" name="return" value="${SECURITY_KEYS_PAGE}">`;
  const keys = await listSecurityKeys(services, account.id);
  const rules = services.config.policy.securityKeyRules;
  return layout(
    request,
    view,
    text('securityKeys.title'),
    html`
<h1>${text('securityKeys.title')}</h1>
${noticeBox(saved === 'added' ? text('securityKeys.added') : saved === 'removed' ? text('securityKeys.removed') : undefined)}
<section class="card">
  <p>${text('securityKeys.intro')}</p>
  <p class="hint">${rules === 'apple' ? text('securityKeys.rules.apple') : text('securityKeys.rules.open', { max: securityKeyLimits(rules).max })}</p>
  ${alertBox(errorText(view, error))}
  ${
    keys.length === 0
      ? html`<p>${text('securityKeys.none')}</p>`
      : html`<ul class="devices security-keys">${keys.map(
          (key) => html`<li>
      <span class="device-facts"><strong>${key.name}</strong>
        <span class="muted">${text('securityKeys.createdAt')}: ${when(view, key.createdAt)} · ${text('securityKeys.lastUsed')}: ${key.lastUsedAt ? when(view, key.lastUsedAt) : text('securityKeys.neverUsed')}</span>
        ${key.passkey ? html`<span class="muted">${text('securityKeys.passkey')}</span>` : ''}</span>
      <span class="actions"><form method="post" action="${SECURITY_KEYS_PAGE}/${key.id}/remove" class="inline">${view.csrf}${returnField}<button type="submit" class="secondary" aria-label="${text('securityKeys.remove')}: ${key.name}">${text('securityKeys.remove')}</button></form></span>
    </li>`,
        )}</ul>`
  }
  <form method="post" action="${SECURITY_KEYS_PAGE}/new">
    ${view.csrf}${returnField}
    <label for="key-name">${text('securityKeys.name')}</label>
    <input id="key-name" name="name" maxlength="64" required autocomplete="off" placeholder="${text('securityKeys.namePlaceholder')}">
    <button type="submit">${text('securityKeys.add')}</button>
  </form>
  ${back ? html`<p><a href="${back}">${text('enrol.back')}</a></p>` : ''}
  <p><a href="/account#security">${text('deviceVerify.back')}</a></p>
</section>`,
  );
}

/** The ceremony step: the options for this session, run by the browser when the owner presses the button. */
function ceremonyPage(request: FastifyRequest, reply: FastifyReply, name: string, options: object, error?: AppError) {
  const view = pageView(request, reply);
  const { text } = view;
  return layout(
    request,
    view,
    text('securityKeys.add'),
    html`
<section class="card">
  <h1>${text('securityKeys.add')}</h1>
  ${alertBox(errorText(view, error))}
  <p><strong>${name}</strong></p>
  ${securityKeyForm(view, {
    action: SECURITY_KEYS_PAGE,
    ceremony: 'create',
    options,
    label: text('securityKeys.add'),
    hidden: html`<input type="hidden" name="name" value="${name}"><input type="hidden" name="return" value="${SECURITY_KEYS_PAGE}">`,
  })}
  <p><a href="${SECURITY_KEYS_PAGE}">${text('enrol.back')}</a></p>
</section>`,
    { scripts: WEBAUTHN_SCRIPTS },
  );
}

export function registerSecurityKeyPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    scope.get(SECURITY_KEYS_PAGE, hidden, async (request, reply) =>
      sendHtml(reply, await listPage(request, reply, services)),
    );

    scope.post(`${SECURITY_KEYS_PAGE}/new`, hidden, async (request, reply) => {
      const form = readForm(request);
      const name = field(form, 'name').trim();
      try {
        const options = await startSecurityKeyRegistration(services, requireAuth(request));
        return sendHtml(reply, ceremonyPage(request, reply, name || '—', options));
      } catch (error) {
        const failure = shownOnPage(error);
        return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
      }
    });

    scope.post(SECURITY_KEYS_PAGE, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await finishSecurityKeyRegistration(
          services,
          auth,
          { name: field(form, 'name'), response: postedCredential(form) ?? null },
          request.ctx,
        );
        return redirect(reply, `${SECURITY_KEYS_PAGE}?saved=added`);
      } catch (error) {
        const failure = shownOnPage(error);
        return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
      }
    });

    scope.post(`${SECURITY_KEYS_PAGE}/:id/remove`, hidden, async (request, reply) => {
      readForm(request);
      const id = String((request.params as Record<string, unknown>).id ?? '');
      try {
        await removeSecurityKey(services, requireAuth(request), id, request.ctx);
      } catch (error) {
        const failure = shownOnPage(error);
        return sendHtml(reply.status(failure.status), await listPage(request, reply, services, failure));
      }
      return redirect(reply, `${SECURITY_KEYS_PAGE}?saved=removed`);
    });
  });
}
