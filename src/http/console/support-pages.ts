// The support pages (SPEC §3.15): search, the limited profile, and the three support actions. On an
// account with two-step verification the takeover actions answer 403 with the page that explains
// the two-of-three rule, written to be read out to the customer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, isAppError } from '../../core/errors.ts';
import type { Services } from '../../flows/context.ts';
import {
  type AccountProfile,
  type AccountSummary,
  accountProfile,
  revokeSessionsBySupport,
  searchAccounts,
  sendResetLinkBySupport,
  unlockBySupport,
} from '../../flows/staff/support.ts';
import { en } from '../../text/en.ts';
import type { TextId } from '../../text/index.ts';
import { type Html, html } from '../pages/html.ts';
import { type ConsoleView, consoleAlert, consoleLayout, consoleNotice, consoleTime, consoleView } from './layout.ts';
import { readConsoleForm, requireStaff } from './staff-auth.ts';

const hidden = { schema: { hide: true } };
const DONE = ['reset_link', 'unlock', 'revoke_sessions'] as const;
type Done = (typeof DONE)[number];

function stateText(view: ConsoleView, state: AccountSummary['state']): string {
  return view.text(`console.state.${state}`);
}

function twoStepText(view: ConsoleView, on: boolean): string {
  return view.text(on ? 'console.twoStep.on' : 'console.twoStep.off');
}

function searchPage(
  request: FastifyRequest,
  reply: FastifyReply,
  query: string,
  results: AccountSummary[] | undefined,
  error?: AppError,
): string {
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    text('console.search.title'),
    html`<section class="card">
  <h1>${text('console.search.title')}</h1>
  <form method="get" action="/console/accounts" role="search">
    <label for="q">${text('console.search.label')}</label>
    <input id="q" name="q" type="search" maxlength="320" value="${query}" autofocus>
    <button type="submit">${text('console.search.submit')}</button>
  </form>
  ${consoleAlert(error ? text(`error.${error.code}`) : undefined)}
  ${
    results === undefined
      ? ''
      : results.length === 0
        ? html`<p>${text('console.search.none')}</p>`
        : html`<table class="activity">
    <thead><tr><th scope="col">${text('field.email')}</th><th scope="col">${text('field.name')}</th><th scope="col">${text('console.profile.twoStep')}</th><th scope="col">${text('console.profile.state')}</th></tr></thead>
    <tbody>${results.map(
      (a) =>
        html`<tr><td><a href="/console/accounts/${a.id}">${a.email}</a></td><td>${a.name}</td><td>${twoStepText(view, a.twoStep)}</td><td>${stateText(view, a.state)}</td></tr>`,
    )}</tbody>
  </table>`
  }
</section>`,
  );
}

function eventLabel(view: ConsoleView, event: string): string {
  const id = `event.${event}` as TextId;
  return Object.hasOwn(en, id) ? view.text(id) : event;
}

function actionForm(
  view: ConsoleView,
  accountId: string,
  action: string,
  label: string,
  options: { danger?: boolean } = {},
): Html {
  return html`<form method="post" action="/console/accounts/${accountId}/${action}" class="inline">${view.csrf}<button type="submit"${options.danger ? html` class="danger"` : ''}>${label}</button></form>`;
}

function profilePage(request: FastifyRequest, reply: FastifyReply, p: AccountProfile, done: Done | undefined): string {
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    p.email,
    html`<section class="card">
  <h1>${p.name} <span class="muted">${p.email}</span></h1>
  ${consoleNotice(done ? text(`console.done.${done}`) : undefined)}
  <dl class="facts">
    <dt>${text('console.profile.id')}</dt><dd><code>${p.id}</code></dd>
    <dt>${text('console.profile.twoStep')}</dt><dd data-two-step="${p.twoStep ? 'on' : 'off'}">${twoStepText(view, p.twoStep)}${p.twoStepSince ? html` (${consoleTime(p.twoStepSince)})` : ''}</dd>
    <dt>${text('console.profile.state')}</dt><dd>${stateText(view, p.state)}${p.passwordDelaySeconds > 0 ? html` · ${text('console.profile.delay', { seconds: p.passwordDelaySeconds })}` : ''}</dd>
    <dt>${text('console.profile.emailVerified')}</dt><dd>${text(p.emailVerified ? 'console.yes' : 'console.no')}</dd>
    <dt>${text('console.profile.recoveryKey')}</dt><dd>${text(p.recoveryKey ? 'console.yes' : 'console.no')}</dd>
    <dt>${text('field.country')}</dt><dd>${p.country}</dd>
    <dt>${text('lang.label')}</dt><dd>${p.locale}</dd>
    <dt>${text('console.profile.created')}</dt><dd>${consoleTime(p.createdAt)}</dd>
  </dl>
</section>
<section class="card">
  <h2>${text('console.actions.title')}</h2>
  <p>${text(p.twoStep ? 'console.actions.twoStepIntro' : 'console.actions.intro')}</p>
  <div class="row-actions">
    ${actionForm(view, p.id, 'reset-link', text('console.actions.resetLink'))}
    ${actionForm(view, p.id, 'unlock', text('console.actions.unlock'))}
    ${actionForm(view, p.id, 'revoke-sessions', text('console.actions.revokeSessions'), { danger: true })}
  </div>
</section>
<section class="card">
  <h2>${text('console.profile.devices')}</h2>
  ${
    p.devices.length === 0
      ? html`<p>${text('console.none')}</p>`
      : html`<ul>${p.devices.map((d) => html`<li>${d.name} (${d.model}) · ${text(d.trusted ? 'console.trusted' : 'console.notTrusted')} · ${consoleTime(d.lastSeenAt)}</li>`)}</ul>`
  }
  <h2>${text('console.profile.phones')}</h2>
  ${
    p.phones.length === 0
      ? html`<p>${text('console.none')}</p>`
      : html`<ul>${p.phones.map((ph) => html`<li>${ph.number} · ${text(ph.verified ? 'console.trusted' : 'console.notTrusted')}</li>`)}</ul>`
  }
  <h2>${text('console.profile.securityKeys')}</h2>
  ${
    p.securityKeys.length === 0
      ? html`<p>${text('console.none')}</p>`
      : html`<ul>${p.securityKeys.map((k) => html`<li>${k.name}${k.passkey ? html` · ${text('console.passkey')}` : ''} · ${consoleTime(k.createdAt)} · ${consoleTime(k.lastUsedAt)}</li>`)}</ul>`
  }
  <p>${text('console.profile.authenticatorApps', { count: p.authenticatorApps })}</p>
  <h2>${text('console.profile.sessions')}</h2>
  ${
    p.sessions.length === 0
      ? html`<p>${text('console.none')}</p>`
      : html`<ul>${p.sessions.map((s) => html`<li>${consoleTime(s.createdAt)} – ${consoleTime(s.lastSeenAt)} · ${s.ip ?? ''} <span class="muted">${s.userAgent ?? ''}</span></li>`)}</ul>`
  }
</section>
<section class="card">
  <h2>${text('nav.activity')}</h2>
  <table class="activity">
    <thead><tr><th scope="col">${text('activity.what')}</th><th scope="col">${text('console.audit.actor')}</th><th scope="col">${text('activity.when')}</th><th scope="col">${text('activity.from')}</th></tr></thead>
    <tbody>${p.activity.map((e) => html`<tr><td>${eventLabel(view, e.event)}</td><td><code>${e.actor}</code></td><td>${consoleTime(e.at)}</td><td>${e.ip ?? ''}</td></tr>`)}</tbody>
  </table>
</section>`,
  );
}

