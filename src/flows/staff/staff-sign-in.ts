// Staff sign-in (SPEC §3.15: staff must use two-step verification): the password, then a TOTP code or
// one of the member's security keys (staff-second-steps.ts). No console session exists until both
// passed. A member with no second step yet gets, after the password, only the setup step: the TOTP
// secret is shown, and a code from it both proves the setup and opens the first session. Nothing else
// of the console is reachable before that; a member who has a key never gets the setup step, so a
// password alone cannot add an authenticator.
//
// Between the two steps the browser holds a pending sign-in: a random token whose hash names the
// member in the key-value store for 10 minutes, used once.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { MINUTE } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { randomToken, sha256 } from '../../core/tokens.ts';
import { newTotpSecret, totpUri } from '../../core/totp.ts';
import type { StaffMember } from '../../store/staff.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { assertionCredentialId, authenticationOptions, verifyAssertion } from '../webauthn-ceremony.ts';
import { hasSecondStep, staffSecondSteps } from './staff-second-steps.ts';
import { staffActor, startStaffSession } from './staff-sessions.ts';
import { acceptTotpCode, openTotpSecret, sealTotpSecret } from './staff-totp.ts';

const PENDING_MS = 10 * MINUTE;
/**
 * Attempts per staff email and failures per client address in a 15-minute window. An email's attempts
 * are counted before they are checked (atomic increment), so parallel guesses cannot slip past, and a
 * complete sign-in forgives them. An address counts only failures (staff share office addresses, and
 * their own sign-ins must not lock each other out); it is checked before each attempt.
 * Staff are few and known: a fixed window is enough.
 */
const WINDOW_MS = 15 * MINUTE;
const ATTEMPTS_PER_EMAIL = 10;
const FAILURES_PER_IP = 50;

function tooMany(waitMs: number | undefined): AppError {
  return new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.max(1, Math.ceil((waitMs ?? WINDOW_MS) / 1000)) });
}

async function claimAttempt(services: Services, email: string, ip: string): Promise<() => Promise<void>> {
  const emailKey = `staff-signin:email:${sha256(email)}`;
  const ipKey = `staff-signin:ip:${ip}`;
  if (Number((await services.kv.get(ipKey)) ?? 0) >= FAILURES_PER_IP)
    throw tooMany(await services.kv.remainingMs(ipKey));
  if ((await services.kv.increment(emailKey, WINDOW_MS)) > ATTEMPTS_PER_EMAIL)
    throw tooMany(await services.kv.remainingMs(emailKey));
  return () => services.kv.delete(emailKey);
}

async function countFailure(services: Services, ip: string): Promise<void> {
  await services.kv.increment(`staff-signin:ip:${ip}`, WINDOW_MS);
}

function normalizeStaffEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

async function recordFailure(
  services: Services,
  member: StaffMember | undefined,
  step: 'password' | 'code' | 'security_key',
  ctx: RequestContext,
): Promise<void> {
  await countFailure(services, ctx.ip);
  if (!member) return;
  await services.store.audit.record({
    accountId: null,
    actor: staffActor(member),
    event: 'staff.signin_failed',
    at: services.clock.now(),
    ...origin(ctx),
    details: { step },
  });
}

/** Checks email and password (constant work for unknown emails); the member, or INVALID_CREDENTIALS. */
async function checkPassword(
  services: Services,
  input: { email: string; password: string },
  ctx: RequestContext,
): Promise<StaffMember> {
  const email = normalizeStaffEmail(input.email);
  // The email's count is forgiven only once the second factor passes too.
  await claimAttempt(services, email, ctx.ip);
  const found = email.length > 0 && email.length <= 320 ? await services.store.staff.findByEmail(email) : undefined;
  const member = found?.disabled_at === null ? found : undefined;
  const ok = await services.hasher.verify(member?.password_hash, input.password);
  if (!member || !ok) {
    await recordFailure(services, member, 'password', ctx);
    throw new AppError('INVALID_CREDENTIALS');
  }
  return member;
}

