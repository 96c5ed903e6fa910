// English strings for security keys and passkeys (WebAuthn). Spread into en.ts; security-keys-nl.ts
// must have every id (tsc checks).
export const securityKeysEn = {
  'error.SECURITY_KEY_LIMIT': 'You already have the most security keys allowed. Remove one you no longer use first.',
  'error.SECURITY_KEY_ALREADY_REGISTERED': 'This security key is already registered to your account.',
  'error.SECURITY_KEY_REJECTED': 'The answer of the security key could not be verified. Try again.',
  'error.SECURITY_KEY_REQUIRED':
    'This account uses security keys instead of verification codes. Use one of your security keys.',
  'email.securityKeyAdded.subject': 'A security key was added',
  'email.securityKeyAdded.body':
    'Hello {name},\n\nThe security key “{label}” was added to your Twostep account. It can now be used to confirm that it is you.',
  'email.securityKeyRemoved.subject': 'A security key was removed',
  'email.securityKeyRemoved.body':
    'Hello {name},\n\nThe security key “{label}” was removed from your Twostep account. It no longer works for it.',
  'event.security_key.added': 'A security key or passkey was added',
  'event.security_key.removed': 'A security key or passkey was removed',
  'account.securityKeys': 'Security keys and passkeys',
  'account.securityKeys.intro':
    'A security key or a passkey confirms it is you with a touch or your fingerprint, and cannot be fooled by a look-alike site.',
  'account.securityKeys.manage': 'Manage security keys and passkeys',
  'securityKeys.title': 'Security keys and passkeys',
  'securityKeys.intro':
    'A security key (a small USB, NFC or Bluetooth device) or a passkey (kept by your phone, computer or password manager) answers for you when you sign in or confirm a change. Nobody can type it into a fake site.',
  'securityKeys.rules.apple':
    'Add at least two keys, so you can still get in if you lose one. From the second key on, your keys replace verification codes. You can add up to six.',
  'securityKeys.rules.open': 'You can add up to {max} keys. They work beside your other ways to receive a code.',
  'securityKeys.none': 'You have no security key or passkey yet.',
  'securityKeys.name': 'Name of the key',
  'securityKeys.namePlaceholder': 'For example: blue key on my key ring',
  'securityKeys.add': 'Add a security key or passkey',
  'securityKeys.remove': 'Remove',
  'securityKeys.added': 'The security key was added.',
  'securityKeys.removed': 'The security key was removed.',
  'securityKeys.createdAt': 'Added',
  'securityKeys.lastUsed': 'Last used',
  'securityKeys.neverUsed': 'not yet',
  'securityKeys.passkey': 'Passkey: can also sign you in without your password.',
  'securityKeys.needsScript':
    'Your browser talks to security keys through JavaScript. Turn it on for this site to add or use one.',
  'securityKeys.cancelled': 'The security key did not answer, or the request was cancelled. Try again.',
  'enrol.devices.useSecurityKey': 'Use a security key or passkey',
  'twoStep.useSecurityKey': 'Use a security key or passkey',
  'twoStep.securityKeyOnly': 'Confirm with one of your security keys.',
  'signin.passkey': 'Sign in with a passkey',
  'signin.passkeyHint': 'No password needed: your phone, computer or security key confirms it is you.',
} as const;
