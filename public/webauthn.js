// Security keys and passkeys in the portal: every form[data-webauthn] carries the server's options
// (data-options). On submit the browser runs the ceremony (navigator.credentials via
// @simplewebauthn/browser, loaded before this file), puts the answer in the form's hidden
// "credential" field and posts the form. The server checks everything; this only carries it.
(() => {
  const library = window.SimpleWebAuthnBrowser;
  for (const form of document.querySelectorAll('form[data-webauthn]')) {
    if (!library || !library.browserSupportsWebAuthn()) continue;
    form.hidden = false;
    const error = form.querySelector('[data-webauthn-error]');
    const button = form.querySelector('button[type="submit"]');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (error) error.hidden = true;
      button.disabled = true;
      try {
        const optionsJSON = JSON.parse(form.dataset.options);
        const answer =
          form.dataset.webauthn === 'create'
            ? await library.startRegistration({ optionsJSON })
            : await library.startAuthentication({ optionsJSON });
        form.elements.credential.value = JSON.stringify(answer);
        form.submit();
      } catch {
        button.disabled = false;
        if (error) {
          error.textContent = form.dataset.cancelled;
          error.hidden = false;
        }
      }
    });
  }
})();
