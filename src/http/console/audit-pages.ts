// The console's audit browser (admins): every audit event, filtered by account, actor, event and
// time, fifty at a time, and the same selection as CSV.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../flows/context.ts';
import {
  AUDIT_PAGE,
  exportAuditCsv,
  parseAuditFilter,
  type RawAuditFilter,
  searchAudit,
} from '../../flows/staff/audit-browser.ts';
import { html } from '../pages/html.ts';
import { consoleLayout, consoleTime, consoleView } from './layout.ts';
import { requireStaff } from './staff-auth.ts';

const hidden = { schema: { hide: true } };
const FIELDS = ['account', 'actor', 'event', 'from', 'to'] as const;

function strings(query: Record<string, unknown>): RawAuditFilter {
  const raw: Record<string, string> = {};
  for (const name of [...FIELDS, 'before']) {
    const value = query[name];
    if (typeof value === 'string') raw[name] = value.slice(0, 100);
  }
  return raw;
}

function queryString(raw: RawAuditFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const name of FIELDS) if (raw[name]) params.set(name, raw[name] as string);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

export function registerAuditPages(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: Record<string, unknown> }>('/console/audit', hidden, async (request, reply) => {
    requireStaff(request, 'admin');
    const raw = strings(request.query);
    const events = await searchAudit(services, parseAuditFilter(raw, AUDIT_PAGE));
    const view = consoleView(request, reply);
    const { text } = view;
    const last = events.at(-1);
    const body = html`<section class="card">
  <h1>${text('console.audit.title')}</h1>
  <form method="get" action="/console/audit">
    <label for="account">${text('console.audit.account')}</label><input id="account" name="account" value="${raw.account ?? ''}">
    <label for="actor">${text('console.audit.actor')}</label><input id="actor" name="actor" placeholder="staff:…" value="${raw.actor ?? ''}">
    <label for="event">${text('console.audit.event')}</label><input id="event" name="event" placeholder="support." value="${raw.event ?? ''}">
    <label for="from">${text('console.audit.from')}</label><input id="from" name="from" type="date" value="${raw.from ?? ''}">
    <label for="to">${text('console.audit.to')}</label><input id="to" name="to" type="date" value="${raw.to ?? ''}">
    <button type="submit">${text('console.audit.filter')}</button>
  </form>
  <p><a href="/console/audit.csv?${queryString(raw)}" download>${text('console.audit.csv')}</a></p>
  <table class="activity">
    <thead><tr><th scope="col">${text('activity.when')}</th><th scope="col">${text('console.audit.event')}</th><th scope="col">${text('console.audit.account')}</th><th scope="col">${text('console.audit.actor')}</th><th scope="col">${text('activity.from')}</th><th scope="col">${text('console.audit.details')}</th></tr></thead>
    <tbody>${events.map(
      (e) =>
        html`<tr><td>${consoleTime(e.at)}</td><td><code>${e.event}</code></td><td>${e.accountId ? html`<a href="/console/accounts/${e.accountId}">${e.accountId}</a>` : ''}</td><td><code>${e.actor}</code></td><td>${e.ip ?? ''}</td><td><code>${JSON.stringify(e.details)}</code></td></tr>`,
    )}</tbody>
  </table>
  ${events.length === AUDIT_PAGE && last ? html`<p><a href="/console/audit?${queryString(raw, { before: last.id })}">${text('console.audit.older')}</a></p>` : ''}
</section>`;
    return reply.type('text/html; charset=utf-8').send(consoleLayout(request, view, text('console.audit.title'), body));
  });

  app.get<{ Querystring: Record<string, unknown> }>('/console/audit.csv', hidden, async (request, reply) => {
    const staff = requireStaff(request, 'admin');
    const csv = await exportAuditCsv(
      services,
      staff,
      parseAuditFilter(strings(request.query), AUDIT_PAGE),
      request.ctx,
    );
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="twostep-audit.csv"')
      .send(csv);
  });
}
