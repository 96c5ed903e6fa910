// Authenticator apps (TOTP, RFC 6238; SECURITY.md §D) as a trusted factor of a customer account:
// enrolled by scanning a QR code (or typing the secret, shown in groups of four) and confirmed by a
// first code; usable for the second step of sign-in, step-up and recovery (challenges.ts answers with
// it). One app per account (SECURITY.md item 17): confirming a new one replaces the old, whose codes
// stop working then, not before, so re-enrolling never leaves the account without its factor.
// The 160-bit secret is stored sealed (AES-256-GCM, key derived from TWOSTEP_SECRET for this purpose),
// because the server must read it back. Each code is accepted once (authenticator-codes.ts). Neither
// the secret nor a code is ever logged.
import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import { AppError } from '../core/errors.ts';
import { keyring } from '../core/secrets.ts';
import { newTotpSecret, totpUri } from '../core/totp.ts';
import type { Authenticator } from '../store/authenticators.ts';
import { AUTHENTICATOR_SEAL_PURPOSE, claimAuthenticatorCode } from './authenticator-codes.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { notifyOwner } from './notify.ts';
import { assertKeepsSecondStep } from './second-steps.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

const ISSUER = 'Twostep';
const DEFAULT_LABEL = 'Authenticator app';

export interface AuthenticatorView {
  id: string;
  label: string;
  confirmed: boolean;
  addedAt: Date;
}

export interface AuthenticatorEnrolment {
  authenticator: AuthenticatorView;
  /** Base32, for typing into the app by hand. */
  secret: string;
  /** The same secret in groups of four, as shown to people. */
  secretGroups: string;
  uri: string;
  /** The URI as a QR code (SVG markup without style attributes or scripts: fine under the CSP). */
  qrSvg: string;
}

export function authenticatorView(a: Authenticator): AuthenticatorView {
  return { id: a.id, label: a.label, confirmed: a.confirmedAt !== null, addedAt: a.createdAt };
}

export function groupSecret(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

function cleanLabel(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_LABEL;
  const label = raw.trim();
  if (label.length < 1 || label.length > 64) throw new AppError('INVALID_LABEL');
  return label;
}

export async function listAuthenticators(services: Services, accountId: string): Promise<AuthenticatorView[]> {
  return (await services.store.authenticators.listForAccount(accountId)).map(authenticatorView);
}

/**
 * Step 1: a new secret, stored sealed and not yet usable; any earlier unconfirmed enrolment is
 * dropped. An app already confirmed keeps working until the new one is confirmed.
 */
export async function startAuthenticator(
  services: Services,
  auth: AuthenticatedSession,
  rawLabel: string | undefined,
): Promise<AuthenticatorEnrolment> {
  requireRecentTwoStep(services, auth);
  const label = cleanLabel(rawLabel);
  const now = services.clock.now();
  const existing = await services.store.authenticators.listForAccount(auth.account.id);
  for (const pending of existing.filter((a) => !a.confirmedAt))
    await services.store.authenticators.remove(auth.account.id, pending.id, now);
  const secret = newTotpSecret();
  const authenticator: Authenticator = {
    id: randomUUID(),
    accountId: auth.account.id,
    label,
    secretSealed: keyring(services.config).seal(AUTHENTICATOR_SEAL_PURPOSE, secret),
    createdAt: now,
    confirmedAt: null,
  };
  await services.store.authenticators.add(authenticator);
  return enrolmentView(authenticator, secret, auth.account.email);
}

async function enrolmentView(app: Authenticator, secret: string, email: string): Promise<AuthenticatorEnrolment> {
  const uri = totpUri(secret, email, ISSUER);
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { authenticator: authenticatorView(app), secret, secretGroups: groupSecret(secret), uri, qrSvg };
}

/** An unconfirmed enrolment shown again to its owner (the portal after a mistyped first code). */
export async function pendingAuthenticator(
  services: Services,
  auth: AuthenticatedSession,
  id: string,
): Promise<AuthenticatorEnrolment | undefined> {
  const app = await services.store.authenticators.find(auth.account.id, id);
  if (!app || app.confirmedAt) return undefined;
  const secret = keyring(services.config).unsealAny(AUTHENTICATOR_SEAL_PURPOSE, app.secretSealed)?.plaintext;
  return secret ? enrolmentView(app, secret, auth.account.email) : undefined;
}

/**
 * Step 2: the first code from the app proves it was set up right. Wrong codes are limited as for a
 * challenge (codeAttemptsPerChallenge); then the enrolment is dropped and must start again.
 */
export async function confirmAuthenticator(
  services: Services,
  auth: AuthenticatedSession,
  id: string,
  code: string,
  ctx: RequestContext,
): Promise<AuthenticatorView> {
  requireRecentTwoStep(services, auth);
  const accountId = auth.account.id;
  const app = await services.store.authenticators.find(accountId, id);
  if (!app) throw new AppError('NOT_FOUND');
  if (app.confirmedAt) throw new AppError('CHALLENGE_CLOSED');
  const now = services.clock.now();
  const claimed = await claimAuthenticatorCode(services, app, code);
  // A used step is refused but not counted: only someone who had the right code can send it.
  if (claimed === 'used') throw new AppError('CODE_WRONG');
  if (claimed === 'wrong') {
    const max = services.config.policy.codeAttemptsPerChallenge;
    const wrong = await services.kv.increment(`account-totp:confirm:${id}`, 60 * 60 * 1000);
    if (wrong >= max) {
      await services.store.authenticators.remove(accountId, id, now);
      throw new AppError('CHALLENGE_CLOSED');
    }
    throw new AppError('CODE_WRONG', { detail: { attemptsLeft: max - wrong } });
  }
  await services.store.transaction(async (tx) => {
    if (!(await tx.authenticators.markConfirmed(accountId, id, now))) throw new AppError('CHALLENGE_CLOSED');
    // One app per account: the one it replaces stops working in the same transaction.
    const replaced = (await tx.authenticators.listForAccount(accountId)).filter((a) => a.confirmedAt && a.id !== id);
    for (const old of replaced) {
      await tx.authenticators.remove(accountId, old.id, now);
      await tx.audit.record({
        accountId,
        actor: `account:${accountId}`,
        event: 'totp.removed',
        at: now,
        ...origin(ctx),
        details: { authenticator: old.id, replacedBy: id },
      });
    }
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'totp.added',
      at: now,
      ...origin(ctx),
      details: { authenticator: id, label: app.label },
    });
  });
  await notifyOwner(services, auth.account, 'totpAdded', { label: app.label });
  return { ...authenticatorView(app), confirmed: true };
}

/** Removal is a protected change; on an account with two-step verification the last factor stays. */
export async function removeAuthenticator(
  services: Services,
  auth: AuthenticatedSession,
  id: string,
  ctx: RequestContext,
): Promise<void> {
  requireRecentTwoStep(services, auth);
  const accountId = auth.account.id;
  const app = await services.store.authenticators.find(accountId, id);
  if (!app) throw new AppError('NOT_FOUND');
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await assertKeepsSecondStep(services, tx, accountId, { authenticatorId: id });
    if (!(await tx.authenticators.remove(accountId, id, now))) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'totp.removed',
      at: now,
      ...origin(ctx),
      details: { authenticator: id },
    });
  });
  // An enrolment that was never finished changed nothing the owner needs to hear about.
  if (app.confirmedAt) await notifyOwner(services, auth.account, 'totpRemoved', { label: app.label });
}
