// Admin pages of the console (SPEC §3.15–3.16): the rollout by country (the same flow as
// `twostep rollout`), relying services (as `twostep services`), staff and roles, and the effective
// configuration with secrets masked. Every change is audited with the admin as actor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeConfig } from '../../config.ts';
import { AppError } from '../../core/errors.ts';
import { presets } from '../../core/rollout.ts';
import type { Services } from '../../flows/context.ts';
import { applyRolloutPreset, listRollout, setCountryFlags } from '../../flows/rollout.ts';
import { listServices, registerService, removeService } from '../../flows/services.ts';
import {
  changeStaffRole,
  createStaff,
  disableStaff,
  isStaffRole,
  listStaff,
} from '../../flows/staff/staff-accounts.ts';
import { membersWithSecondStep } from '../../flows/staff/staff-second-steps.ts';
import { staffActor } from '../../flows/staff/staff-sessions.ts';
import type { TextId } from '../../text/index.ts';
import { type Html, html } from '../pages/html.ts';
import { type ConsoleView, consoleLayout, consoleNotice, consoleTime, consoleView } from './layout.ts';
import { readConsoleForm, requireStaff } from './staff-auth.ts';

const hidden = { schema: { hide: true } };

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

function onOff(value: string, name: string): boolean | undefined {
  if (value === '') return undefined;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new AppError('VALIDATION_FAILED', { detail: { field: name } });
}

function yesNo(view: ConsoleView, value: boolean): string {
  return view.text(value ? 'console.yes' : 'console.no');
}

function choice(name: string, view: ConsoleView): Html {
  return html`<select id="${name}" name="${name}"><option value="">${view.text('console.rollout.unchanged')}</option><option value="on">${view.text('console.rollout.on')}</option><option value="off">${view.text('console.rollout.off')}</option></select>`;
}

