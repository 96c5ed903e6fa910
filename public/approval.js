// The code step while a trusted device may approve (number matching): asks the page's status address
// whether the device approved, and once it has, sends the page's approval form, exactly what the
// "I approved it on my device" button does without script. Loaded as a file: the CSP allows no
// inline script. The address is same-origin and reads the pending challenge from an HttpOnly cookie.
'use strict';

(() => {
  const form = document.querySelector('form[data-approval-status]');
  if (!form) return;
  const statusUrl = form.dataset.approvalStatus;
  const EVERY_MS = 2000;
  // A challenge lives minutes, not hours: a forgotten tab stops asking.
  const GIVE_UP_AFTER_MS = 15 * 60_000;
  const started = Date.now();
  let sent = false;

  async function approved() {
    const response = await fetch(statusUrl, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) return false;
    const body = await response.json();
    return body?.approved === true;
  }

  async function poll() {
    if (sent || Date.now() - started > GIVE_UP_AFTER_MS) return;
    let done = false;
    try {
      done = await approved();
    } catch {
      done = false; // offline for a moment: ask again on the next round
    }
    if (done) {
      sent = true;
      form.submit();
      return;
    }
    setTimeout(poll, EVERY_MS);
  }

  form.addEventListener('submit', () => {
    sent = true;
  });
  setTimeout(poll, EVERY_MS);
})();