/** SUPPORT_RESET_FORBIDDEN: what the agent reads to the customer (the two-of-three rule). */
export function refusalPage(request: FastifyRequest, reply: FastifyReply, accountId: string | undefined): string {
  const view = consoleView(request, reply);
  const { text } = view;
  return consoleLayout(
    request,
    view,
    text('console.refused.title'),
    html`<section class="card">
  <h1>${text('console.refused.title')}</h1>
  <div class="alert" role="alert">${text('error.SUPPORT_RESET_FORBIDDEN')} <code>SUPPORT_RESET_FORBIDDEN</code></div>
  <p>${text('console.refused.why')}</p>
  <h2>${text('console.refused.readOut')}</h2>
  <blockquote class="notice" data-read-out>
    <p>${text('console.refused.script1')}</p>
    <p>${text('console.refused.script2')}</p>
    <p>${text('console.refused.script3')}</p>
  </blockquote>
  <p class="muted">${text('console.refused.recorded')}</p>
  ${accountId ? html`<p><a href="/console/accounts/${accountId}">${text('console.back')}</a></p>` : ''}
</section>`,
  );
}

export function registerSupportPages(app: FastifyInstance, services: Services): void {
  const send = (reply: FastifyReply, body: string): FastifyReply => reply.type('text/html; charset=utf-8').send(body);

  app.get<{ Querystring: { q?: unknown } }>('/console/accounts', hidden, async (request, reply) => {
    requireStaff(request);
    const query = typeof request.query.q === 'string' ? request.query.q : '';
    try {
      const results = query.trim() ? await searchAccounts(services, query) : undefined;
      return send(reply, searchPage(request, reply, query.slice(0, 320), results));
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      return send(reply.status(error.status), searchPage(request, reply, '', undefined, error));
    }
  });

  app.get<{ Params: { id: string }; Querystring: { done?: unknown } }>(
    '/console/accounts/:id',
    hidden,
    async (request, reply) => {
      const staff = requireStaff(request);
      const profile = await accountProfile(services, staff, request.params.id, request.ctx);
      const done = DONE.find((d) => d === request.query.done);
      return send(reply, profilePage(request, reply, profile, done));
    },
  );

  const actions: {
    path: string;
    done: Done;
    run: (...args: Parameters<typeof unlockBySupport>) => Promise<unknown>;
  }[] = [
    { path: 'reset-link', done: 'reset_link', run: sendResetLinkBySupport },
    { path: 'unlock', done: 'unlock', run: unlockBySupport },
    { path: 'revoke-sessions', done: 'revoke_sessions', run: revokeSessionsBySupport },
  ];
  for (const action of actions) {
    app.post<{ Params: { id: string } }>(`/console/accounts/:id/${action.path}`, hidden, async (request, reply) => {
      readConsoleForm(request);
      const staff = requireStaff(request);
      try {
        await action.run(services, staff, request.params.id, request.ctx);
      } catch (error) {
        if (isAppError(error) && error.code === 'SUPPORT_RESET_FORBIDDEN')
          return send(reply.status(403), refusalPage(request, reply, request.params.id));
        throw error;
      }
      return reply.redirect(`/console/accounts/${encodeURIComponent(request.params.id)}?done=${action.done}`, 303);
    });
  }
}
