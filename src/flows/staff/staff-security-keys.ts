// Security keys (WebAuthn) as a staff member's second step at console sign-in, besides or instead of
// the authenticator app. A signed-in member registers and removes their own keys; each change is
// audited. The ceremonies are the customers' (flows/webauthn-ceremony.ts) with bindings of their own,
// and the keys live apart (store/staff-security-keys.ts): no customer key ever answers for staff.
//
// Changing how one signs in needs a recent sign-in (the console session opened in the last 15
// minutes), so a console session left open cannot quietly get a key of someone else's added.
import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { MINUTE } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { StaffSecurityKey } from '../../store/staff-security-keys.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { registrationOptions, verifyRegistration } from '../webauthn-ceremony.ts';
import { type StaffAuth, staffActor } from './staff-sessions.ts';

/** Staff need a few keys (a spare in a drawer), not a collection. */
export const STAFF_SECURITY_KEYS_MAX = 5;
export const STAFF_RECENT_SIGN_IN_MS = 15 * MINUTE;

export interface StaffSecurityKeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

function view(key: StaffSecurityKey): StaffSecurityKeyView {
  return { id: key.id, name: key.name, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt };
}

/** Refuses a change of sign-in methods on a console session older than STAFF_RECENT_SIGN_IN_MS. */
export function requireRecentStaffSignIn(services: Services, auth: StaffAuth): void {
  if (services.clock.now().getTime() - auth.session.created_at.getTime() > STAFF_RECENT_SIGN_IN_MS)
    throw new AppError('STAFF_RECENT_SIGN_IN_REQUIRED');
}

/** A registration belongs to the console session that asked for it: its options verify nowhere else. */
function registrationBinding(auth: StaffAuth): string {
  return `staff-register:${auth.session.id}`;
}

function cleanName(raw: string | undefined): string {
  const name = (raw ?? '').trim();
  if (name.length < 1 || name.length > 64 || /\p{C}/u.test(name)) throw new AppError('INVALID_LABEL');
  return name;
}

export async function listStaffSecurityKeys(services: Services, auth: StaffAuth): Promise<StaffSecurityKeyView[]> {
  return (await services.store.staffSecurityKeys.listForStaff(auth.member.id)).map(view);
}

/** Step 1: options for navigator.credentials.create(), good for this console session for 5 minutes. */
export async function startStaffSecurityKeyRegistration(
  services: Services,
  auth: StaffAuth,
  rawName: string | undefined,
): Promise<{ name: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  requireRecentStaffSignIn(services, auth);
  const name = cleanName(rawName);
  const existing = await services.store.staffSecurityKeys.listForStaff(auth.member.id);
  if (existing.length >= STAFF_SECURITY_KEYS_MAX) throw new AppError('SECURITY_KEY_LIMIT');
  const { member } = auth;
  const holder = { id: `staff:${member.id}`, email: member.email, name: member.name };
  return { name, options: await registrationOptions(services, holder, registrationBinding(auth), existing) };
}

/** Step 2: the authenticator's answer; the key is stored under the name the member gave it. */
export async function finishStaffSecurityKeyRegistration(
  services: Services,
  auth: StaffAuth,
  input: { name: string | undefined; response: unknown },
  ctx: RequestContext,
): Promise<StaffSecurityKeyView> {
  requireRecentStaffSignIn(services, auth);
  const name = cleanName(input.name);
  const credential = await verifyRegistration(services, registrationBinding(auth), input.response);
  if (!credential) throw new AppError('SECURITY_KEY_REJECTED');
  const now = services.clock.now();
  const key: StaffSecurityKey = {
    id: randomUUID(),
    staffId: auth.member.id,
    credentialId: credential.credentialId,
    publicKey: credential.publicKey,
    signCount: credential.signCount,
    transports: credential.transports,
    name,
    createdAt: now,
    lastUsedAt: null,
  };
  await services.store.transaction(async (tx) => {
    const added = await tx.staffSecurityKeys.add(key, { max: STAFF_SECURITY_KEYS_MAX });
    if (added === 'limit_reached') throw new AppError('SECURITY_KEY_LIMIT');
    if (added === 'already_registered') throw new AppError('SECURITY_KEY_ALREADY_REGISTERED');
    await tx.audit.record({
      accountId: null,
      actor: staffActor(auth.member),
      event: 'staff.security_key_added',
      at: now,
      ...origin(ctx),
      details: { securityKey: key.id, name },
    });
  });
  return view(key);
}

/** Removes one of the member's keys; never their last second step. */
export async function removeStaffSecurityKey(
  services: Services,
  auth: StaffAuth,
  id: string,
  ctx: RequestContext,
): Promise<void> {
  requireRecentStaffSignIn(services, auth);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    const member = await tx.staff.lockForUpdate(auth.member.id);
    const keys = await tx.staffSecurityKeys.listForStaff(auth.member.id);
    if (!member || !keys.some((key) => key.id === id)) throw new AppError('NOT_FOUND');
    if (member.totp_confirmed_at === null && keys.length <= 1) throw new AppError('STAFF_LAST_SECOND_STEP');
    const removed = await tx.staffSecurityKeys.remove(auth.member.id, id, now);
    if (removed === undefined) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId: null,
      actor: staffActor(auth.member),
      event: 'staff.security_key_removed',
      at: now,
      ...origin(ctx),
      details: { securityKey: id, name: removed },
    });
  });
}

/** Forgets the member's authenticator app, when a security key remains as their second step. */
export async function removeStaffTotp(services: Services, auth: StaffAuth, ctx: RequestContext): Promise<void> {
  requireRecentStaffSignIn(services, auth);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await tx.staff.lockForUpdate(auth.member.id);
    if ((await tx.staffSecurityKeys.listForStaff(auth.member.id)).length === 0)
      throw new AppError('STAFF_LAST_SECOND_STEP');
    if (!(await tx.staff.removeTotp(auth.member.id))) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId: null,
      actor: staffActor(auth.member),
      event: 'staff.totp_removed',
      at: now,
      ...origin(ctx),
    });
  });
}
