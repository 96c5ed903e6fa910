// "This wasn't me" (SPEC §3.17): the link of a security email opens this page, which says what will
// happen; only its button acts (a POST with a CSRF token), because mail scanners follow links. After
// the report the owner is sent on to choose a new password.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import { describeNotMe, type NotMeReport, reportNotMe } from '../../flows/not-me.ts';
import { en } from '../../text/en.ts';
import type { TextId } from '../../text/index.ts';
import { clearSessionCookie } from '../session-cookie.ts';
import { field, readForm } from './forms.ts';
import { html } from './html.ts';
import { alertBox, layout, pageView } from './layout.ts';

const hidden = { schema: { hide: true } };

/** The subject of the email the link came from, when it names one. */
function subjectOf(view: ReturnType<typeof pageView>, notice: string): string | undefined {
  const id = `email.${notice}.subject`;
  return Object.hasOwn(en, id) ? view.text(id as TextId) : undefined;
}

function reportPage(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  found: { notice: string; restoreEmail: string | null } | undefined,
  error?: AppError,
): string {
  const view = pageView(request, reply);
  const { text } = view;
  const subject = found ? subjectOf(view, found.notice) : undefined;
  return layout(
    request,
    view,
    text('notMe.title'),
    html`
<section class="card">
  <h1>${text('notMe.title')}</h1>
  ${alertBox(error ? text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined)}
  ${
    found
      ? html`
  ${subject ? html`<p>${text('notMe.reporting', { subject })}</p>` : ''}
  <p>${text('notMe.lead')}</p>
  <ul>
    <li>${text('notMe.item1')}</li>
    <li>${text('notMe.item2')}</li>
    <li>${text('notMe.item3')}</li>
    ${found.restoreEmail ? html`<li>${text('notMe.restoreEmail', { email: found.restoreEmail })}</li>` : ''}
    <li>${text('notMe.item4')}</li>
  </ul>
  <p>${text('notMe.keep')}</p>
  <form method="post" action="/not-me">
    ${view.csrf}<input type="hidden" name="token" value="${token}">
    <button type="submit" class="danger">${text('notMe.submit')}</button>
  </form>`
      : html`<p><a href="/signin">${text('nav.signIn')}</a></p>`
  }
</section>`,
  );
}

function donePage(request: FastifyRequest, reply: FastifyReply, report: NotMeReport): string {
  const view = pageView(request, reply);
  const { text } = view;
  return layout(
    request,
    view,
    text('notMe.done.title'),
    html`
<section class="card">
  <h1>${text('notMe.done.title')}</h1>
  <p>${text('notMe.done.body')}</p>
  ${report.restoredEmail ? html`<p>${text('notMe.done.restored', { email: report.restoredEmail })}</p>` : ''}
  <p><a class="button" href="/forgot-password">${text('notMe.done.reset')}</a></p>
</section>`,
  );
}

const sendHtml = (reply: FastifyReply, page: string): FastifyReply =>
  reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    // The token is in this page's URL: it is never sent on as a Referer (as on /verify-email).
    .header('referrer-policy', 'no-referrer')
    .send(page);

function shown(reply: FastifyReply, error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.status >= 500) throw error;
  reply.status(error.status);
  return error;
}

export function registerNotMePage(app: FastifyInstance, services: Services): void {
  app.get('/not-me', hidden, async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    try {
      const found = await describeNotMe(services, token);
      return sendHtml(reply, reportPage(request, reply, token, found));
    } catch (error) {
      return sendHtml(reply, reportPage(request, reply, token, undefined, shown(reply, error)));
    }
  });

  app.post('/not-me', hidden, async (request, reply) => {
    const form = readForm(request);
    const token = field(form, 'token');
    let report: NotMeReport;
    try {
      report = await reportNotMe(services, token, request.ctx);
    } catch (error) {
      return sendHtml(reply, reportPage(request, reply, token, undefined, shown(reply, error)));
    }
    // This browser's session, if it was one of the account's, has just ended with all the others.
    if (request.auth) {
      const still = await services.store.sessions.findActive(request.auth.session.id);
      if (!still) clearSessionCookie(reply, services.config);
    }
    return sendHtml(reply, donePage(request, reply, report));
  });
}
