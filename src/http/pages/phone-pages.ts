// Trusted phone numbers in Password & Security (SPEC §2, §3.3, §3.4), for every account, with or
// without two-step verification on: add a number (a code texted to it comes back here), remove one.
// Adding and removing are protected changes: on a two-step account a stale verification goes through
// the step-up page first and comes back to the form (the hidden `return` field). The enrolment has
// its own phone step (enrolment-pages.ts); this is the place once two-step verification is on.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import {
  addPhone,
  confirmPhone,
  listPhones,
  type PhoneView,
  phoneOfChallenge,
  removePhone,
} from '../../flows/phones.ts';
import { hasRecentTwoStep } from '../../flows/step-up.ts';
import { twoStepStatus } from '../../flows/two-step.ts';
import { requireAuth } from '../request-context.ts';
import { field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, layout, type PageView, pageView } from './layout.ts';
import { errorText, sendHtml } from './page-replies.ts';
import { stepUpUrl } from './return-path.ts';

const hidden = { schema: { hide: true } };
export const PHONES_PAGE = '/account/phones';

function returnTo(path: string): Html {
  return html`<input type="hidden" name="return" value="${path}">`;
}

/** A user-facing failure to show beside the form; CSRF, step-up and unexpected errors go to the global handler. */
function shownError(reply: FastifyReply, error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED' || error.status >= 500)
    throw error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.status(error.status);
  return error;
}

function card(request: FastifyRequest, view: PageView, title: string, body: Html): string {
  return layout(request, view, title, html`<section class="card"><h1>${title}</h1>${body}</section>`);
}

function addPage(
  request: FastifyRequest,
  view: PageView,
  options: { smsAvailable: boolean; error?: AppError; number?: string },
): string {
  const { text } = view;
  const body = options.smsAvailable
    ? html`
  <p>${text('phones.lead')}</p>
  ${alertBox(errorText(view, options.error))}
  <form method="post" action="${PHONES_PAGE}">
    ${view.csrf}${returnTo(PHONES_PAGE)}
    <label for="phone">${text('field.phone')}</label>
    <input id="phone" name="number" type="tel" autocomplete="tel" inputmode="tel" required maxlength="40" value="${options.number ?? ''}" aria-describedby="phone-hint">
    <p id="phone-hint" class="hint">${text('hint.phone')}</p>
    <button type="submit">${text('enrol.devices.sendCode')}</button>
  </form>`
    : html`<p class="warning">${text('enrol.devices.noSms')}</p>`;
  return card(
    request,
    view,
    text('phones.title'),
    html`${body}<p><a href="/account#phones">${text('deviceVerify.back')}</a></p>`,
  );
}

function codePage(
  request: FastifyRequest,
  view: PageView,
  services: Services,
  challengeId: string,
  phone: PhoneView,
  error?: AppError,
): string {
  const { text } = view;
  return card(
    request,
    view,
    text('enrol.phone.title'),
    html`
  <p>${text('enrol.phone.body', { number: phone.number, minutes: services.config.policy.codeLifetimeMinutes })}</p>
  ${alertBox(errorText(view, error))}
  <form method="post" action="${PHONES_PAGE}/${challengeId}">
    ${view.csrf}
    <label for="code">${text('field.code')}</label>
    <input id="code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" autofocus>
    <button type="submit">${text('enrol.phone.submit')}</button>
  </form>
  <p><a href="${PHONES_PAGE}">${text('enrol.phone.other')}</a></p>`,
  );
}

function removePage(request: FastifyRequest, view: PageView, phone: PhoneView, error?: AppError): string {
  const { text } = view;
  const path = `${PHONES_PAGE}/${phone.id}/remove`;
  return card(
    request,
    view,
    text('phoneRemove.title', { number: phone.number }),
    html`
  <p>${text('phoneRemove.body')}</p>
  ${alertBox(errorText(view, error))}
  <form method="post" action="${path}">
    ${view.csrf}${returnTo(path)}
    <button type="submit" class="danger">${text('phoneRemove.submit')}</button>
  </form>
  <p><a href="/account#phones">${text('deviceVerify.back')}</a></p>`,
  );
}

async function ownPhone(services: Services, accountId: string, phoneId: string): Promise<PhoneView> {
  const phone = (await listPhones(services, accountId)).find((p) => p.id === phoneId);
  if (!phone) throw new AppError('NOT_FOUND');
  return phone;
}

export function registerPhonePages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    const param = (request: FastifyRequest, name: string): string =>
      String((request.params as Record<string, unknown>)[name] ?? '');
    const smsAvailable = async (request: FastifyRequest): Promise<boolean> =>
      (await twoStepStatus(services, requireAuth(request).account)).smsAvailable;

    scope.get(PHONES_PAGE, hidden, async (request, reply) => {
      const auth = requireAuth(request);
      // Verify first, then type the number: the step-up page comes back here.
      if (auth.account.two_step_enabled_at && !hasRecentTwoStep(services, auth))
        return redirect(reply, stepUpUrl(PHONES_PAGE));
      const view = pageView(request, reply);
      return sendHtml(reply, addPage(request, view, { smsAvailable: await smsAvailable(request) }));
    });

    scope.post(PHONES_PAGE, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const number = field(form, 'number');
      try {
        const { challenge } = await addPhone(services, auth, number, request.ctx);
        return redirect(reply, `${PHONES_PAGE}/${encodeURIComponent(challenge.id)}`);
      } catch (error) {
        const shown = shownError(reply, error);
        const view = pageView(request, reply);
        return sendHtml(
          reply,
          addPage(request, view, { smsAvailable: await smsAvailable(request), error: shown, number }),
        );
      }
    });

    scope.get(`${PHONES_PAGE}/:challenge`, hidden, async (request, reply) => {
      const id = param(request, 'challenge');
      const phone = await phoneOfChallenge(services, requireAuth(request).account.id, id);
      return sendHtml(reply, codePage(request, pageView(request, reply), services, id, phone));
    });

    scope.post(`${PHONES_PAGE}/:challenge`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const id = param(request, 'challenge');
      const phone = await phoneOfChallenge(services, auth.account.id, id);
      try {
        const verified = await confirmPhone(services, auth, id, field(form, 'code'), request.ctx);
        return redirect(reply, `/account?phone=${encodeURIComponent(verified.id)}#phones`);
      } catch (error) {
        const shown = shownError(reply, error);
        return sendHtml(reply, codePage(request, pageView(request, reply), services, id, phone, shown));
      }
    });

    scope.get(`${PHONES_PAGE}/:id/remove`, hidden, async (request, reply) => {
      const phone = await ownPhone(services, requireAuth(request).account.id, param(request, 'id'));
      return sendHtml(reply, removePage(request, pageView(request, reply), phone));
    });

    scope.post(`${PHONES_PAGE}/:id/remove`, hidden, async (request, reply) => {
      readForm(request);
      const auth = requireAuth(request);
      const phone = await ownPhone(services, auth.account.id, param(request, 'id'));
      try {
        await removePhone(services, auth, phone.id, request.ctx);
      } catch (error) {
        // TWO_STEP_LAST_FACTOR: the page says to add another way to get codes first.
        const shown = shownError(reply, error);
        return sendHtml(reply, removePage(request, pageView(request, reply), phone, shown));
      }
      return redirect(reply, '/account?saved=phone-removed#phones');
    });
  });
}
