// Security keys and passkeys (WebAuthn; SPEC §4, SECURITY.md §D) as trusted factors of a customer
// account: registered under a recent verification (a protected change, like every factor), named,
// listed with when they were added and last used, removed. How many an account may have and whether
// they replace codes is SECURITY_KEY_RULES (core/security-key-policy.ts). The ceremony itself is in
// webauthn-ceremony.ts; answering a challenge with a key is security-key-proof.ts.
import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { AppError } from '../core/errors.ts';
import { securityKeyLimits } from '../core/security-key-policy.ts';
import type { SecurityKey } from '../store/security-keys.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { notifyOwner } from './notify.ts';
import { assertKeepsSecondStep } from './second-steps.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';
import { registrationOptions, verifyRegistration } from './webauthn-ceremony.ts';

export interface SecurityKeyView {
  id: string;
  name: string;
  passkey: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function securityKeyView(key: SecurityKey): SecurityKeyView {
  return { id: key.id, name: key.name, passkey: key.passkey, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt };
}

/** A registration belongs to the session that asked for it: its options verify nowhere else. */
function registrationBinding(auth: AuthenticatedSession): string {
  return `register:${auth.session.id}`;
}

function cleanName(raw: string | undefined): string {
  const name = (raw ?? '').trim();
  if (name.length < 1 || name.length > 64) throw new AppError('INVALID_LABEL');
  return name;
}

export async function listSecurityKeys(services: Services, accountId: string): Promise<SecurityKeyView[]> {
  return (await services.store.securityKeys.listForAccount(accountId)).map(securityKeyView);
}

/** Step 1: options for the browser's navigator.credentials.create(), good for this session for 5 minutes. */
export async function startSecurityKeyRegistration(
  services: Services,
  auth: AuthenticatedSession,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  requireRecentTwoStep(services, auth);
  const existing = await services.store.securityKeys.listForAccount(auth.account.id);
  if (existing.length >= securityKeyLimits(services.config.policy.securityKeyRules).max)
    throw new AppError('SECURITY_KEY_LIMIT');
  return registrationOptions(services, auth.account, registrationBinding(auth), existing);
}

/** Step 2: the authenticator's answer; the key is stored under the name the owner gave it. */
export async function finishSecurityKeyRegistration(
  services: Services,
  auth: AuthenticatedSession,
  input: { name: string | undefined; response: unknown },
  ctx: RequestContext,
): Promise<SecurityKeyView> {
  requireRecentTwoStep(services, auth);
  const name = cleanName(input.name);
  const credential = await verifyRegistration(services, registrationBinding(auth), input.response);
  if (!credential) throw new AppError('SECURITY_KEY_REJECTED');
  const accountId = auth.account.id;
  const now = services.clock.now();
  const key: SecurityKey = { id: randomUUID(), accountId, name, createdAt: now, lastUsedAt: null, ...credential };
  const { max } = securityKeyLimits(services.config.policy.securityKeyRules);
  await services.store.transaction(async (tx) => {
    const added = await tx.securityKeys.add(key, { max });
    if (added === 'limit_reached') throw new AppError('SECURITY_KEY_LIMIT');
    if (added === 'already_registered') throw new AppError('SECURITY_KEY_ALREADY_REGISTERED');
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'security_key.added',
      at: now,
      ...origin(ctx),
      details: { securityKey: key.id, name, passkey: key.passkey },
    });
  });
  await notifyOwner(services, auth.account, 'securityKeyAdded', { label: name });
  return securityKeyView(key);
}

/** Removal is a protected change; on an account with two-step verification the last factor stays. */
export async function removeSecurityKey(
  services: Services,
  auth: AuthenticatedSession,
  id: string,
  ctx: RequestContext,
): Promise<void> {
  requireRecentTwoStep(services, auth);
  const accountId = auth.account.id;
  const keys = await services.store.securityKeys.listForAccount(accountId);
  if (!keys.some((k) => k.id === id)) throw new AppError('NOT_FOUND');
  const now = services.clock.now();
  const name = await services.store.transaction(async (tx) => {
    await assertKeepsSecondStep(services, tx, accountId, { securityKeyId: id });
    const removed = await tx.securityKeys.remove(accountId, id, now);
    if (removed === undefined) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'security_key.removed',
      at: now,
      ...origin(ctx),
      details: { securityKey: id },
    });
    return removed;
  });
  await notifyOwner(services, auth.account, 'securityKeyRemoved', { label: name });
}
