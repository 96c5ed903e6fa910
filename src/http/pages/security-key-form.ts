// The piece of a portal page that runs a WebAuthn ceremony: a form carrying the server's options in a
// data attribute (no inline script: public/webauthn.js reads it), which the script shows, runs the
// ceremony on submit, and posts with the authenticator's answer as JSON in a hidden field. Without
// JavaScript the form stays hidden and the <noscript> says why: the web platform offers no other way.
import { type FormBody, field } from './forms.ts';
import { type Html, html } from './html.ts';
import type { PageView } from './layout.ts';

export const WEBAUTHN_SCRIPTS = ['webauthn-browser.js', 'webauthn.js'] as const;

export interface SecurityKeyFormOptions {
  action: string;
  /** `create` registers a key, `get` answers with one. */
  ceremony: 'create' | 'get';
  options: object;
  label: string;
  /** Other hidden fields to post along (the return path, the key's name). */
  hidden?: Html | string;
}

export function securityKeyForm(view: PageView, form: SecurityKeyFormOptions): Html {
  const { text } = view;
  return html`<form method="post" action="${form.action}" class="webauthn" data-webauthn="${form.ceremony}" data-options="${JSON.stringify(form.options)}" data-cancelled="${text('securityKeys.cancelled')}" hidden>
    ${view.csrf}${form.hidden ?? ''}
    <input type="hidden" name="credential" value="">
    <p class="alert" role="alert" data-webauthn-error hidden></p>
    <button type="submit" class="secondary">${form.label}</button>
  </form>
  <noscript><p class="hint">${text('securityKeys.needsScript')}</p></noscript>`;
}

/** The credential a ceremony form posted, parsed; undefined when there is none or it is not JSON. */
export function postedCredential(form: FormBody): unknown {
  const raw = field(form, 'credential');
  if (!raw || raw.length > 64 * 1024) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
