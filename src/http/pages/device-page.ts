// The web device page (SPEC §6, docs/device-protocol.md): a browser that acts as a trusted device.
// The server renders the shell and every string; public/device.js keeps the P-256 key in IndexedDB,
// pairs, holds the live connection and shows the pushed codes. The web platform needs script here
// (WebCrypto, WebSocket), so without it the page says so instead of half-working.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../flows/context.ts';
import type { TextId } from '../../text/index.ts';
import { html } from './html.ts';
import { layout, pageView } from './layout.ts';

const hidden = { schema: { hide: true } };

/** The strings device.js puts together at run time, by the short names it uses. */
const SCRIPT_TEXT = {
  connecting: 'device.status.connecting',
  trusted: 'device.status.trusted',
  waiting: 'device.status.waiting',
  offline: 'device.status.offline',
  stopped: 'device.status.stopped',
  working: 'device.pair.working',
  paired: 'device.pair.done',
  unsupported: 'device.unsupported',
  authFailed: 'error.DEVICE_AUTH_FAILED',
  internal: 'error.INTERNAL',
  removed: 'device.removed',
  forgotten: 'device.forgotten',
  forgottenLocal: 'device.forgottenLocal',
  denied: 'device.code.denied',
  approved: 'device.code.approved',
  expiresIn: 'device.code.expiresIn',
  placeLocal: 'device.place.local',
  'purpose.verify_device': 'device.code.purpose.verify_device',
  'purpose.sign_in': 'device.code.purpose.sign_in',
  'purpose.recovery': 'device.code.purpose.recovery',
  matchTitle: 'device.match.title',
  'purpose.other': 'device.code.purpose.other',
  sendToDevices: 'twoStep.sendToDevices',
  sendBySms: 'twoStep.sendBySms',
  sending: 'device.twoStep.sending',
  codeSent: 'twoStep.codeSent',
  noChannels: 'twoStep.noChannels',
} satisfies Record<string, TextId>;

function devicePage(request: FastifyRequest, reply: FastifyReply): string {
  const view = pageView(request, reply);
  const { text } = view;
  const email = request.auth?.account.email;
  const strings = Object.fromEntries(Object.entries(SCRIPT_TEXT).map(([key, id]) => [key, text(id)]));
  return layout(
    request,
    view,
    text('device.title'),
    html`
<div id="device-app" class="device-app" data-text="${JSON.stringify(strings)}" data-signed-in="${email ? 'yes' : 'no'}">
<h1>${text('device.title')}</h1>
<p class="muted intro">${text('device.intro')}</p>
<noscript><p class="alert" role="alert">${text('device.noscript')}</p></noscript>
<div id="device-notice" class="notice" role="status" hidden></div>
<div id="device-error" class="alert" role="alert" hidden></div>

<section id="pair" class="card" aria-labelledby="pair-title" hidden>
  <h2 id="pair-title">${text('device.pair.title')}</h2>
  <p>${email ? text('device.pair.bodySignedIn', { email }) : text('device.pair.body')}</p>
  <form id="pair-form" method="post" action="/device">
    ${
      email
        ? ''
        : html`<label for="pair-email">${text('field.email')}</label>
    <input id="pair-email" name="email" type="email" autocomplete="username" required>
    <label for="pair-password">${text('field.password')}</label>
    <input id="pair-password" name="password" type="password" autocomplete="current-password" required>`
    }
    <label for="pair-name">${text('field.deviceName')}</label>
    <input id="pair-name" name="name" autocomplete="off" required maxlength="60" aria-describedby="pair-name-hint">
    <p id="pair-name-hint" class="hint">${text('hint.deviceName')}</p>
    <button type="submit">${text('device.pair.submit')}</button>
  </form>
  <div id="pair-two-step" class="pair-two-step" hidden>
    <h3 id="two-step-title">${text('twoStep.signInTitle')}</h3>
    <p id="two-step-body">${text('device.twoStep.body')}</p>
    <div id="two-step-notice" class="notice" role="status" hidden></div>
    <div id="two-step-error" class="alert" role="alert" hidden></div>
    <ul id="two-step-channels" class="channels" aria-labelledby="two-step-title"></ul>
    <form id="two-step-form" method="post" action="/device">
      <label for="two-step-code">${text('field.code')}</label>
      <input id="two-step-code" name="code" class="code-input" inputmode="numeric" autocomplete="one-time-code" required maxlength="12">
      <button type="submit">${text('twoStep.verify')}</button>
    </form>
    <button type="button" id="two-step-back" class="link two-step-back">${text('device.twoStep.back')}</button>
  </div>
</section>

<section id="paired" aria-labelledby="device-name" hidden>
  <div class="card device-status">
    <h2 id="device-name" class="device-name"></h2>
    <p class="status-line"><span class="dot" aria-hidden="true"></span><span id="device-status" role="status" data-state="connecting">${text('device.status.connecting')}</span></p>
  </div>
  <p id="no-codes" class="muted empty">${text('device.codes.none')}</p>
  <ul id="codes" class="codes" aria-live="polite"></ul>
  <button type="button" id="forget" class="secondary forget">${text('device.forget')}</button>
</section>

<template id="code-template">
  <li class="code-card">
    <h2 class="code-purpose" data-field="purpose"></h2>
    <p class="code-label">${text('device.code.label')}</p>
    <p class="code-value" data-field="code"></p>
    <p class="code-expiry" data-field="countdown"></p>
    <progress class="code-timer" data-field="timer" max="1" value="1" aria-hidden="true"></progress>
    <dl class="facts code-facts">
      <dt>${text('device.code.from')}</dt><dd data-field="browser"></dd>
      <dt>${text('device.code.ip')}</dt><dd data-field="ip"></dd>
      <dt>${text('device.code.place')}</dt><dd data-field="place"></dd>
      <dt>${text('device.code.at')}</dt><dd data-field="at"></dd>
    </dl>
    <button type="button" data-action="approve" hidden>${text('device.code.approve')}</button>
    <button type="button" class="danger" data-action="deny">${text('device.code.deny')}</button>
  </li>
</template>
</div>`,
    { scripts: ['device.js'], bodyClass: 'device-body' },
  );
}

export function registerDevicePage(app: FastifyInstance, _services: Services): void {
  app.get('/device', hidden, async (request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(devicePage(request, reply)),
  );
}
