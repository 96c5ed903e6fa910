// "Replace lost key" in Password & Security (SPEC §3.7; reference/apple-2sv.md §4): on an account with
// two-step verification, a session opened with the password plus a code from a trusted device or
// phone within the last minutes (the step-up page first) makes a new recovery key. The old key dies
// at once (createRecoveryKey), since it may be in someone else's hands; the new one is shown this
// once, with the print view and download of the enrolment, and typed back to check it was written
// down right. Without two-step verification a key belongs to the enrolment, which explains it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { hasRecentTwoStep } from '../../flows/step-up.ts';
import { confirmRecoveryKey, createRecoveryKey } from '../../flows/two-step.ts';
import type { TextId } from '../../text/index.ts';
import { requireAuth } from '../request-context.ts';
import { confirmBody, keyShownBody } from './enrolment-pages.ts';
import { field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { layout, pageView } from './layout.ts';
import { stepUpUrl } from './return-path.ts';

const hidden = { schema: { hide: true } };
export const RECOVERY_KEY_PAGE = '/account/recovery-key';
const CONFIRM = `${RECOVERY_KEY_PAGE}/confirm`;

function send(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

function cardPage(request: FastifyRequest, reply: FastifyReply, title: TextId, body: Html): FastifyReply {
  const view = pageView(request, reply);
  return send(
    reply,
    layout(
      request,
      view,
      view.text(title),
      html`<section class="card enrol"><h1>${view.text(title)}</h1>${body}</section>`,
    ),
  );
}

export function registerRecoveryKeyPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
      // Without two-step verification there is no key to replace: the enrolment makes the first one.
      if (!request.auth.account.two_step_enabled_at) return redirect(reply, '/account/two-step');
    });

    scope.get(RECOVERY_KEY_PAGE, hidden, async (request, reply) => {
      const auth = requireAuth(request);
      // The code first: the step-up page comes back here, and the button then makes the key.
      if (!hasRecentTwoStep(services, auth)) return redirect(reply, stepUpUrl(RECOVERY_KEY_PAGE));
      const view = pageView(request, reply);
      const { text } = view;
      return cardPage(
        request,
        reply,
        'replaceKey.title',
        html`
  <p class="lead">${text('replaceKey.lead')}</p>
  <p>${text('enrol.key.once')}</p>
  <form method="post" action="${RECOVERY_KEY_PAGE}">
    ${view.csrf}<input type="hidden" name="return" value="${RECOVERY_KEY_PAGE}">
    <div class="step-nav">
      <button type="submit">${text('replaceKey.submit')}</button>
      <a class="button secondary" href="/account#recovery-key">${text('replaceKey.cancel')}</a>
    </div>
  </form>`,
      );
    });

    // Made by a POST and shown in its answer only: reloading or going back never shows it again.
    scope.post(RECOVERY_KEY_PAGE, hidden, async (request, reply) => {
      readForm(request);
      const key = await createRecoveryKey(services, requireAuth(request), request.ctx);
      return cardPage(request, reply, 'enrol.key.shownTitle', keyShownBody(pageView(request, reply), key, CONFIRM));
    });

    const confirmPage = (request: FastifyRequest, reply: FastifyReply, error?: AppError): FastifyReply =>
      cardPage(
        request,
        reply,
        'enrol.confirm.title',
        confirmBody(pageView(request, reply), services, error, { action: CONFIRM, lost: RECOVERY_KEY_PAGE }),
      );

    scope.get(CONFIRM, hidden, async (request, reply) => confirmPage(request, reply));

    scope.post(CONFIRM, hidden, async (request, reply) => {
      const form = readForm(request);
      try {
        await confirmRecoveryKey(services, requireAuth(request), field(form, 'recoveryKey'), request.ctx);
      } catch (error) {
        if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.status >= 500) throw error;
        return confirmPage(request, reply.status(error.status), error);
      }
      return redirect(reply, '/account?saved=recovery-key#recovery-key');
    });
  });
}
