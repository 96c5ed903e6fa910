import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.ts';
import { t } from '../../text/index.ts';
import { requestLocale } from '../request-context.ts';
import { html } from './html.ts';
import { layout, pageView } from './layout.ts';

export function renderErrorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
): string {
  request.ctx ??= { ip: request.ip, userAgent: null, locale: requestLocale(request) };
  const view = pageView(request, reply);
  const title = code === 'NOT_FOUND' ? t(view.locale, 'notFound.title') : t(view.locale, 'error.title');
  return layout(
    request,
    view,
    title,
    html`<section class="card"><h1>${title}</h1><p>${message}</p><p class="muted">${code}</p><p><a href="/">${t(view.locale, 'app.name')}</a></p></section>`,
  );
}
