// The signed-in portal (SPEC §3.3): the account page with "Password & Security", recent activity,
// sessions, sign out. Every page here needs a live session; without one the browser goes to sign in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { changePassword, rename, updateProfile } from '../../flows/account-changes.ts';
import { type ActivityActor, recentActivity } from '../../flows/activity.ts';
import type { Services } from '../../flows/context.ts';
import {
  confirmDeviceVerification,
  type DeviceView,
  listDevices,
  removeDevice,
  startDeviceVerification,
} from '../../flows/devices.ts';
import { setNumberMatching } from '../../flows/number-matching.ts';
import { listPhones, type PhoneView } from '../../flows/phones.ts';
import { listSessions, revokeSession, signOut } from '../../flows/sessions.ts';
import { requireRecentTwoStep } from '../../flows/step-up.ts';
import { type TwoStepStatus, twoStepStatus } from '../../flows/two-step.ts';
import { en } from '../../text/en.ts';
import type { TextId } from '../../text/index.ts';
import { requireAuth } from '../request-context.ts';
import { clearSessionCookie } from '../session-cookie.ts';
import { countryOptions } from './country-options.ts';
import { field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, layout, noticeBox, type PageView, pageView } from './layout.ts';
import { errorText, shownOnPage } from './page-replies.ts';
import { strengthMeter } from './strength-meter.ts';

const hidden = { schema: { hide: true } };
const NOTICES: Record<string, TextId> = {
  name: 'account.saved.name',
  'birth-date': 'account.saved.birthDate',
  country: 'account.saved.country',
  'email-sent': 'account.changeEmail.sent',
  password: 'account.saved.password',
  revoked: 'account.sessions.revoked',
  'device-removed': 'account.devices.removedNotice',
  'two-step-off': 'account.twoStep.offNotice',
  'number-matching': 'account.numberMatching.saved',
  'phone-removed': 'account.phones.removedNotice',
  'recovery-key': 'account.recoveryKey.saved',
};

/**
 * Where a device verification started from, to go back there when it is done (the enrolment's
 * device step). Only a plain path under /account: never an open redirect.
 */
function returnPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/account(\/[\w-]+)*$/.test(value) ? value : undefined;
}

/** The forms of the account page, each re-rendered with its own error. */
type AccountForm = 'name' | 'birthDate' | 'country' | 'password';

/**
 * The hidden field that tells the step-up detour where to come back to (http/errors.ts): the form
 * itself, so that after the code the user is where they were. Read back through localReturnPath.
 */
function returnTo(path: string): Html {
  return html`<input type="hidden" name="return" value="${path}">`;
}

function formatTime(locale: string, date: Date): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

