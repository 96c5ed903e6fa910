// Progressive enhancement: a password strength meter under every new-password field. The form works
// without it. The estimate comes from the server (the same zxcvbn check the blocklist uses), so the
// meter and the server's verdict always agree. Loaded as a file: the CSP allows no inline script.
'use strict';

function setUpMeter(input) {
  const meter = document.getElementById(input.dataset.strengthMeter);
  const label = document.getElementById(input.dataset.strengthLabel);
  if (!meter || !label) return;
  const words = (meter.dataset.labels || '').split('|');
  const form = input.form;
  let timer;
  let latest = 0;
  meter.hidden = false;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const password = input.value;
      const request = ++latest;
      if (password.length === 0) {
        meter.value = 0;
        label.textContent = '';
        return;
      }
      const context = {};
      for (const name of ['email', 'name', 'username']) {
        const field = form?.elements.namedItem(name);
        if (field && typeof field.value === 'string' && field.value) context[name === 'username' ? 'email' : name] = field.value;
      }
      try {
        const response = await fetch('/api/v1/password/strength', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password, ...context }),
          credentials: 'same-origin',
        });
        if (!response.ok || request !== latest) return;
        const { score } = await response.json();
        meter.value = score;
        label.textContent = words[score] || '';
      } catch {
        // The meter is a hint; the server checks the password on submit anyway.
      }
    }, 250);
  });
}

for (const input of document.querySelectorAll('input[data-strength-meter]')) setUpMeter(input);
