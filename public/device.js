// The web device page (docs/device-protocol.md): this browser as a trusted device. It keeps a
// non-extractable P-256 key pair in IndexedDB, pairs with the account through the JSON API, holds
// the live WebSocket (signing each connection's nonce) and shows the codes pushed to it.
// The device credential never reaches this script: the server keeps it in an HttpOnly cookie that
// only the connection endpoint receives. Every string comes from the page (data-text, <template>);
// the English ones below are fallbacks only. Loaded as a file: the CSP allows no inline script.
'use strict';

(() => {
  const root = document.getElementById('device-app');
  if (!root) return;

  const FALLBACK = {
    connecting: 'Connecting…',
    trusted: 'Connected · trusted device',
    waiting: 'Connected · waiting for verification on your account page',
    offline: 'Not connected. Trying again in {seconds} s.',
    stopped: 'Not connected.',
    working: 'Pairing…',
    paired: 'Paired.',
    unsupported: 'This browser cannot act as a trusted device.',
    authFailed: 'The device could not prove who it is. Pair it again.',
    internal: 'Something went wrong.',
    removed: 'This device was removed from your account.',
    forgotten: 'This browser forgot its device key.',
    forgottenLocal: 'This browser forgot its device key.',
    denied: 'Cancelled.',
    approved: 'Approved.',
    expiresIn: 'Expires in {time}',
    placeLocal: 'Local network',
    'purpose.other': 'Verification request',
    matchTitle: 'Pick the number shown where you are signing in',
    sendToDevices: 'Send a code to {where}',
    sendBySms: 'Text a code to {where}',
    sending: 'Sending…',
    codeSent: 'We sent a code to {where}.',
    noChannels: 'This account has no trusted device or phone that can receive a code.',
  };
  let strings = {};
  try {
    strings = JSON.parse(root.dataset.text || '{}');
  } catch {
    strings = {};
  }
  const text = (key, params = {}) =>
    String(strings[key] ?? FALLBACK[key] ?? key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in params ? String(params[name]) : whole,
    );

  const $ = (id) => document.getElementById(id);
  const pairSection = $('pair');
  const pairForm = $('pair-form');
  const pairedSection = $('paired');
  const nameHeading = $('device-name');
  const statusLine = $('device-status');
  const codesList = $('codes');
  const noCodes = $('no-codes');
  const forgetButton = $('forget');
  const template = $('code-template');
  const noticeBox = $('device-notice');
  const errorBox = $('device-error');
  const twoStepBox = $('pair-two-step');
  const twoStepNotice = $('two-step-notice');
  const twoStepError = $('two-step-error');
  const channelList = $('two-step-channels');
  const codeForm = $('two-step-form');
  const codeInput = $('two-step-code');
  const backButton = $('two-step-back');
  const signedIn = root.dataset.signedIn === 'yes';

  // ---- messages -------------------------------------------------------------------------------

  function showNotice(message) {
    noticeBox.textContent = message || '';
    noticeBox.hidden = !message;
  }
  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.hidden = !message;
  }

  // ---- IndexedDB: one record, the key pair (non-extractable CryptoKeys survive structured clone) --

  const DB_NAME = 'twostep-device';
  const STORE = 'device';
  const RECORD = 'current';

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function withStore(mode, action) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const request = action(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(request.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  const loadDevice = () => withStore('readonly', (store) => store.get(RECORD));
  const saveDevice = (record) => withStore('readwrite', (store) => store.put(record, RECORD));
  const clearDevice = () => withStore('readwrite', (store) => store.delete(RECORD));

  // ---- helpers ----------------------------------------------------------------------------------

  function base64url(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  /** What the account page shows as the model: "Chrome on Android". */
  function describeThisBrowser() {
    const ua = navigator.userAgent;
    const browser = /Edg\//.test(ua)
      ? 'Edge'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : 'Browser';
    const system = /Android/.test(ua)
      ? 'Android'
      : /iPhone|iPad/.test(ua)
        ? 'iOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Mac OS X/.test(ua)
            ? 'macOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : '';
    return system ? `${browser} on ${system}` : browser;
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    let data = null;
    try {
      data = response.status === 204 ? null : await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  }
  const errorMessage = (result) => result?.data?.error?.message || text('internal');

  function supported() {
    return Boolean(window.crypto?.subtle && window.indexedDB && window.WebSocket);
  }

  // ---- state --------------------------------------------------------------------------------------

  let device; // { keys: CryptoKeyPair, deviceId, name }
  let socket;
  let attempt = 0;
  let retryTimer;
  let retryWaiting = false;
  const codes = new Map(); // challengeId -> { element, deadline, lifetime, refs }
  let ticker;

  function setStatus(state, params) {
    statusLine.dataset.state = state;
    statusLine.textContent = text(state, params);
  }

  function showPairing() {
    pairedSection.hidden = true;
    pairSection.hidden = false;
  }

  function showPaired() {
    pairSection.hidden = true;
    pairedSection.hidden = false;
    nameHeading.textContent = device.name;
  }

  // ---- codes ------------------------------------------------------------------------------------

  function formatRemaining(ms) {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '';
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      dateStyle: 'medium',
      timeStyle: 'short',
    }).format(date);
  }

  function updateEmpty() {
    noCodes.hidden = codes.size > 0;
    if (codes.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    } else if (codes.size > 0 && !ticker) {
      ticker = setInterval(tick, 1000);
    }
  }

  function tick() {
    const now = performance.now();
    for (const [challengeId, entry] of codes) {
      const left = entry.deadline - now;
      if (left <= 0) {
        removeCode(challengeId);
        continue;
      }
      entry.refs.countdown.textContent = text('expiresIn', { time: formatRemaining(left) });
      entry.refs.timer.value = Math.max(0, Math.min(1, left / entry.lifetime));
    }
  }

  function addCode(message) {
    const choices = Array.isArray(message.choices) ? message.choices : undefined;
    if (typeof message.challengeId !== 'string' || (typeof message.code !== 'string' && !choices)) return;
    if (codes.has(message.challengeId)) {
      // Number matching: the right pick brings the code for the card that showed the choices.
      if (!codes.get(message.challengeId).matching || typeof message.code !== 'string') return;
      removeCode(message.challengeId);
    }
    const context = message.context && typeof message.context === 'object' ? message.context : {};
    // The countdown runs on this device's monotonic clock. The server's expiry is trusted only as
    // far as the two clocks agree: a code arrives alive, so a device clock ahead of the server's
    // falls back to the code's whole lifetime.
    const expires = Date.parse(message.expiresAt);
    const issued = Date.parse(context.at);
    const lifetime = expires - issued > 0 ? expires - issued : 5 * 60_000;
    const local = expires - Date.now();
    const remaining = local > 0 && local <= lifetime ? local : lifetime;

    const element = template.content.firstElementChild.cloneNode(true);
    const refs = {};
    for (const node of element.querySelectorAll('[data-field]')) refs[node.dataset.field] = node;
    const purposeKey = `purpose.${message.purpose}`;
    refs.purpose.textContent = purposeKey in strings ? text(purposeKey) : text('purpose.other');
    if (choices) refs.code.replaceChildren(matchChoices(message.challengeId, choices));
    else refs.code.textContent = message.code;
    refs.browser.textContent = context.browser || '—';
    refs.ip.textContent = context.ip || '—';
    refs.place.textContent = context.place === 'local network' ? text('placeLocal') : context.place || '—';
    refs.at.textContent = context.at ? formatTime(context.at) : '—';
    element.dataset.challengeId = message.challengeId;
    const deny = element.querySelector('[data-action="deny"]');
    deny.addEventListener('click', () => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        showError(text('stopped'));
        return;
      }
      deny.disabled = true;
      socket.send(JSON.stringify({ type: 'deny', challengeId: message.challengeId }));
    });
    // After the right number-matching pick the device may approve instead of the code being typed.
    if (typeof message.code === 'string' && Number.isInteger(message.matched)) {
      const approve = element.querySelector('[data-action="approve"]');
      approve.hidden = false;
      approve.addEventListener('click', () => {
        if (!socket || socket.readyState !== WebSocket.OPEN) {
          showError(text('stopped'));
          return;
        }
        approve.disabled = true;
        sendApproval(socket, message.challengeId, message.matched).catch(() => {
          approve.disabled = false;
          showError(text('internal'));
        });
      });
    }
    codes.set(message.challengeId, {
      element,
      deadline: performance.now() + remaining,
      lifetime,
      refs,
      matching: Boolean(choices),
    });
    codesList.prepend(element);
    updateEmpty();
    tick();
  }

  /** Number matching: three numbers; only the one the sign-in screen shows releases the code. */
  function matchChoices(challengeId, choices) {
    const box = document.createElement('div');
    box.className = 'match';
    const title = document.createElement('p');
    title.textContent = text('matchTitle');
    box.append(title);
    for (const choice of choices) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary match-choice';
      button.textContent = String(choice);
      button.addEventListener('click', () => {
        if (!socket || socket.readyState !== WebSocket.OPEN) {
          showError(text('stopped'));
          return;
        }
        for (const other of box.querySelectorAll('button')) other.disabled = true;
        socket.send(JSON.stringify({ type: 'match', challengeId, number: choice }));
      });
      box.append(button);
    }
    return box;
  }

  /** "Approve": the device key signs the challenge and the number picked (docs/device-protocol.md). */
  async function sendApproval(ws, challengeId, number) {
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      device.keys.privateKey,
      new TextEncoder().encode(`twostep-approve:${challengeId}:${number}`),
    );
    if (ws.readyState === WebSocket.OPEN)
      ws.send(JSON.stringify({ type: 'approve', challengeId, signature: base64url(signature) }));
  }

  function removeCode(challengeId) {
    const entry = codes.get(challengeId);
    if (!entry) return;
    entry.element.remove();
    codes.delete(challengeId);
    updateEmpty();
  }

  function clearCodes() {
    for (const id of [...codes.keys()]) removeCode(id);
  }

  // ---- the live connection --------------------------------------------------------------------------

  function connectionUrl() {
    const url = new URL('/api/v1/devices/connect', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  async function answerHello(ws, nonce) {
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      device.keys.privateKey,
      new TextEncoder().encode(`twostep-device-auth:${nonce}`),
    );
    // WebCrypto's ECDSA output is already IEEE P1363 (r||s), what the server verifies.
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'auth', signature: base64url(signature) }));
  }

  function connect() {
    clearTimeout(retryTimer);
    retryWaiting = false;
    if (!device) return;
    setStatus('connecting');
    const ws = new WebSocket(connectionUrl());
    socket = ws;
    ws.addEventListener('message', (event) => {
      if (socket !== ws) return;
      let message;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      handleMessage(ws, message);
    });
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      socket = undefined;
      handleClose(event.code);
    });
  }

  function handleMessage(ws, message) {
    switch (message.type) {
      case 'hello':
        if (typeof message.nonce === 'string') answerHello(ws, message.nonce).catch(() => ws.close());
        return;
      case 'ready': {
        attempt = 0;
        showError('');
        // Whatever is still pending is sent again right after "ready".
        clearCodes();
        const info = message.device || {};
        if (typeof info.name === 'string' && info.name !== device.name) {
          device.name = info.name;
          nameHeading.textContent = info.name;
          saveDevice(device).catch(() => {});
        }
        setStatus(info.trusted ? 'trusted' : 'waiting');
        return;
      }
      case 'code':
      case 'match':
        addCode(message);
        return;
      case 'cancelled':
        removeCode(message.challengeId);
        return;
      case 'trusted':
        setStatus('trusted');
        return;
      case 'denied':
        removeCode(message.challengeId);
        showNotice(text('denied'));
        return;
      case 'approved':
        // The card goes when the sign-in uses the approval ("cancelled", reason "answered").
        showNotice(text('approved'));
        return;
      case 'error':
        // A deny for a challenge that is already over: it is gone, so is its code.
        if (typeof message.challengeId === 'string') removeCode(message.challengeId);
        return;
      default:
    }
  }

  function handleClose(code) {
    clearCodes();
    if (code === 4403) {
      // Removed from the account: the key is useless now.
      forgetLocally().then(() => showNotice(text('removed')));
      return;
    }
    if (code === 4401 || code === 4400) {
      setStatus('stopped');
      showError(text('authFailed'));
      return;
    }
    // Reconnect: 1 s doubling to 60 s, with jitter (docs/device-protocol.md §2).
    const base = Math.min(60_000, 1000 * 2 ** attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    attempt += 1;
    retryWaiting = true;
    setStatus('offline', { seconds: Math.ceil(delay / 1000) });
    retryTimer = setTimeout(connect, delay);
  }

  function disconnect() {
    clearTimeout(retryTimer);
    retryWaiting = false;
    const ws = socket;
    socket = undefined;
    ws?.close(1000, 'bye');
  }

  // Back online or back on screen: no need to sit out the backoff.
  window.addEventListener('online', () => {
    if (retryWaiting) connect();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && retryWaiting) connect();
  });

  // ---- pairing and forgetting -------------------------------------------------------------------------

  async function forgetLocally() {
    disconnect();
    clearCodes();
    device = undefined;
    await clearDevice().catch(() => {});
    showPairing();
  }

  /** A pending sign-in that still needs a code: { id, pairName }. */
  let pendingChallenge;

  function setBusy(button, busyText) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = busyText;
    return () => {
      button.disabled = false;
      button.textContent = label;
    };
  }

  function showTwoStepMessage(box, message) {
    box.textContent = message || '';
    box.hidden = !message;
  }

  /** The code step of a sign-in with two-step verification, in place of the pairing form. */
  function showTwoStep(challenge, pairName) {
    pendingChallenge = { id: challenge.id, pairName };
    showTwoStepMessage(twoStepNotice, '');
    showTwoStepMessage(twoStepError, '');
    channelList.replaceChildren();
    const channels = Array.isArray(challenge.channels) ? challenge.channels : [];
    for (const channel of channels) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.dataset.channel = channel.id;
      button.textContent = text(channel.type === 'device' ? 'sendToDevices' : 'sendBySms', { where: channel.label });
      button.addEventListener('click', () => {
        sendCode(button, channel).catch(() => showTwoStepMessage(twoStepError, text('internal')));
      });
      item.append(button);
      channelList.append(item);
    }
    if (channels.length === 0) showTwoStepMessage(twoStepError, text('noChannels'));
    codeForm.reset();
    pairForm.hidden = true;
    twoStepBox.hidden = false;
    channelList.querySelector('button')?.focus();
  }

  function hideTwoStep() {
    pendingChallenge = undefined;
    channelList.replaceChildren();
    codeForm.reset();
    showTwoStepMessage(twoStepNotice, '');
    showTwoStepMessage(twoStepError, '');
    twoStepBox.hidden = true;
    pairForm.hidden = false;
  }

  async function sendCode(button, channel) {
    if (!pendingChallenge) return;
    showTwoStepMessage(twoStepNotice, '');
    showTwoStepMessage(twoStepError, '');
    const done = setBusy(button, text('sending'));
    try {
      const sent = await postJson(`/api/v1/challenges/${encodeURIComponent(pendingChallenge.id)}/send`, {
        channel: channel.id,
      });
      if (!sent.ok) {
        showTwoStepMessage(twoStepError, errorMessage(sent));
        return;
      }
      showTwoStepMessage(twoStepNotice, text('codeSent', { where: sent.data?.channel?.label ?? channel.label }));
      codeInput.focus();
    } finally {
      done();
    }
  }

  async function verifyCode(event) {
    event.preventDefault();
    if (!pendingChallenge || !codeForm.reportValidity()) return;
    showTwoStepMessage(twoStepError, '');
    const button = codeForm.querySelector('button[type="submit"]');
    const done = setBusy(button, text('working'));
    const { id, pairName } = pendingChallenge;
    try {
      const verified = await postJson(`/api/v1/challenges/${encodeURIComponent(id)}/verify`, {
        code: codeInput.value.replace(/\s/g, ''),
      });
      if (!verified.ok) {
        const code = verified.data?.error?.code;
        if (code === 'CHALLENGE_CLOSED' || verified.status === 404) {
          // Over for good (too many wrong codes, or too late): back to email and password.
          hideTwoStep();
          showError(errorMessage(verified));
          return;
        }
        showTwoStepMessage(twoStepError, errorMessage(verified));
        codeInput.select();
        return;
      }
      // Signed in now (the session cookie is set): the pairing goes on exactly as without a code.
      hideTwoStep();
      await registerDevice(pairName, true);
    } catch {
      showTwoStepMessage(twoStepError, text('internal'));
    } finally {
      done();
    }
  }

  /** Makes the key and registers it; `signedInHere`: the session was made for this and ends with it. */
  async function registerDevice(name, signedInHere) {
    try {
      const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const jwk = await crypto.subtle.exportKey('jwk', keys.publicKey);
      const registered = await postJson('/api/v1/devices', {
        name,
        model: describeThisBrowser(),
        publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      });
      if (!registered.ok) {
        showError(errorMessage(registered));
        return;
      }
      const record = { keys, deviceId: registered.data.device.id, name: registered.data.device.name };
      await saveDevice(record);
      device = record;
      pairForm.reset();
      showPaired();
      showNotice(text('paired'));
      connect();
    } catch {
      showError(text('internal'));
    } finally {
      if (signedInHere) await postJson('/api/v1/signout', {}).catch(() => {});
    }
  }

  async function pair(event) {
    event.preventDefault();
    showError('');
    showNotice('');
    if (!pairForm.reportValidity()) return;
    const button = pairForm.querySelector('button[type="submit"]');
    const done = setBusy(button, text('working'));
    const fields = pairForm.elements;
    const name = fields.namedItem('name').value.trim();
    try {
      if (signedIn) {
        await registerDevice(name, false);
        return;
      }
      // The session this makes is only for pairing; registerDevice ends it again.
      const signin = await postJson('/api/v1/signin', {
        email: fields.namedItem('email').value.trim(),
        password: fields.namedItem('password').value,
      });
      if (!signin.ok) {
        showError(errorMessage(signin));
        return;
      }
      if (signin.data?.status === 'two_step_required' && signin.data.challenge) {
        // No session yet: it comes with the right code (verifyCode).
        showTwoStep(signin.data.challenge, name);
        return;
      }
      await registerDevice(name, true);
    } catch {
      showError(text('internal'));
    } finally {
      done();
    }
  }

  async function forget() {
    showError('');
    const id = device?.deviceId;
    disconnect();
    let removed = false;
    if (id) {
      // The device removes itself with its own credential (the HttpOnly cookie); signed in, the account's session works too.
      let response = await fetch('/api/v1/devices/self/forget', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
      if (response?.status !== 204 && signedIn) {
        response = await fetch(`/api/v1/devices/${encodeURIComponent(id)}`, { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
      }
      removed = response?.status === 204 || response?.status === 404;
    }
    await forgetLocally();
    showNotice(text(removed ? 'forgotten' : 'forgottenLocal'));
  }

  // ---- start ----------------------------------------------------------------------------------------------

  async function start() {
    if (!supported()) {
      showError(text('unsupported'));
      return;
    }
    pairForm.addEventListener('submit', pair);
    codeForm.addEventListener('submit', verifyCode);
    backButton.addEventListener('click', () => {
      hideTwoStep();
      showError('');
    });
    forgetButton.addEventListener('click', () => {
      forget().catch(() => showError(text('internal')));
    });
    let stored;
    try {
      stored = await loadDevice();
    } catch {
      stored = undefined;
    }
    if (stored?.keys?.privateKey && stored.deviceId) {
      device = stored;
      showPaired();
      connect();
    } else {
      showPairing();
    }
  }

  start().catch(() => showError(text('internal')));
})();
