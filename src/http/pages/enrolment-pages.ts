// Turning two-step verification on and off in the portal (SPEC §3.4, §3.12), the way Apple's
// "My Apple ID" did it in 2013 (reference/apple-2sv.md §1): three explanation screens, then trusted
// devices and phone numbers, the recovery key shown once (printable, downloadable) and typed back,
// the acknowledgement of the conditions, done. Every step is a server-rendered page; nothing needs
// JavaScript. The flows in src/flows/ decide; these pages only show and ask.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { normalizeRecoveryKey } from '../../core/recovery-key.ts';
import type { Services } from '../../flows/context.ts';
import { type DeviceView, listDevices } from '../../flows/devices.ts';
import { addPhone, confirmPhone, listPhones, type PhoneView, phoneOfChallenge } from '../../flows/phones.ts';
import type { AuthenticatedSession } from '../../flows/sessions.ts';
import { hasRecentTwoStep } from '../../flows/step-up.ts';
import {
  confirmRecoveryKey,
  createRecoveryKey,
  disableTwoStep,
  enableTwoStep,
  type TwoStepStatus,
  twoStepStatus,
} from '../../flows/two-step.ts';
import type { TextId } from '../../text/index.ts';
import { requireAuth } from '../request-context.ts';
import { field, readForm, redirect } from './forms.ts';
import { type Html, html } from './html.ts';
import { alertBox, layout, noticeBox, type PageView, pageView } from './layout.ts';

const hidden = { schema: { hide: true } };
const BASE = '/account/two-step';

/** The enrolment's stages, shown as a progress list on every step. */
const STAGES = [
  { id: 'about', label: 'enrol.step.about' },
  { id: 'devices', label: 'enrol.step.devices' },
  { id: 'key', label: 'enrol.step.key' },
  { id: 'confirm', label: 'enrol.step.confirm' },
  { id: 'enable', label: 'enrol.step.enable' },
] as const satisfies readonly { id: string; label: TextId }[];
type Stage = (typeof STAGES)[number]['id'];

/** The three explanation screens, in order (Apple showed three before "Get Started"). */
const SCREENS = [`${BASE}`, `${BASE}/two-of-three`, `${BASE}/legacy-apps`] as const;

export function formatMoment(locale: string, date: Date): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

function errorMessage(view: PageView, error: AppError | undefined, services: Services): string | undefined {
  return error
    ? view.text(`error.${error.code}`, {
        seconds: error.retryAfterSeconds ?? 0,
        days: services.config.policy.waitingPeriodDays,
      })
    : undefined;
}

/** A user-facing failure to show on the page; CSRF, step-up and unexpected errors go to the global handler. */
function shownError(reply: FastifyReply, error: unknown): AppError {
  if (!isAppError(error) || error.code === 'CSRF_REJECTED' || error.code === 'STEP_UP_REQUIRED' || error.status >= 500)
    throw error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.status(error.status);
  return error;
}

function progress(view: PageView, current: Stage): Html {
  const index = STAGES.findIndex((s) => s.id === current);
  return html`<ol class="steps" aria-label="${view.text('enrol.progress')}">${STAGES.map(
    (stage, i) =>
      html`<li class="${i < index ? 'done' : i === index ? 'current' : ''}"${i === index ? html` aria-current="step"` : ''}><span class="step-number">${i + 1}</span> <span class="step-label">${view.text(stage.label)}</span></li>`,
  )}</ol>`;
}

