// The development outbox (SPEC §7): what would have been emailed or texted. Registered only when the
// outbox is the delivery, and never in production (config refuses the outbox there).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../flows/context.ts';
import { html } from './html.ts';
import { layout, pageView } from './layout.ts';

const OutboxEntry = Type.Object({
  to: Type.String(),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  subject: Type.Optional(Type.String()),
  body: Type.String(),
  links: Type.Array(Type.String()),
  code: Type.Optional(Type.String()),
  at: Type.String({ format: 'date-time' }),
});

export function registerOutbox(app: FastifyInstance, services: Services): void {
  app.get(
    '/dev/outbox.json',
    {
      schema: {
        tags: ['development'],
        summary: 'Messages in the development outbox, newest first',
        querystring: Type.Object({
          to: Type.Optional(Type.String({ maxLength: 254 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: Type.Array(OutboxEntry) },
      },
    },
    async (request, reply) => {
      const query = request.query as { to?: string; limit?: number };
      const messages = await services.store.outbox.list({
        limit: query.limit ?? 100,
        ...(query.to ? { to: query.to.toLowerCase() } : {}),
      });
      reply.header('cache-control', 'no-store');
      return messages.map((m) => ({ ...m, at: m.at.toISOString() }));
    },
  );

  app.get('/dev/outbox', { schema: { hide: true } }, async (request, reply) => {
    const view = pageView(request, reply);
    const { text } = view;
    const messages = await services.store.outbox.list({ limit: 100 });
    const body = html`
<h1>${text('outbox.title')}</h1>
<p class="muted intro">${text('outbox.note')}</p>
${messages.length === 0 ? html`<p>${text('outbox.empty')}</p>` : ''}
${messages.map(
  (m) => html`<article class="card message">
    <header><strong>${m.subject ?? m.channel.toUpperCase()}</strong><span class="muted"> → ${m.to} · ${m.at.toISOString()}</span></header>
    <pre>${m.body}</pre>
    ${m.links.map((link) => html`<p><a href="${link}">${link}</a></p>`)}
  </article>`,
)}`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(layout(request, view, text('outbox.title'), body));
  });
}
