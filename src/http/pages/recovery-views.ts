// Pieces the recovery pages share: a simple form card, the new recovery key shown once, and the
// plain-text download of that key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../core/errors.ts';
import { normalizeRecoveryKey } from '../../core/recovery-key.ts';
import type { Services } from '../../flows/context.ts';
import { keyBlock } from './enrolment-pages.ts';
import { field, readForm } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, layout, type PageView, pageView } from './layout.ts';

export function sendPage(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

export function errorText(view: PageView, error: AppError | undefined, services: Services): string | undefined {
  return error
    ? view.text(`error.${error.code}`, {
        seconds: error.retryAfterSeconds ?? 0,
        days: services.config.policy.waitingPeriodDays,
      })
    : undefined;
}

/** A card with a title, an optional error, an intro and the given body. */
export function cardPage(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { title: string; intro?: string; error?: string | undefined; body: Html | string },
): string {
  const view = pageView(request, reply);
  return layout(
    request,
    view,
    page.title,
    html`
<section class="card">
  <h1>${page.title}</h1>
  ${alertBox(page.error)}
  ${page.intro ? html`<p>${page.intro}</p>` : ''}
  ${page.body}
</section>`,
  );
}

export function recoveryKeyInput(view: PageView): Html {
  return html`<label for="recoveryKey">${view.text('enrol.key.label')}</label>
    <input id="recoveryKey" name="recoveryKey" class="key-input" autocomplete="off" autocapitalize="characters" spellcheck="false" required maxlength="64" placeholder="XXXX-XXXX-XXXX-XX">`;
}

/** The new key after a recovery used the old one: shown once, printable with the browser, downloadable. */
export function newKeyBody(view: PageView, key: string, intro: string, next: { href: string; label: string }): Html {
  return html`
  <p class="lead">${intro}</p>
  ${keyBlock(key)}
  <form method="post" action="/recovery-key/download" class="inline no-print">${view.csrf}
    <input type="hidden" name="recoveryKey" value="${key}">
    <button type="submit" class="secondary">${view.text('recoveryKey.download')}</button>
  </form>
  <p class="no-print"><a class="button" href="${next.href}">${next.label}</a></p>`;
}

export function registerRecoveryKeyDownload(app: FastifyInstance): void {
  // The key comes from the page that shows it; only a well-formed key is echoed back as a file.
  app.post('/recovery-key/download', { schema: { hide: true } }, async (request, reply) => {
    const form = readForm(request);
    const key = normalizeRecoveryKey(field(form, 'recoveryKey'));
    if (!key.ok) return reply.status(400).type('text/plain; charset=utf-8').send('');
    const view = pageView(request, reply);
    const when = new Date().toISOString().slice(0, 10);
    return reply
      .type('text/plain; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', 'attachment; filename="twostep-recovery-key.txt"')
      .send(view.text('enrol.key.file', { email: '', when, key: key.key }));
  });
}
