// Signing in with a passkey (SPEC §4): a discoverable credential made with user verification is
// something the owner has and something they know or are, in one phishing-resistant ceremony bound to
// this site's origin (NIST SP 800-63B-4 §3.1.7, multi-factor cryptographic authenticator). It gives a
// two-step session without the password. Every failure is the same INVALID_CREDENTIALS, whether the
// credential is unknown, removed, not a passkey, or its signature is wrong.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AppError } from '../core/errors.ts';
import type { RequestContext, Services } from './context.ts';
import { noteSignInBrowser } from './known-browsers.ts';
import { startSession } from './sessions.ts';
import type { SignedIn } from './sign-in.ts';
import {
  assertionCredentialId,
  assertionUserHandle,
  authenticationOptions,
  verifyAssertion,
} from './webauthn-ceremony.ts';

const BINDING = 'passkey-sign-in';

function requireEnabled(services: Services): void {
  if (!services.config.policy.passkeySignIn) throw new AppError('NOT_FOUND');
}

/** Options for navigator.credentials.get() with no allow list: the browser offers this site's passkeys. */
export function passkeySignInOptions(services: Services): Promise<PublicKeyCredentialRequestOptionsJSON> {
  requireEnabled(services);
  return authenticationOptions(services, BINDING, undefined);
}

export async function signInWithPasskey(
  services: Services,
  input: { response: unknown; knownBrowser?: string | undefined },
  ctx: RequestContext,
): Promise<SignedIn> {
  requireEnabled(services);
  const { store } = services;
  const credentialId = assertionCredentialId(input.response);
  const key = credentialId ? await store.securityKeys.findByCredentialId(credentialId) : undefined;
  // The authenticator names the account it made the passkey for: it must be the key's own.
  if (!key?.passkey || assertionUserHandle(input.response) !== key.accountId) throw new AppError('INVALID_CREDENTIALS');
  const verdict = await verifyAssertion(services, BINDING, input.response, key, {
    requireUserVerification: true,
    uses: services.store.securityKeys,
  });
  if (verdict !== 'accepted') throw new AppError('INVALID_CREDENTIALS');
  const account = await store.accounts.findById(key.accountId);
  if (!account || account.state === 'disabled') throw new AppError('ACCOUNT_DISABLED');
  if (account.state === 'locked') throw new AppError('ACCOUNT_LOCKED');
  if (!account.email_verified_at) throw new AppError('EMAIL_NOT_VERIFIED');
  const session = await store.transaction((tx) => startSession(services, tx, account, 'two-step', ctx));
  const knownBrowser = await noteSignInBrowser(services, account, input.knownBrowser, ctx, { notify: 'if-new' });
  return { status: 'signed_in', token: session.token, sessionId: session.id, account, knownBrowser };
}