function send(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

interface Step {
  stage: Stage;
  title: string;
  body: Html;
}

function stepPage(request: FastifyRequest, view: PageView, step: Step): string {
  return layout(
    request,
    view,
    step.title,
    html`
${progress(view, step.stage)}
<section class="card enrol">
  <h1>${step.title}</h1>
  ${step.body}
</section>`,
  );
}

function continueLink(href: string, label: string): Html {
  return html`<a class="button" href="${href}">${label}</a>`;
}

function stepNav(view: PageView, back: string | undefined, next: Html): Html {
  return html`<div class="step-nav">${next}${back ? html`<a class="button secondary" href="${back}">${view.text('enrol.back')}</a>` : ''}</div>`;
}

// ---- the explanation screens --------------------------------------------------------------------

function aboutBody(view: PageView): Html {
  const { text } = view;
  return html`
  <p class="screen-count muted">${text('enrol.screen', { n: 1, total: SCREENS.length })}</p>
  <p class="lead">${text('enrol.about.lead')}</p>
  <p>${text('enrol.about.how')}</p>
  <p>${text('enrol.about.changes')}</p>
  <p>${text('enrol.about.need')}</p>
  <ul class="ticks">
    <li>${text('enrol.about.needDevice')}</li>
    <li>${text('enrol.about.needPaper')}</li>
  </ul>
  ${stepNav(view, undefined, continueLink(SCREENS[1], text('enrol.continue')))}
  <p><a href="/account#security">${text('enrol.cancel')}</a></p>`;
}

function ruleBody(view: PageView): Html {
  const { text } = view;
  return html`
  <p class="screen-count muted">${text('enrol.screen', { n: 2, total: SCREENS.length })}</p>
  <p class="lead">${text('enrol.rule.lead')}</p>
  <ol class="three">
    <li><strong>${text('enrol.rule.password')}</strong> ${text('enrol.rule.passwordBody')}</li>
    <li><strong>${text('enrol.rule.device')}</strong> ${text('enrol.rule.deviceBody')}</li>
    <li><strong>${text('enrol.rule.key')}</strong> ${text('enrol.rule.keyBody')}</li>
  </ol>
  <p>${text('enrol.rule.two')}</p>
  <p class="warning">${text('enrol.rule.fewer')}</p>
  <p class="warning">${text('enrol.rule.support')}</p>
  ${stepNav(view, SCREENS[0], continueLink(SCREENS[2], text('enrol.continue')))}`;
}

function legacyBody(view: PageView): Html {
  const { text } = view;
  return html`
  <p class="screen-count muted">${text('enrol.screen', { n: 3, total: SCREENS.length })}</p>
  <p class="lead">${text('enrol.legacy.lead')}</p>
  <p>${text('enrol.legacy.body')}</p>
  <p>${text('enrol.legacy.ready')}</p>
  ${stepNav(view, SCREENS[1], continueLink(`${BASE}/devices`, text('enrol.getStarted')))}`;
}

/** What /account/two-step says when enrolment cannot start: on already, not in this country, or waiting. */
function statusBody(view: PageView, services: Services, status: TwoStepStatus): Html | undefined {
  const { text } = view;
  if (status.enabled)
    return html`
  <p class="lead">${text('enrol.on.body', { devices: status.trustedDevices, phones: status.verifiedPhones })}</p>
  <ul>
    <li><a href="/account/phones">${text('account.phones.add')}</a></li>
    <li><a href="/account/recovery-key">${text('account.recoveryKey.replace')}</a></li>
  </ul>
  <p><a class="button danger" href="${BASE}/disable">${text('enrol.on.turnOff')}</a></p>
  <p><a href="/account#security">${text('enrol.done.back')}</a></p>`;
  if (!status.available)
    return html`<p class="lead">${text('enrol.unavailable.body')}</p><p><a href="/account#security">${text('enrol.done.back')}</a></p>`;
  if (status.waitingUntil)
    return html`<p class="lead">${text('enrol.waiting.body', {
      days: services.config.policy.waitingPeriodDays,
      when: formatMoment(view.locale, status.waitingUntil),
    })}</p><p><a href="/account#security">${text('enrol.done.back')}</a></p>`;
  return undefined;
}

// ---- devices and phones -------------------------------------------------------------------------

function devicesBody(
  view: PageView,
  services: Services,
  devices: DeviceView[],
  phones: PhoneView[],
  status: TwoStepStatus,
  options: { error?: AppError | undefined; notice?: string | undefined; number?: string },
): Html {
  const { text } = view;
  const verified = status.trustedDevices + status.verifiedPhones + status.authenticators;
  const deviceUrl = `${services.config.publicUrl.replace(/\/$/, '')}/device`;
  const deviceRows = devices.map(
    (d) => html`<li>
      <span class="device-facts"><strong>${d.name}</strong><span class="muted">${d.model}</span></span>
      <span class="badge ${d.trusted ? 'ok' : 'pending'}">${d.trusted ? text('account.devices.trusted') : text('account.devices.notVerified')}</span>
      ${
        d.trusted
          ? ''
          : html`<span class="actions"><form method="post" action="/account/devices/${d.id}/verify" class="inline">${view.csrf}<input type="hidden" name="return" value="${BASE}/devices"><button type="submit" aria-label="${text('account.devices.verify')}: ${d.name}">${text('account.devices.verify')}</button></form></span>`
      }
    </li>`,
  );
  const phoneRows = phones.map(
    (p) => html`<li>
      <span class="device-facts"><strong>${p.number}</strong><span class="muted">${text('enrol.devices.phoneAdded', { when: formatMoment(view.locale, p.addedAt) })}</span></span>
      <span class="badge ${p.verified ? 'ok' : 'pending'}">${p.verified ? text('enrol.devices.phoneVerified') : text('enrol.devices.phoneNotVerified')}</span>
    </li>`,
  );
  const phoneForm = status.smsAvailable
    ? html`
  <h3>${text('enrol.devices.addPhone')}</h3>
  ${alertBox(errorMessage(view, options.error, services))}
  <form method="post" action="${BASE}/phones" class="add-phone">
    ${view.csrf}
    <label for="phone">${text('field.phone')}</label>
    <input id="phone" name="number" type="tel" autocomplete="tel" inputmode="tel" required maxlength="40" value="${options.number ?? ''}" aria-describedby="phone-hint">
    <p id="phone-hint" class="hint">${text('hint.phone')}</p>
    <button type="submit">${text('enrol.devices.sendCode')}</button>
  </form>`
    : html`<p class="warning">${text('enrol.devices.noSms')}</p>`;
  return html`
  <p class="lead">${text('enrol.devices.lead')}</p>
  ${noticeBox(options.notice)}
  <h2>${text('enrol.devices.devices')}</h2>
  <p class="muted">${text('enrol.devices.devicesIntro', { url: deviceUrl })}</p>
  ${devices.length === 0 ? html`<p>${text('enrol.devices.none')}</p>` : html`<ul class="devices">${deviceRows}</ul>`}
  <p><a href="/device">${text('enrol.devices.openDevicePage')}</a></p>
  <h2>${text('enrol.devices.phones')}</h2>
  ${
    status.smsAvailable
      ? html`<p class="muted">${text('enrol.devices.phonesIntro')}</p>
  ${phones.length === 0 ? html`<p>${text('enrol.devices.noPhones')}</p>` : html`<ul class="devices">${phoneRows}</ul>`}`
      : ''
  }
  ${phoneForm}
  <h2>${text('account.authenticators')}</h2>
  <p class="muted">${text('account.authenticators.intro')}</p>
  <p><a href="/account/authenticators?return=${encodeURIComponent(`${BASE}/devices`)}">${text('enrol.devices.useAuthenticator')}</a></p>
  <p><a href="/account/security-keys?return=${encodeURIComponent(`${BASE}/devices`)}">${text('enrol.devices.useSecurityKey')}</a></p>
  <div class="step-end">
    ${
      verified > 0
        ? html`<p class="ready">${text('enrol.devices.ready', { count: verified })}</p>`
        : html`<p class="muted">${text('enrol.devices.needOne')}</p>`
    }
    ${stepNav(view, SCREENS[2], verified > 0 ? continueLink(`${BASE}/recovery-key`, text('enrol.continue')) : html``)}
  </div>`;
}

function phoneCodeBody(
  view: PageView,
  services: Services,
  challengeId: string,
  number: string,
  error: AppError | undefined,
): Html {
  const { text } = view;
  return html`
  <p>${text('enrol.phone.body', { number, minutes: services.config.policy.codeLifetimeMinutes })}</p>
  ${alertBox(errorMessage(view, error, services))}
  <form method="post" action="${BASE}/phones/${challengeId}">
    ${view.csrf}
    <label for="code">${text('field.code')}</label>
    <input id="code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" autofocus>
    <button type="submit">${text('enrol.phone.submit')}</button>
  </form>
  <p><a href="${BASE}/devices">${text('enrol.phone.other')}</a></p>`;
}

// ---- the recovery key ---------------------------------------------------------------------------

function keyIntroBody(view: PageView, status: TwoStepStatus): Html {
  const { text } = view;
  return html`
  <p class="lead">${text('enrol.key.lead')}</p>
  <p>${text('enrol.key.once')}</p>
  ${status.recoveryKeyConfirmed ? noticeBox(text('enrol.key.confirmed')) : ''}
  <form method="post" action="${BASE}/recovery-key">
    ${view.csrf}
    <div class="step-nav">
      <button type="submit">${text('enrol.key.create')}</button>
      ${status.recoveryKeyConfirmed ? html`<a class="button secondary" href="${BASE}/enable">${text('enrol.key.keep')}</a>` : ''}
      <a class="button secondary" href="${BASE}/devices">${text('enrol.back')}</a>
    </div>
  </form>`;
}

/** The key in its four groups, big, each group its own box; screen readers read it group by group. */
export function keyBlock(key: string): Html {
  return html`<p class="recovery-key"><span class="key-text">${key
    .split('-')
    .map(
      (group, i) =>
        html`${i > 0 ? html`<span class="key-dash" aria-hidden="true">-</span>` : ''}<span class="key-group">${group}</span>`,
    )}</span></p>`;
}

/** Where the key's print view and download live (any signed-in session) and where it is typed back. */
export const KEY_PRINT = `${BASE}/recovery-key/print`;
export const KEY_DOWNLOAD = `${BASE}/recovery-key/download`;

/** The key shown this once, with print view and download; `confirmUrl` is where it is typed back next. */
export function keyShownBody(view: PageView, key: string, confirmUrl = `${BASE}/recovery-key/confirm`): Html {
  const { text } = view;
  const keyField = html`<input type="hidden" name="recoveryKey" value="${key}">`;
  return html`
  <p class="lead">${text('enrol.key.keepSafe')}</p>
  ${keyBlock(key)}
  <div class="key-actions no-print">
    <form method="post" action="${KEY_PRINT}" target="_blank" class="inline">${view.csrf}${keyField}<button type="submit" class="secondary">${text('enrol.key.print')}</button></form>
    <form method="post" action="${KEY_DOWNLOAD}" class="inline">${view.csrf}${keyField}<button type="submit" class="secondary">${text('enrol.key.download')}</button></form>
  </div>
  <p class="no-print">${text('enrol.key.next')}</p>
  <div class="no-print">${stepNav(view, undefined, continueLink(confirmUrl, text('enrol.continue')))}</div>`;
}

function printPage(request: FastifyRequest, view: PageView, email: string, key: string, when: string): string {
  const { text } = view;
  const title = text('enrol.key.printTitle');
  return layout(
    request,
    view,
    title,
    html`
<section class="card print-sheet">
  <h1>${title}</h1>
  <p>${text('enrol.key.printFor', { email, when })}</p>
  ${keyBlock(key)}
  <p>${text('enrol.key.printHow')}</p>
  <p class="muted no-print">${text('enrol.key.printHint')}</p>
</section>`,
    { bodyClass: 'print-view' },
  );
}

/** "Type your recovery key back": posted to `paths.action`; `paths.lost` makes a new one. */
export function confirmBody(
  view: PageView,
  services: Services,
  error: AppError | undefined,
  paths: { action: string; lost: string } = { action: `${BASE}/recovery-key/confirm`, lost: `${BASE}/recovery-key` },
): Html {
  const { text } = view;
  return html`
  <p class="lead">${text('enrol.confirm.lead')}</p>
  ${alertBox(errorMessage(view, error, services))}
  <form method="post" action="${paths.action}">
    ${view.csrf}
    <label for="recoveryKey">${text('enrol.key.label')}</label>
    <input id="recoveryKey" name="recoveryKey" class="key-input" autocomplete="off" autocapitalize="characters" spellcheck="false" required maxlength="64" placeholder="XXXX-XXXX-XXXX-XX" autofocus>
    <button type="submit">${text('enrol.confirm.submit')}</button>
  </form>
  <p><a href="${paths.lost}">${text('enrol.confirm.lost')}</a></p>`;
}

// ---- acknowledgement and done -------------------------------------------------------------------

function enableBody(view: PageView, services: Services, status: TwoStepStatus, error: AppError | undefined): Html {
  const { text } = view;
  const missing: Html[] = [];
  if (status.trustedDevices + status.verifiedPhones + status.authenticators === 0)
    missing.push(html`<li><a href="${BASE}/devices">${text('enrol.enable.missingDevices')}</a></li>`);
  if (!status.recoveryKeyConfirmed)
    missing.push(html`<li><a href="${BASE}/recovery-key">${text('enrol.enable.missingKey')}</a></li>`);
  return html`
  ${alertBox(errorMessage(view, error, services))}
  ${missing.length > 0 ? html`<p>${text('enrol.enable.missing')}</p><ul>${missing}</ul>` : ''}
  <p class="lead">${text('enrol.enable.lead')}</p>
  <ul class="conditions">
    <li>${text('enrol.enable.item1')}</li>
    <li>${text('enrol.enable.item2')}</li>
    <li>${text('enrol.enable.item3')}</li>
    <li>${text('enrol.enable.item4')}</li>
  </ul>
  <form method="post" action="${BASE}/enable">
    ${view.csrf}
    <p class="checkbox"><input id="acknowledged" name="acknowledged" type="checkbox" value="yes" required><label for="acknowledged">${text('enrol.enable.ack')}</label></p>
    <div class="step-nav"><button type="submit">${text('enrol.enable.submit')}</button><a class="button secondary" href="${BASE}/recovery-key">${text('enrol.back')}</a></div>
  </form>`;
}

function disableBody(view: PageView, services: Services, error: AppError | undefined): Html {
  const { text } = view;
  return html`
  ${alertBox(errorMessage(view, error, services))}
  <p class="lead">${text('disable.lead')}</p>
  <ul class="conditions">
    <li>${text('disable.item1')}</li>
    <li>${text('disable.item2')}</li>
    <li>${text('disable.item3')}</li>
    <li>${text('disable.item4')}</li>
  </ul>
  <p>${text('disable.later')}</p>
  <form method="post" action="${BASE}/disable">
    ${view.csrf}
    <p class="checkbox"><input id="confirmed" name="confirmed" type="checkbox" value="yes" required><label for="confirmed">${text('disable.ack')}</label></p>
    <div class="step-nav"><button type="submit" class="danger">${text('disable.submit')}</button><a class="button secondary" href="/account#security">${text('disable.keep')}</a></div>
  </form>`;
}

// ---- routes -------------------------------------------------------------------------------------

export function registerEnrolmentPages(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.auth) return redirect(reply, '/signin');
    });

    const statusOf = (auth: AuthenticatedSession): Promise<TwoStepStatus> => twoStepStatus(services, auth.account);

    /** Enrolment steps need an account that may enrol now; otherwise the overview explains why not. */
    async function enrolling(request: FastifyRequest, reply: FastifyReply): Promise<TwoStepStatus | undefined> {
      const status = await statusOf(requireAuth(request));
      if (status.enabled || !status.available || status.waitingUntil) {
        redirect(reply, BASE);
        return undefined;
      }
      return status;
    }

    const render = (request: FastifyRequest, reply: FastifyReply, stage: Stage, title: TextId, body: Html) => {
      const view = pageView(request, reply);
      return send(reply, stepPage(request, view, { stage, title: view.text(title), body }));
    };

    scope.get(BASE, hidden, async (request, reply) => {
      const view = pageView(request, reply);
      const status = await statusOf(requireAuth(request));
      const blocked = statusBody(view, services, status);
      if (blocked)
        return send(
          reply,
          layout(
            request,
            view,
            view.text(status.enabled ? 'enrol.done.title' : 'enrol.title'),
            html`<section class="card enrol"><h1>${view.text(status.enabled ? 'enrol.done.title' : 'enrol.title')}</h1>${blocked}</section>`,
          ),
        );
      return render(request, reply, 'about', 'enrol.about.title', aboutBody(view));
    });

    scope.get(SCREENS[1], hidden, async (request, reply) => {
      if (!(await enrolling(request, reply))) return reply;
      return render(request, reply, 'about', 'enrol.rule.title', ruleBody(pageView(request, reply)));
    });

    scope.get(SCREENS[2], hidden, async (request, reply) => {
      if (!(await enrolling(request, reply))) return reply;
      return render(request, reply, 'about', 'enrol.legacy.title', legacyBody(pageView(request, reply)));
    });

    async function renderDevices(
      request: FastifyRequest,
      reply: FastifyReply,
      status: TwoStepStatus,
      options: { error?: AppError; number?: string } = {},
    ): Promise<FastifyReply> {
      const auth = requireAuth(request);
      const view = pageView(request, reply);
      const devices = await listDevices(services, auth.account.id);
      const phones = await listPhones(services, auth.account.id);
      const query = request.query as Record<string, unknown>;
      const trustedNow = devices.find((d) => d.trusted && d.id === query.trusted);
      const phoneNow = phones.find((p) => p.verified && p.id === query.phone);
      const notice = trustedNow
        ? view.text('account.devices.trustedNotice', { device: trustedNow.name })
        : phoneNow
          ? view.text('enrol.devices.phoneNotice', { number: phoneNow.number })
          : undefined;
      return render(
        request,
        reply,
        'devices',
        'enrol.devices.title',
        devicesBody(view, services, devices, phones, status, { ...options, notice }),
      );
    }

    scope.get(`${BASE}/devices`, hidden, async (request, reply) => {
      const status = await enrolling(request, reply);
      if (!status) return reply;
      return renderDevices(request, reply, status);
    });

    scope.post(`${BASE}/phones`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const status = await enrolling(request, reply);
      if (!status) return reply;
      const number = field(form, 'number');
      try {
        const { challenge } = await addPhone(services, auth, number, request.ctx);
        return redirect(reply, `${BASE}/phones/${encodeURIComponent(challenge.id)}`);
      } catch (error) {
        return renderDevices(request, reply, status, { error: shownError(reply, error), number });
      }
    });

    const challengeParam = (request: FastifyRequest): string =>
      String((request.params as Record<string, unknown>).challenge ?? '');

    scope.get(`${BASE}/phones/:challenge`, hidden, async (request, reply) => {
      if (!(await enrolling(request, reply))) return reply;
      const id = challengeParam(request);
      const phone = await phoneOfChallenge(services, requireAuth(request).account.id, id);
      return render(
        request,
        reply,
        'devices',
        'enrol.phone.title',
        phoneCodeBody(pageView(request, reply), services, id, phone.number, undefined),
      );
    });

    scope.post(`${BASE}/phones/:challenge`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      if (!(await enrolling(request, reply))) return reply;
      const id = challengeParam(request);
      const phone = await phoneOfChallenge(services, auth.account.id, id);
      try {
        const verified = await confirmPhone(services, auth, id, field(form, 'code'), request.ctx);
        return redirect(reply, `${BASE}/devices?phone=${encodeURIComponent(verified.id)}`);
      } catch (error) {
        const shown = shownError(reply, error);
        return render(
          request,
          reply,
          'devices',
          'enrol.phone.title',
          phoneCodeBody(pageView(request, reply), services, id, phone.number, shown),
        );
      }
    });

    scope.get(`${BASE}/recovery-key`, hidden, async (request, reply) => {
      const status = await enrolling(request, reply);
      if (!status) return reply;
      if (status.trustedDevices + status.verifiedPhones + status.authenticators === 0)
        return redirect(reply, `${BASE}/devices`);
      return render(request, reply, 'key', 'enrol.key.title', keyIntroBody(pageView(request, reply), status));
    });

    // The key is made by a POST and shown in its answer only: reloading or going back never shows it again.
    scope.post(`${BASE}/recovery-key`, hidden, async (request, reply) => {
      readForm(request);
      const auth = requireAuth(request);
      if (!(await enrolling(request, reply))) return reply;
      const key = await createRecoveryKey(services, auth, request.ctx);
      return render(request, reply, 'key', 'enrol.key.shownTitle', keyShownBody(pageView(request, reply), key));
    });

    /** The key posted back by the print and download buttons: only ever a well-formed key, never other text. */
    function postedKey(request: FastifyRequest): string {
      const input = normalizeRecoveryKey(field(readForm(request), 'recoveryKey'));
      if (!input.ok) throw new AppError('VALIDATION_FAILED', { detail: { field: 'recoveryKey' } });
      return input.key;
    }

    scope.post(KEY_PRINT, hidden, async (request, reply) => {
      const key = postedKey(request);
      const auth = requireAuth(request);
      const view = pageView(request, reply);
      const when = formatMoment(view.locale, services.clock.now());
      return send(reply, printPage(request, view, auth.account.email, key, when));
    });

    scope.post(KEY_DOWNLOAD, hidden, async (request, reply) => {
      const key = postedKey(request);
      const auth = requireAuth(request);
      const view = pageView(request, reply);
      const when = formatMoment(view.locale, services.clock.now());
      return reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="twostep-recovery-key.txt"')
        .send(view.text('enrol.key.file', { email: auth.account.email, when, key }));
    });

    scope.get(`${BASE}/recovery-key/confirm`, hidden, async (request, reply) => {
      if (!(await enrolling(request, reply))) return reply;
      return render(
        request,
        reply,
        'confirm',
        'enrol.confirm.title',
        confirmBody(pageView(request, reply), services, undefined),
      );
    });

    scope.post(`${BASE}/recovery-key/confirm`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      if (!(await enrolling(request, reply))) return reply;
      try {
        await confirmRecoveryKey(services, auth, field(form, 'recoveryKey'), request.ctx);
      } catch (error) {
        const shown = shownError(reply, error);
        return render(
          request,
          reply,
          'confirm',
          'enrol.confirm.title',
          confirmBody(pageView(request, reply), services, shown),
        );
      }
      return redirect(reply, `${BASE}/enable`);
    });

    scope.get(`${BASE}/enable`, hidden, async (request, reply) => {
      const status = await enrolling(request, reply);
      if (!status) return reply;
      return render(
        request,
        reply,
        'enable',
        'enrol.enable.title',
        enableBody(pageView(request, reply), services, status, undefined),
      );
    });

    scope.post(`${BASE}/enable`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      const status = await enrolling(request, reply);
      if (!status) return reply;
      try {
        await enableTwoStep(services, auth, field(form, 'acknowledged') === 'yes', request.ctx);
      } catch (error) {
        const shown = shownError(reply, error);
        return render(
          request,
          reply,
          'enable',
          'enrol.enable.title',
          enableBody(pageView(request, reply), services, await statusOf(auth), shown),
        );
      }
      return redirect(reply, `${BASE}/done`);
    });

    scope.get(`${BASE}/done`, hidden, async (request, reply) => {
      const status = await statusOf(requireAuth(request));
      if (!status.enabled) return redirect(reply, BASE);
      const view = pageView(request, reply);
      const title = view.text('enrol.done.title');
      return send(
        reply,
        layout(
          request,
          view,
          title,
          html`
<section class="card enrol done">
  <p class="done-mark" aria-hidden="true">✓</p>
  <h1>${title}</h1>
  <p class="lead">${view.text('enrol.done.body')}</p>
  <p>${view.text('enrol.done.keep')}</p>
  <p><a class="button" href="/account#security">${view.text('enrol.done.back')}</a></p>
</section>`,
        ),
      );
    });

    // Turning it off is a protected change: without a recent code the step-up page comes first, then back here.
    const stepUp = (reply: FastifyReply) =>
      redirect(reply, `/account/verify?return=${encodeURIComponent(`${BASE}/disable`)}`);

    scope.get(`${BASE}/disable`, hidden, async (request, reply) => {
      const auth = requireAuth(request);
      if (!auth.account.two_step_enabled_at) return redirect(reply, BASE);
      if (!hasRecentTwoStep(services, auth)) return stepUp(reply);
      const view = pageView(request, reply);
      const title = view.text('disable.title');
      return send(
        reply,
        layout(
          request,
          view,
          title,
          html`<section class="card enrol"><h1>${title}</h1>${disableBody(view, services, undefined)}</section>`,
        ),
      );
    });

    scope.post(`${BASE}/disable`, hidden, async (request, reply) => {
      const form = readForm(request);
      const auth = requireAuth(request);
      try {
        await disableTwoStep(services, auth, field(form, 'confirmed') === 'yes', request.ctx);
      } catch (error) {
        if (isAppError(error) && error.code === 'STEP_UP_REQUIRED') return stepUp(reply);
        const shown = shownError(reply, error);
        const view = pageView(request, reply);
        const title = view.text('disable.title');
        return send(
          reply,
          layout(
            request,
            view,
            title,
            html`<section class="card enrol"><h1>${title}</h1>${disableBody(view, services, shown)}</section>`,
          ),
        );
      }
      return redirect(reply, '/account?saved=two-step-off#security');
    });
  });
}