export type PendingNext = 'code' | 'setup';

/** Step 1 in the console: the password. Returns the pending token and which step comes next. */
export async function staffPasswordStep(
  services: Services,
  input: { email: string; password: string },
  ctx: RequestContext,
): Promise<{ pendingToken: string; next: PendingNext }> {
  const member = await checkPassword(services, input, ctx);
  const pendingToken = randomToken(32);
  await services.kv.set(`staff-pending:${sha256(pendingToken)}`, member.id, PENDING_MS);
  return { pendingToken, next: await nextStep(services, member) };
}

async function nextStep(services: Services, member: StaffMember): Promise<PendingNext> {
  return hasSecondStep(await staffSecondSteps(services, member)) ? 'code' : 'setup';
}

async function pendingMember(services: Services, pendingToken: string | undefined): Promise<StaffMember> {
  if (!pendingToken || !/^[A-Za-z0-9_-]{43}$/.test(pendingToken)) throw new AppError('UNAUTHENTICATED');
  const id = await services.kv.get(`staff-pending:${sha256(pendingToken)}`);
  const member = id ? await services.store.staff.findById(id) : undefined;
  if (!member || member.disabled_at !== null) throw new AppError('UNAUTHENTICATED');
  return member;
}

/** Which step a pending sign-in is at (for the pages); UNAUTHENTICATED when there is none. */
export async function pendingStep(services: Services, pendingToken: string | undefined): Promise<PendingNext> {
  return nextStep(services, await pendingMember(services, pendingToken));
}

/** What the second-step page offers a pending sign-in: the code field, security keys, or both. */
export async function pendingSecondSteps(
  services: Services,
  pendingToken: string | undefined,
): Promise<{ totp: boolean; securityKeyOptions: PublicKeyCredentialRequestOptionsJSON | undefined }> {
  const steps = await staffSecondSteps(services, await pendingMember(services, pendingToken));
  return {
    totp: steps.totp,
    securityKeyOptions:
      steps.keys.length > 0
        ? await authenticationOptions(services, keyBinding(pendingToken as string), steps.keys)
        : undefined,
  };
}

/** A key's answer belongs to this pending sign-in: options made for another one verify nowhere else. */
function keyBinding(pendingToken: string): string {
  return `staff-signin:${sha256(pendingToken)}`;
}

/** Uses the pending sign-in up (exactly one request can) and opens the console session. */
async function finish(
  services: Services,
  member: StaffMember,
  pendingToken: string,
  ctx: RequestContext,
  options: { confirmSetup?: boolean } = {},
): Promise<string> {
  if (!(await services.kv.take(`staff-pending:${sha256(pendingToken)}`))) throw new AppError('UNAUTHENTICATED');
  const now = services.clock.now();
  return services.store.transaction(async (tx) => {
    if (options.confirmSetup) {
      if (!(await tx.staff.confirmTotp(member.id, now))) throw new AppError('UNAUTHENTICATED');
      await tx.audit.record({
        accountId: null,
        actor: staffActor(member),
        event: 'staff.totp_set_up',
        at: now,
        ...origin(ctx),
      });
    }
    return startStaffSession(services, tx, member, ctx);
  });
}

/** Step 2: the code from the member's authenticator. Returns the console session token. */
export async function staffCodeStep(
  services: Services,
  pendingToken: string | undefined,
  code: string,
  ctx: RequestContext,
): Promise<string> {
  const member = await pendingMember(services, pendingToken);
  if ((await nextStep(services, member)) === 'setup') throw new AppError('STAFF_TWO_STEP_SETUP_REQUIRED');
  const forgive = await claimAttempt(services, member.email, ctx.ip);
  // A secret offered at setup but never confirmed answers nothing.
  if (!member.totp_confirmed_at || !(await acceptTotpCode(services, member, code))) {
    await recordFailure(services, member, 'code', ctx);
    throw new AppError('CODE_WRONG');
  }
  await forgive();
  return finish(services, member, pendingToken as string, ctx);
}