/** A calendar day (YYYY-MM-DD) the way the reader writes dates: "April 1, 1990", "1 april 1990". */
function formatDay(locale: string, day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

function describeBrowser(userAgent: string | null): string {
  if (!userAgent) return '—';
  const browser = /(Firefox|Edg|Chrome|Safari|curl)\/[\d.]+/.exec(userAgent)?.[1] ?? 'Browser';
  const system = /(Windows|Mac OS X|Android|iPhone|iPad|Linux)/.exec(userAgent)?.[1] ?? '';
  return `${browser === 'Edg' ? 'Edge' : browser}${system ? ` · ${system}` : ''}`;
}

async function accountPage(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  errors: Partial<Record<AccountForm, AppError>> = {},
): Promise<string> {
  const auth = request.auth;
  if (!auth) throw new Error('accountPage needs a session');
  const view = pageView(request, reply);
  const { text } = view;
  const { account } = auth;
  const query = request.query as Record<string, unknown>;
  const notice = NOTICES[String(query.saved ?? '')];
  const sessions = await listSessions(services, auth);
  const devices = await listDevices(services, account.id);
  // "…?trusted=<device id>" after a verification: the notice names the device.
  const trustedNow = devices.find((d) => d.trusted && d.id === query.trusted);
  const phones = await listPhones(services, account.id);
  // "…?phone=<phone id>" after a phone number was verified: the notice names the (masked) number.
  const phoneNow = phones.find((p) => p.verified && p.id === query.phone);
  const errorText = (error?: AppError): string | undefined =>
    error ? text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined;
  const country = new Intl.DisplayNames([view.locale], { type: 'region' }).of(account.country) ?? account.country;
  const min = services.config.policy.passwordMinLength;
  const twoStep = await twoStepStatus(services, account);
  return layout(
    request,
    view,
    text('account.title'),
    html`
<h1>${text('account.title')}</h1>
<p class="muted intro">${text('account.hello', { email: account.email })}</p>
${noticeBox(
  notice
    ? text(notice)
    : trustedNow
      ? text('account.devices.trustedNotice', { device: trustedNow.name })
      : phoneNow
        ? text('enrol.devices.phoneNotice', { number: phoneNow.number })
        : undefined,
)}
<section class="card" id="profile">
  <h2>${text('account.profile')}</h2>
  <dl class="facts">
    <dt>${text('field.name')}</dt><dd>${account.name}</dd>
    <dt>${text('field.email')}</dt><dd>${account.email} <a href="/account/email">${text('account.changeEmail.link')}</a></dd>
    <dt>${text('account.country')}</dt><dd>${country}</dd>
    <dt>${text('account.birthDate')}</dt><dd>${formatDay(view.locale, account.birth_date)}</dd>
  </dl>
  <h3>${text('account.changeName')}</h3>
  ${alertBox(errorText(errors.name))}
  <form method="post" action="/account/name">
    ${view.csrf}${returnTo('/account#profile')}
    <label for="name">${text('field.name')}</label>
    <input id="name" name="name" autocomplete="name" required maxlength="100" value="${account.name}">
    <button type="submit">${text('account.changeName.submit')}</button>
  </form>
  <h3 id="birth-date">${text('account.changeBirthDate')}</h3>
  ${alertBox(errorText(errors.birthDate))}
  <form method="post" action="/account/birth-date">
    ${view.csrf}${returnTo('/account#birth-date')}
    <label for="birthDate">${text('field.birthDate')}</label>
    <input id="birthDate" name="birthDate" type="date" required value="${account.birth_date}" aria-describedby="birth-hint">
    <p id="birth-hint" class="hint">${text('hint.birthDate')}</p>
    <button type="submit">${text('account.changeBirthDate.submit')}</button>
  </form>
  <h3 id="country-form">${text('account.changeCountry')}</h3>
  ${alertBox(errorText(errors.country))}
  <form method="post" action="/account/country">
    ${view.csrf}${returnTo('/account#country-form')}
    <label for="country">${text('field.country')}</label>
    <select id="country" name="country" required aria-describedby="country-hint">
      ${countryOptions(view, account.country)}
    </select>
    <p id="country-hint" class="hint">${text('account.changeCountry.note')}</p>
    <button type="submit">${text('account.changeCountry.submit')}</button>
  </form>
</section>
<section class="card" id="security">
  <h2>${text('account.security')}</h2>
  ${twoStepRow(view, twoStep)}
  <h3>${text('account.changePassword')}</h3>
  ${alertBox(errorText(errors.password))}
  <form method="post" action="/account/password">
    ${view.csrf}${returnTo('/account#security')}
    <input type="text" autocomplete="username" value="${account.email}" hidden readonly>
    <label for="currentPassword">${text('field.currentPassword')}</label>
    <input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
    <label for="newPassword">${text('field.newPassword')}</label>
    <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" data-strength-meter="newPassword-meter" data-strength-label="newPassword-strength" required minlength="${min}" aria-describedby="new-password-hint">
    <p id="new-password-hint" class="hint">${text('hint.password', { min })} ${text('account.changePassword.note')}</p>
    ${strengthMeter(view, 'newPassword')}
    <button type="submit">${text('account.changePassword.submit')}</button>
  </form>
  <h3>${text('account.sessions')}</h3>
  <ul class="sessions">
    ${sessions.map(
      (s) => html`<li>
        <span><strong>${s.current ? text('account.sessions.current') : describeBrowser(s.userAgent)}</strong>
        <span class="muted">${s.ip ?? ''} · ${text('account.sessions.lastSeen', { when: formatTime(view.locale, s.lastSeenAt) })}</span></span>
        <form method="post" action="/account/sessions/${s.id}/revoke" class="inline">${view.csrf}<button type="submit" class="secondary">${text('account.sessions.revoke')}</button></form>
      </li>`,
    )}
  </ul>
  <p><a href="/account/activity">${text('nav.activity')}</a></p>
  ${deviceList(view, devices)}
  ${phoneList(view, phones)}
  ${twoStep.enabled ? recoveryKeyRow(view) : ''}
  <h3 id="app-passwords">${text('account.appPasswords')}</h3>
  <p class="muted">${text('account.appPasswords.intro')}</p>
  <p><a href="/account/app-passwords">${text('account.appPasswords.manage')}</a></p>
  <h3 id="authenticators">${text('account.authenticators')}</h3>
  <p class="muted">${text('account.authenticators.intro')}</p>
  <p><a href="/account/authenticators">${text('account.authenticators.manage')}</a></p>
  <h3 id="security-keys">${text('account.securityKeys')}</h3>
  <p class="muted">${text('account.securityKeys.intro')}</p>
  <p><a href="/account/security-keys">${text('account.securityKeys.manage')}</a></p>
  <h3 id="number-matching">${text('account.numberMatching')}</h3>
  <p class="muted">${text('account.numberMatching.intro')}</p>
  ${
    services.config.policy.numberMatching
      ? html`<p>${text('account.numberMatching.deployment')}</p>`
      : html`<form method="post" action="/account/number-matching">
    ${view.csrf}${returnTo('/account#number-matching')}
    <input type="hidden" name="required" value="${account.number_matching ? 'no' : 'yes'}">
    <p>${text(account.number_matching ? 'account.numberMatching.on' : 'account.numberMatching.off')}</p>
    <button type="submit" class="secondary">${text(account.number_matching ? 'account.numberMatching.turnOff' : 'account.numberMatching.turnOn')}</button>
  </form>`
  }
</section>`,
  );
}

/** The two-step row of Password & Security: its state, and what can be done about it now. */
function twoStepRow(view: PageView, status: TwoStepStatus): Html {
  const { text } = view;
  const state = status.enabled
    ? text('account.twoStep.on')
    : status.available
      ? text('account.twoStep.off')
      : text('account.twoStep.unavailable');
  let action: Html = html``;
  if (status.enabled)
    action = html`<p class="row-actions"><a href="/account/two-step">${text('account.twoStep.manage')}</a> <a class="button secondary" href="/account/two-step/disable">${text('account.twoStep.turnOff')}</a></p>`;
  else if (status.available && status.waitingUntil)
    action = html`<p class="muted">${text('account.twoStep.waiting', { when: formatDate(view.locale, status.waitingUntil) })}</p>`;
  else if (status.available)
    action = html`<p class="muted">${text('account.twoStep.pitch')}</p><p><a class="button" href="/account/two-step">${text('account.twoStep.getStarted')}</a></p>`;
  return html`<dl class="facts two-step-state"><dt>${text('account.twoStep')}</dt><dd><span class="badge ${status.enabled ? 'ok' : 'off'}">${state}</span></dd></dl>
  ${action}`;
}

function formatDate(locale: string, date: Date): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

/** "Trusted devices" in Password & Security: each device with its state, Verify for new ones, Remove. */
function deviceList(view: PageView, devices: DeviceView[]): Html {
  const { text } = view;
  return html`<h3 id="devices">${text('account.devices')}</h3>
  <p class="muted">${text('account.devices.intro')}</p>
  ${
    devices.length === 0
      ? html`<p>${text('account.devices.none')}</p>`
      : html`<ul class="devices">${devices.map(
          (d) => html`<li>
        <span class="device-facts">
          <strong>${d.name}</strong>
          <span class="muted">${d.model}</span>
          <span class="muted">${text('account.devices.paired', { when: formatTime(view.locale, d.pairedAt) })} · ${
            d.lastSeenAt
              ? text('account.devices.lastSeen', { when: formatTime(view.locale, d.lastSeenAt) })
              : text('account.devices.neverSeen')
          }</span>
        </span>
        <span class="badge ${d.trusted ? 'ok' : 'pending'}">${d.trusted ? text('account.devices.trusted') : text('account.devices.notVerified')}</span>
        <span class="actions">
          ${
            d.trusted
              ? ''
              : html`<form method="post" action="/account/devices/${d.id}/verify" class="inline">${view.csrf}<button type="submit" aria-label="${text('account.devices.verify')}: ${d.name}">${text('account.devices.verify')}</button></form>`
          }
          <a class="button secondary" href="/account/devices/${d.id}/remove" aria-label="${text('account.devices.remove')}: ${d.name}">${text('account.devices.remove')}</a>
        </span>
      </li>`,
        )}</ul>`
  }
  <p><a href="/device">${text('account.devices.useThisBrowser')}</a></p>`;
}

/** "Trusted phone numbers" in Password & Security: each number (masked) with its state and Remove; Add. */
function phoneList(view: PageView, phones: PhoneView[]): Html {
  const { text } = view;
  return html`<h3 id="phones">${text('account.phones')}</h3>
  <p class="muted">${text('account.phones.intro')}</p>
  ${
    phones.length === 0
      ? html`<p>${text('account.phones.none')}</p>`
      : html`<ul class="devices">${phones.map(
          (p) => html`<li>
        <span class="device-facts"><strong>${p.number}</strong><span class="muted">${text('enrol.devices.phoneAdded', { when: formatTime(view.locale, p.addedAt) })}</span></span>
        <span class="badge ${p.verified ? 'ok' : 'pending'}">${p.verified ? text('enrol.devices.phoneVerified') : text('enrol.devices.phoneNotVerified')}</span>
        <span class="actions"><a class="button secondary" href="/account/phones/${p.id}/remove" aria-label="${text('account.devices.remove')}: ${p.number}">${text('account.devices.remove')}</a></span>
      </li>`,
        )}</ul>`
  }
  <p><a href="/account/phones">${text('account.phones.add')}</a></p>`;
}

/** The recovery key of a two-step account: never shown again, only replaced. */
function recoveryKeyRow(view: PageView): Html {
  const { text } = view;
  return html`<h3 id="recovery-key">${text('account.recoveryKey')}</h3>
  <p class="muted">${text('account.recoveryKey.intro')}</p>
  <p><a class="button secondary" href="/account/recovery-key">${text('account.recoveryKey.replace')}</a></p>`;
}

async function ownDeviceView(services: Services, accountId: string, deviceId: string): Promise<DeviceView> {
  const device = (await listDevices(services, accountId)).find((d) => d.id === deviceId);
  if (!device) throw new AppError('NOT_FOUND');
  return device;
}

/** "Enter the code shown on <device>": the code pushed to the device, typed back here. */
function verifyDevicePage(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  device: DeviceView,
  challengeId: string,
  error?: AppError,
  returnTo?: string,
): string {
  const view = pageView(request, reply);
  const { text } = view;
  const title = text('deviceVerify.title', { device: device.name });
  const returnField = returnTo ? html`<input type="hidden" name="return" value="${returnTo}">` : '';
  const message = error ? text(`error.${error.code}`, { seconds: error.retryAfterSeconds ?? 0 }) : undefined;
  return layout(
    request,
    view,
    title,
    html`
<section class="card">
  <h1>${title}</h1>
  <p>${text('deviceVerify.body', { device: device.name, minutes: services.config.policy.codeLifetimeMinutes })}</p>
  ${alertBox(message)}
  <form method="post" action="/account/devices/${device.id}/verify/${challengeId}">
    ${view.csrf}${returnField}
    <label for="code">${text('field.code')}</label>
    <input id="code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" autofocus>
    <button type="submit">${text('deviceVerify.submit')}</button>
  </form>
  <form method="post" action="/account/devices/${device.id}/verify" class="inline">
    ${view.csrf}${returnField}<button type="submit" class="secondary">${text('deviceVerify.resend')}</button>
  </form>
  <p>${
    returnTo
      ? html`<a href="${returnTo}">${text('deviceVerify.backToSetup')}</a>`
      : html`<a href="/account#devices">${text('deviceVerify.back')}</a>`
  }</p>
</section>`,
  );
}

function removeDevicePage(request: FastifyRequest, reply: FastifyReply, device: DeviceView, error?: AppError): string {
  const view = pageView(request, reply);
  const { text } = view;
  const title = text('deviceRemove.title', { device: device.name });
  return layout(
    request,
    view,
    title,
    html`
<section class="card">
  <h1>${title}</h1>
  <p>${text('deviceRemove.body')}</p>
  ${alertBox(errorText(view, error))}
  <form method="post" action="/account/devices/${device.id}/remove">
    ${view.csrf}${returnTo(`/account/devices/${device.id}/remove`)}
    <button type="submit" class="danger">${text('deviceRemove.submit')}</button>
  </form>
  <p><a href="/account#devices">${text('deviceVerify.back')}</a></p>
</section>`,
  );
}

async function activityPage(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<string> {
  const auth = request.auth;
  if (!auth) throw new Error('activityPage needs a session');
  const view = pageView(request, reply);
  const { text } = view;
  const events = await recentActivity(services, auth, { limit: 100 });
  const label = (event: string): string => {
    const id = `event.${event}` as TextId;
    return Object.hasOwn(en, id) ? text(id) : event;
  };
  const by = (actor: ActivityActor): string =>
    actor.kind === 'staff' ? text('activity.by.staff', { name: actor.name }) : text(`activity.by.${actor.kind}`);
  return layout(
    request,
    view,
    text('activity.title'),
    html`
<h1>${text('activity.title')}</h1>
<section class="card">
  ${
    events.length === 0
      ? html`<p>${text('activity.empty')}</p>`
      : html`
  <table class="activity">
    <thead><tr><th scope="col">${text('activity.what')}</th><th scope="col">${text('activity.by')}</th><th scope="col">${text('activity.when')}</th><th scope="col">${text('activity.from')}</th></tr></thead>
    <tbody>${events.map(
      (e) =>
        html`<tr><td>${label(e.event)}</td><td>${by(e.by)}</td><td><time datetime="${e.at.toISOString()}">${formatTime(view.locale, e.at)}</time></td><td>${e.ip ?? ''} <span class="muted">${describeBrowser(e.userAgent)}</span></td></tr>`,
    )}</tbody>
  </table>`
  }
</section>`,
  );
}

/** A user-facing failure re-renders the account page with the message beside the form that failed. */
async function renderWithError(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  error: unknown,
  form: AccountForm,
): Promise<FastifyReply> {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED' || error.status >= 500)
    throw error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  const page = await accountPage(request, reply, services, { [form]: error });
  return reply.status(error.status).type('text/html; charset=utf-8').send(page);
}

export function registerAccountPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    // Pages for signed-in users only: anyone else is sent to sign in.
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    scope.get('/account', hidden, async (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(await accountPage(request, reply, services)),
    );
    scope.get('/account/activity', hidden, async (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(await activityPage(request, reply, services)),
    );

    // A protected change: a stale verification goes through step-up and comes back here (http/errors.ts).
    scope.post('/account/number-matching', hidden, async (request, reply) => {
      const form = readForm(request);
      await setNumberMatching(services, requireAuth(request), field(form, 'required') === 'yes', request.ctx);
      return redirect(reply, '/account?saved=number-matching#number-matching');
    });

    scope.post('/account/name', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await rename(services, auth, field(form, 'name'), request.ctx);
      } catch (error) {
        return renderWithError(request, reply, services, error, 'name');
      }
      return redirect(reply, '/account?saved=name#profile');
    });

    scope.post('/account/birth-date', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await updateProfile(services, auth, { birthDate: field(form, 'birthDate') }, request.ctx);
      } catch (error) {
        return renderWithError(request, reply, services, error, 'birthDate');
      }
      return redirect(reply, '/account?saved=birth-date#birth-date');
    });

    scope.post('/account/country', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await updateProfile(services, auth, { country: field(form, 'country') }, request.ctx);
      } catch (error) {
        return renderWithError(request, reply, services, error, 'country');
      }
      return redirect(reply, '/account?saved=country#country-form');
    });

    scope.post('/account/password', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await changePassword(
          services,
          auth,
          { currentPassword: field(form, 'currentPassword'), newPassword: field(form, 'newPassword') },
          request.ctx,
        );
      } catch (error) {
        return renderWithError(request, reply, services, error, 'password');
      }
      return redirect(reply, '/account?saved=password#security');
    });

    const html200 = (reply: FastifyReply, page: string): FastifyReply =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
    const param = (request: FastifyRequest, name: string): string =>
      String((request.params as Record<string, unknown>)[name] ?? '');

    scope.post('/account/devices/:id/verify', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const device = await ownDeviceView(services, auth.account.id, param(request, 'id'));
      const challenge = await startDeviceVerification(services, auth, device.id, request.ctx);
      const back = returnPath(field(form, 'return'));
      return redirect(
        reply,
        `/account/devices/${encodeURIComponent(device.id)}/verify/${challenge.id}${back ? `?return=${encodeURIComponent(back)}` : ''}`,
      );
    });

    scope.get('/account/devices/:id/verify/:challenge', hidden, async (request, reply) => {
      const device = await ownDeviceView(services, requireAuth(request).account.id, param(request, 'id'));
      const back = returnPath((request.query as Record<string, unknown>).return);
      return html200(
        reply,
        verifyDevicePage(request, reply, services, device, param(request, 'challenge'), undefined, back),
      );
    });

    scope.post('/account/devices/:id/verify/:challenge', hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const device = await ownDeviceView(services, auth.account.id, param(request, 'id'));
      const challengeId = param(request, 'challenge');
      const back = returnPath(field(form, 'return'));
      let trusted: DeviceView;
      try {
        trusted = await confirmDeviceVerification(services, auth, challengeId, field(form, 'code'), request.ctx);
      } catch (error) {
        if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.status >= 500) throw error;
        if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
        // A challenge that is gone reads as "this verification is over", not as a missing page.
        const shown = error.code === 'NOT_FOUND' ? new AppError('CHALLENGE_CLOSED') : error;
        return html200(
          reply.status(shown.status),
          verifyDevicePage(request, reply, services, device, challengeId, shown, back),
        );
      }
      if (back) return redirect(reply, `${back}?trusted=${encodeURIComponent(trusted.id)}`);
      return redirect(reply, `/account?trusted=${encodeURIComponent(trusted.id)}#devices`);
    });

    scope.get('/account/devices/:id/remove', hidden, async (request, reply) => {
      const device = await ownDeviceView(services, requireAuth(request).account.id, param(request, 'id'));
      return html200(reply, removeDevicePage(request, reply, device));
    });

    scope.post('/account/devices/:id/remove', hidden, async (request, reply) => {
      readForm(request);
      const auth = requireAuth(request);
      requireRecentTwoStep(services, auth);
      const device = await ownDeviceView(services, auth.account.id, param(request, 'id'));
      try {
        await removeDevice(services, auth.account, device.id, request.ctx);
      } catch (error) {
        // TWO_STEP_LAST_FACTOR: the page says to add another way to get codes first.
        const shown = shownOnPage(error);
        return html200(reply.status(shown.status), removeDevicePage(request, reply, device, shown));
      }
      return redirect(reply, '/account?saved=device-removed#devices');
    });

    scope.post('/account/sessions/:id/revoke', hidden, async (request, reply) => {
      readForm(request);
      const auth = requireAuth(request);
      const id = String((request.params as Record<string, unknown>).id);
      await revokeSession(services, auth, id, request.ctx);
      if (id === auth.session.id) {
        clearSessionCookie(reply, services.config);
        return redirect(reply, '/signin');
      }
      return redirect(reply, '/account?saved=revoked#security');
    });
  });

  app.post('/signout', hidden, async (request, reply) => {
    readForm(request);
    if (request.auth) await signOut(services, request.auth, request.ctx);
    clearSessionCookie(reply, services.config);
    return redirect(reply, '/signin');
  });
}