export function registerAdminPages(app: FastifyInstance, services: Services): void {
  const send = (reply: FastifyReply, body: string): FastifyReply => reply.type('text/html; charset=utf-8').send(body);
  const page = (request: FastifyRequest, reply: FastifyReply, title: TextId, body: (view: ConsoleView) => Html) => {
    const view = consoleView(request, reply);
    return send(reply, consoleLayout(request, view, view.text(title), body(view)));
  };

  // --- rollout -------------------------------------------------------------------------------------
  app.get<{ Querystring: { done?: unknown } }>('/console/admin/rollout', hidden, async (request, reply) => {
    requireStaff(request, 'admin');
    const states = await listRollout(services);
    const done = request.query.done === '1';
    return page(request, reply, 'console.rollout.title', (view) => {
      const { text } = view;
      return html`<section class="card">
  <h1>${text('console.rollout.title')}</h1>
  ${consoleNotice(done ? text('console.saved') : undefined)}
  <form method="post" action="/console/admin/rollout">
    ${view.csrf}
    <label for="country">${text('field.country')}</label>
    <input id="country" name="country" maxlength="2" required placeholder="NL">
    <label for="twoStep">${text('console.rollout.twoStep')}</label>${choice('twoStep', view)}
    <label for="sms">${text('console.rollout.sms')}</label>${choice('sms', view)}
    <button type="submit">${text('console.save')}</button>
  </form>
  <form method="post" action="/console/admin/rollout/preset">
    ${view.csrf}
    <label for="preset">${text('console.rollout.preset')}</label>
    <select id="preset" name="preset">${Object.keys(presets).map((p) => html`<option>${p}</option>`)}</select>
    <button type="submit" class="secondary">${text('console.rollout.applyPreset')}</button>
  </form>
  <table class="activity">
    <thead><tr><th scope="col">${text('field.country')}</th><th scope="col">${text('console.rollout.twoStep')}</th><th scope="col">${text('console.rollout.sms')}</th><th scope="col">${text('console.rollout.wave')}</th></tr></thead>
    <tbody>${states.map((s) => html`<tr><td>${s.country}</td><td>${yesNo(view, s.twoStep)}</td><td>${yesNo(view, s.sms)}</td><td>${s.wave ?? ''}</td></tr>`)}</tbody>
  </table>
</section>`;
    });
  });

  app.post('/console/admin/rollout', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    const twoStep = onOff(field(form, 'twoStep'), 'twoStep');
    const sms = onOff(field(form, 'sms'), 'sms');
    await setCountryFlags(
      services,
      field(form, 'country'),
      { ...(twoStep === undefined ? {} : { twoStep }), ...(sms === undefined ? {} : { sms }) },
      staffActor(staff.member),
    );
    return reply.redirect('/console/admin/rollout?done=1', 303);
  });

  app.post('/console/admin/rollout/preset', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    await applyRolloutPreset(services, field(form, 'preset'), staffActor(staff.member));
    return reply.redirect('/console/admin/rollout?done=1', 303);
  });

  // --- relying services ----------------------------------------------------------------------------
  /** One URI per line (or space); at most 20, like the stored list. */
  const uriList = (raw: string): string[] => raw.split(/\s+/).filter(Boolean).slice(0, 20);
  const servicesPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    created?: { clientId: string; secret?: string },
  ) => {
    const list = await listServices(services);
    return page(request, reply, 'console.services.title', (view) => {
      const { text } = view;
      return html`<section class="card">
  <h1>${text('console.services.title')}</h1>
  ${
    created
      ? html`<div class="notice" role="status"><p>${text('console.services.created')} <code data-client-id>${created.clientId}</code></p>${
          created.secret
            ? html`<p>${text('console.services.secret')} <code data-client-secret>${created.secret}</code></p>`
            : ''
        }</div>`
      : ''
  }
  <table class="activity">
    <thead><tr><th scope="col">${text('field.name')}</th><th scope="col">client_id</th><th scope="col">${text('console.services.kind')}</th><th scope="col">${text('console.services.redirects')}</th><th scope="col">${text('console.services.postLogoutRedirects')}</th><th scope="col"></th></tr></thead>
    <tbody>${list.map(
      (s) =>
        html`<tr><td>${s.name}</td><td><code>${s.id}</code></td><td>${s.kind}</td><td>${s.redirectUris.join(' ')}</td><td>${s.postLogoutRedirectUris.join(' ')}</td><td><form method="post" action="/console/admin/services/${s.id}/remove" class="inline">${view.csrf}<button type="submit" class="danger">${text('console.remove')}</button></form></td></tr>`,
    )}</tbody>
  </table>
  <h2>${text('console.services.add')}</h2>
  <form method="post" action="/console/admin/services">
    ${view.csrf}
    <label for="name">${text('field.name')}</label>
    <input id="name" name="name" maxlength="100" required>
    <label for="redirectUris">${text('console.services.redirects')}</label>
    <textarea id="redirectUris" name="redirectUris" rows="2" required></textarea>
    <label for="postLogoutRedirectUris">${text('console.services.postLogoutRedirects')}</label>
    <textarea id="postLogoutRedirectUris" name="postLogoutRedirectUris" rows="2"></textarea>
    <label class="checkbox"><input type="checkbox" name="public" value="1"> ${text('console.services.public')}</label>
    <button type="submit">${text('console.services.add')}</button>
  </form>
</section>`;
    });
  };

  app.get('/console/admin/services', hidden, async (request, reply) => {
    requireStaff(request, 'admin');
    return servicesPage(request, reply);
  });

  app.post('/console/admin/services', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    const { service, clientSecret } = await registerService(
      services,
      {
        name: field(form, 'name'),
        kind: field(form, 'public') === '1' ? 'public' : 'confidential',
        redirectUris: uriList(field(form, 'redirectUris')),
        // Optional, and checked like the CLI's --post-logout-redirect-uri (flows/services.ts).
        postLogoutRedirectUris: uriList(field(form, 'postLogoutRedirectUris')),
      },
      staffActor(staff.member),
    );
    return servicesPage(request, reply, { clientId: service.id, ...(clientSecret ? { secret: clientSecret } : {}) });
  });

  app.post<{ Params: { id: string } }>('/console/admin/services/:id/remove', hidden, async (request, reply) => {
    readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    await removeService(services, request.params.id, staffActor(staff.member));
    return reply.redirect('/console/admin/services', 303);
  });

  // --- staff ----------------------------------------------------------------------------------------
  const staffPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    created?: { email: string; password: string },
  ) => {
    const members = await listStaff(services);
    const ready = await membersWithSecondStep(services, members);
    const me = request.staff?.member.id;
    return page(request, reply, 'console.staff.title', (view) => {
      const { text } = view;
      const roleSelect = (name: string, selected: string): Html =>
        html`<select name="${name}" aria-label="${text('console.staff.role')}"><option value="support"${selected === 'support' ? html` selected` : ''}>${text('console.role.support')}</option><option value="admin"${selected === 'admin' ? html` selected` : ''}>${text('console.role.admin')}</option></select>`;
      return html`<section class="card">
  <h1>${text('console.staff.title')}</h1>
  ${
    created
      ? html`<div class="notice" role="status"><p>${text('console.staff.created', { email: created.email })}</p><p><code data-password>${created.password}</code></p><p>${text('console.staff.createdNext')}</p></div>`
      : ''
  }
  <table class="activity">
    <thead><tr><th scope="col">${text('field.email')}</th><th scope="col">${text('field.name')}</th><th scope="col">${text('console.staff.role')}</th><th scope="col">${text('console.staff.twoStep')}</th><th scope="col">${text('console.staff.since')}</th><th scope="col"></th></tr></thead>
    <tbody>${members.map(
      (m) =>
        html`<tr><td>${m.email}</td><td>${m.name}</td><td>${
          m.disabled_at
            ? text('console.staff.disabled')
            : html`<form method="post" action="/console/admin/staff/${m.id}/role" class="inline">${view.csrf}${roleSelect('role', m.role)} <button type="submit" class="secondary">${text('console.save')}</button></form>`
        }</td><td>${yesNo(view, ready.has(m.id))}</td><td>${consoleTime(m.created_at)}</td><td>${
          m.disabled_at || m.id === me
            ? ''
            : html`<form method="post" action="/console/admin/staff/${m.id}/disable" class="inline">${view.csrf}<button type="submit" class="danger">${text('console.staff.disable')}</button></form>`
        }</td></tr>`,
    )}</tbody>
  </table>
  <h2>${text('console.staff.add')}</h2>
  <form method="post" action="/console/admin/staff">
    ${view.csrf}
    <label for="email">${text('field.email')}</label>
    <input id="email" name="email" type="email" required maxlength="254">
    <label for="name">${text('field.name')}</label>
    <input id="name" name="name" required maxlength="100">
    <label for="role">${text('console.staff.role')}</label>
    <select id="role" name="role"><option value="support">${text('console.role.support')}</option><option value="admin">${text('console.role.admin')}</option></select>
    <button type="submit">${text('console.staff.add')}</button>
  </form>
</section>`;
    });
  };

  app.get('/console/admin/staff', hidden, async (request, reply) => {
    requireStaff(request, 'admin');
    return staffPage(request, reply);
  });

  app.post('/console/admin/staff', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    const role = field(form, 'role');
    if (!isStaffRole(role)) throw new AppError('VALIDATION_FAILED', { detail: { field: 'role' } });
    const created = await createStaff(
      services,
      { email: field(form, 'email'), name: field(form, 'name'), role },
      staffActor(staff.member),
    );
    return staffPage(request, reply, { email: created.member.email, password: created.password });
  });

  app.post<{ Params: { id: string } }>('/console/admin/staff/:id/role', hidden, async (request, reply) => {
    const form = readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    const role = field(form, 'role');
    if (!isStaffRole(role)) throw new AppError('VALIDATION_FAILED', { detail: { field: 'role' } });
    await changeStaffRole(services, request.params.id, role, staffActor(staff.member));
    return reply.redirect('/console/admin/staff', 303);
  });

  app.post<{ Params: { id: string } }>('/console/admin/staff/:id/disable', hidden, async (request, reply) => {
    readConsoleForm(request);
    const staff = requireStaff(request, 'admin');
    await disableStaff(services, request.params.id, staffActor(staff.member));
    return reply.redirect('/console/admin/staff', 303);
  });

  // --- policy ----------------------------------------------------------------------------------------
  app.get('/console/admin/policy', hidden, async (request, reply) => {
    requireStaff(request, 'admin');
    const rows = describeConfig(services.config);
    return page(
      request,
      reply,
      'console.policy.title',
      (view) => html`<section class="card">
  <h1>${view.text('console.policy.title')}</h1>
  <p>${view.text('console.policy.intro')}</p>
  <table class="activity">
    <thead><tr><th scope="col">${view.text('console.policy.setting')}</th><th scope="col">${view.text('console.policy.value')}</th><th scope="col"></th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><td><code>${r.env}</code></td><td><code>${r.value}</code></td><td class="muted">${r.description}</td></tr>`)}</tbody>
  </table>
</section>`,
    );
  });
}