/**
 * Step 2 with a security key: the assertion must come from one of this member's own live keys, for
 * options made for this pending sign-in, once. It draws on the same attempt budget as a code.
 */
export async function staffSecurityKeyStep(
  services: Services,
  pendingToken: string | undefined,
  response: unknown,
  ctx: RequestContext,
): Promise<string> {
  const member = await pendingMember(services, pendingToken);
  const { keys } = await staffSecondSteps(services, member);
  if (keys.length === 0)
    throw new AppError(member.totp_confirmed_at ? 'SECURITY_KEY_REJECTED' : 'STAFF_TWO_STEP_SETUP_REQUIRED');
  const forgive = await claimAttempt(services, member.email, ctx.ip);
  const credentialId = assertionCredentialId(response);
  const key = keys.find((k) => k.credentialId === credentialId);
  const verdict = key
    ? await verifyAssertion(services, keyBinding(pendingToken as string), response, key, {
        requireUserVerification: false,
        uses: services.store.staffSecurityKeys,
      })
    : 'wrong';
  if (verdict !== 'accepted') {
    await recordFailure(services, member, 'security_key', ctx);
    throw new AppError('SECURITY_KEY_REJECTED');
  }
  await forgive();
  return finish(services, member, pendingToken as string, ctx);
}

export interface TotpSetup {
  secret: string;
  uri: string;
}

/**
 * The secret to add to an authenticator, for a member who has none confirmed. The first visit
 * generates and stores it (sealed); later visits of the same setup show the same one.
 */
export async function staffTotpSetup(services: Services, pendingToken: string | undefined): Promise<TotpSetup> {
  const member = await pendingMember(services, pendingToken);
  if ((await nextStep(services, member)) !== 'setup') throw new AppError('UNAUTHENTICATED');
  let secret = member.totp_secret_sealed ? openTotpSecret(services.config, member.totp_secret_sealed) : undefined;
  if (!secret) {
    secret = newTotpSecret();
    if (!(await services.store.staff.offerTotpSecret(member.id, sealTotpSecret(services.config, secret))))
      throw new AppError('UNAUTHENTICATED');
  }
  return { secret, uri: totpUri(secret, member.email, 'Twostep console') };
}

/** The first code from the new authenticator: confirms the setup and opens the first session. */
export async function confirmStaffTotpSetup(
  services: Services,
  pendingToken: string | undefined,
  code: string,
  ctx: RequestContext,
): Promise<string> {
  const member = await pendingMember(services, pendingToken);
  if ((await nextStep(services, member)) !== 'setup') throw new AppError('UNAUTHENTICATED');
  const forgive = await claimAttempt(services, member.email, ctx.ip);
  if (!(await acceptTotpCode(services, member, code))) {
    await recordFailure(services, member, 'code', ctx);
    throw new AppError('CODE_WRONG');
  }
  await forgive();
  return finish(services, member, pendingToken as string, ctx, { confirmSetup: true });
}

/**
 * The API's sign-in: email, password and code in one request (an API client has no pending step).
 * A member without a confirmed authenticator must set it up in the console first.
 */
export async function staffApiSignIn(
  services: Services,
  input: { email: string; password: string; code: string },
  ctx: RequestContext,
): Promise<{ token: string; member: StaffMember }> {
  const member = await checkPassword(services, input, ctx);
  if (!member.totp_confirmed_at) throw new AppError('STAFF_TWO_STEP_SETUP_REQUIRED');
  if (!(await acceptTotpCode(services, member, input.code))) {
    await recordFailure(services, member, 'code', ctx);
    throw new AppError('CODE_WRONG');
  }
  await services.kv.delete(`staff-signin:email:${sha256(member.email)}`);
  const token = await services.store.transaction((tx) => startStaffSession(services, tx, member, ctx));
  return { token, member };
}
