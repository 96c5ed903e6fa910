// Challenges (SPEC §2): issue one with a code, push the code to devices, verify an answer, cancel.
// What happens when a challenge completes depends on its purpose: each purpose registers its own
// completion (DESIGN.md convention 2), so a new kind of verification is a new entry, not a new branch.
import { randomInt } from 'node:crypto';
import { MINUTE } from '../core/clock.ts';
import { codeMatches, generateCode, hashCode, normalizeCode } from '../core/codes.ts';
import { AppError } from '../core/errors.ts';
import { keyring } from '../core/secrets.ts';
import { randomToken } from '../core/tokens.ts';
import type { Account } from '../store/accounts.ts';
import type { Challenge } from '../store/challenges.ts';
import type { Store } from '../store/index.ts';
import { acceptAuthenticatorCode } from './authenticator-codes.ts';
import { pushCountKey } from './channels/device-channel.ts';
import { codesReplacedByKeys } from './channels/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { requestOrigin } from './request-origin.ts';
import {
  assertNoTimedLock,
  assertNotLocked,
  assertRecoveryOpen,
  countWrongCode,
  countWrongRecoveryCode,
  forgiveWrongCodes,
} from './wrong-codes.ts';

export type ChallengePurpose = 'verify_device' | 'verify_phone' | 'sign_in' | 'step_up' | 'recovery';

/**
 * Purposes whose wrong codes count against the account's budget (SPEC §5): they follow a correct
 * password. Not `recovery`: its code follows the recovery key alone, so its wrong codes count in the
 * recovery budget instead and can never lock the owner out (wrong-codes.ts).
 */
const ACCOUNT_BUDGET_PURPOSES = new Set<string>(['sign_in', 'step_up']);
/**
 * Purposes an authenticator-app code can answer: where a trusted device or phone proves "something you
 * have" (the second step of a sign-in, a step-up, and the code after the recovery key, SPEC §3.7).
 * Not verify_device / verify_phone: those prove that one device or number.
 */
const AUTHENTICATOR_PURPOSES = new Set<string>(['sign_in', 'step_up', 'recovery']);

export type Completion = (services: Services, tx: Store, challenge: Challenge, ctx: RequestContext) => Promise<void>;

const completions = new Map<string, Completion>();

export function onChallengeCompleted(purpose: ChallengePurpose, completion: Completion): void {
  completions.set(purpose, completion);
}

export interface IssuedChallenge {
  id: string;
  purpose: ChallengePurpose;
  expiresAt: Date;
}

/** Creates a challenge with a fresh code and pushes the code, with where the request came from, to the given devices. */
export async function issueChallenge(
  services: Services,
  options: { accountId: string; purpose: ChallengePurpose; subject?: string; deviceIds: string[] },
  ctx: RequestContext,
): Promise<IssuedChallenge> {
  const { config, clock, store, hub } = services;
  const now = clock.now();
  const id = randomToken(16);
  const code = generateCode(config.policy.codeLength, randomInt);
  const expiresAt = new Date(now.getTime() + config.policy.codeLifetimeMinutes * MINUTE);
  const context = requestOrigin(ctx.ip, ctx.userAgent, now);
  const payload = {
    type: 'code',
    challengeId: id,
    code,
    purpose: options.purpose,
    expiresAt: expiresAt.toISOString(),
    context,
  };
  // The code goes out first and the rows follow within milliseconds: nobody can read a code off a
  // device and type it back before they are written. If writing fails, the devices are told to drop it.
  if (options.deviceIds.length > 0) {
    await hub.publish(options.deviceIds, payload);
    services.metrics.codeSent('device');
  }
  try {
    await store.challenges.create({
      id,
      accountId: options.accountId,
      purpose: options.purpose,
      subject: options.subject ?? null,
      codeHash: hashCode(keyring(config).current, id, code),
      codeSentAt: now,
      createdAt: now,
      expiresAt,
      maxAttempts: config.policy.codeAttemptsPerChallenge,
      context: { ...context },
    });
    await hub.keep(options.deviceIds, id, payload, expiresAt);
  } catch (error) {
    if (options.deviceIds.length > 0)
      await hub.notify(options.deviceIds, { type: 'cancelled', challengeId: id }).catch(() => {});
    throw error;
  }
  return { id, purpose: options.purpose, expiresAt };
}

/**
 * Creates a challenge whose first code is delivered before anything is stored, as issueChallenge
 * pushes first: when the delivery fails (an SMS provider down) nothing is left behind. `write` adds
 * what the challenge is about in the same transaction as the challenge itself.
 */
export async function issueChallengeAfterDelivery(
  services: Services,
  options: { accountId: string; purpose: ChallengePurpose; subject: string; channel: string },
  steps: { deliver: (code: string) => Promise<void>; write: (tx: Store) => Promise<void> },
  ctx: RequestContext,
): Promise<IssuedChallenge> {
  const { config, clock } = services;
  const now = clock.now();
  const id = randomToken(16);
  const code = generateCode(config.policy.codeLength, randomInt);
  const expiresAt = new Date(now.getTime() + config.policy.codeLifetimeMinutes * MINUTE);
  await steps.deliver(code);
  services.metrics.codeSent(options.channel);
  await services.store.transaction(async (tx) => {
    await steps.write(tx);
    await tx.challenges.create({
      id,
      accountId: options.accountId,
      purpose: options.purpose,
      subject: options.subject,
      codeHash: hashCode(keyring(config).current, id, code),
      codeSentAt: now,
      createdAt: now,
      expiresAt,
      maxAttempts: config.policy.codeAttemptsPerChallenge,
      context: { ...requestOrigin(ctx.ip, ctx.userAgent, now) },
    });
  });
  return { id, purpose: options.purpose, expiresAt };
}

/** Creates a challenge without a code yet: the user first chooses where the code goes (sendChallengeCode). */
export async function openChallenge(
  services: Services,
  options: { accountId: string; purpose: ChallengePurpose; subject?: string },
  ctx: RequestContext,
): Promise<IssuedChallenge> {
  const { config, clock, store } = services;
  const now = clock.now();
  const id = randomToken(16);
  const expiresAt = new Date(now.getTime() + config.policy.codeLifetimeMinutes * MINUTE);
  await store.challenges.create({
    id,
    accountId: options.accountId,
    purpose: options.purpose,
    subject: options.subject ?? null,
    codeHash: null,
    codeSentAt: null,
    createdAt: now,
    expiresAt,
    maxAttempts: config.policy.codeAttemptsPerChallenge,
    context: { ...requestOrigin(ctx.ip, ctx.userAgent, now) },
  });
  return { id, purpose: options.purpose, expiresAt };
}

/** A fresh code for an open challenge; the previous one stops working, the failure count stays (SECURITY.md item 13). */
export async function replaceChallengeCode(services: Services, challenge: Challenge): Promise<string> {
  const code = generateCode(services.config.policy.codeLength, randomInt);
  if (
    !(await services.store.challenges.replaceCode(
      challenge.id,
      hashCode(keyring(services.config).current, challenge.id, code),
      services.clock.now(),
    ))
  ) {
    throw new AppError('CHALLENGE_CLOSED');
  }
  return code;
}

/**
 * An answer to a challenge that is not a code: a security key's signature, a device's approval. Each
 * kind lives in its own module and says which purposes it may answer; `check` claims the proof (once,
 * atomically) and is only called while the challenge looks open.
 */
export interface Proof {
  /** Recorded in the audit event (`by`) and told to services (OIDC `amr`). */
  by: AnsweredBy;
  purposes: ReadonlySet<string>;
  check(services: Services, challenge: Challenge): Promise<ProofResult>;
}

/**
 * `accepted`: right, and this call used it up. `used`: right but already used (a replay, or a
 * concurrent copy of one answer): refused without counting a failure. `wrong`: counted like a wrong code.
 */
export type ProofResult = 'accepted' | 'used' | 'wrong';

/** A code typed by the user, or a proof of another kind. */
export type ChallengeAnswer = string | Proof;

function looksOpen(challenge: Challenge, now: Date): boolean {
  return (
    !challenge.completedAt &&
    !challenge.cancelledAt &&
    challenge.expiresAt > now &&
    challenge.failedAttempts < challenge.maxAttempts
  );
}

/** What answered a challenge: the code it sent, an authenticator app's code, a security key, a device's approval. */
export type AnsweredBy = 'code' | 'totp' | 'webauthn' | 'approval';

/** A completed challenge, and what answered it. */
export type AnsweredChallenge = Challenge & { answeredBy: AnsweredBy };

/**
 * Rows the caller already read in this request, so they are not read again. Reading them here
 * instead would be no fresher: the completion itself is one conditional UPDATE (store/challenges.ts).
 */
export interface AlreadyRead {
  challenge?: Challenge | undefined;
  account?: Account | undefined;
  /**
   * What the caller does with a completed challenge (a sign-in starts its session), in the completion's
   * own transaction: both commit together, in one commit instead of two. If it throws, neither does.
   */
  onCompleted?: (tx: Store, challenge: Challenge) => Promise<void>;
}

/** Checks an answer to one of the account's challenges; on success runs the purpose's completion in the same transaction. */
export async function answerChallenge(
  services: Services,
  accountId: string,
  challengeId: string,
  answer: ChallengeAnswer,
  ctx: RequestContext,
  read: AlreadyRead = {},
): Promise<AnsweredChallenge> {
  const { config, clock, store } = services;
  const now = clock.now();
  const challenge = read.challenge?.id === challengeId ? read.challenge : await store.challenges.find(challengeId);
  // Someone else's challenge looks exactly like a missing one.
  if (!challenge || challenge.accountId !== accountId) throw new AppError('NOT_FOUND');
  // While a timed lock runs, no answer is even checked: the lock bounds the guessing, not just the count.
  if (ACCOUNT_BUDGET_PURPOSES.has(challenge.purpose)) {
    await assertNoTimedLock(services, accountId);
    await assertNotLocked(services, accountId, read.account);
  }
  if (challenge.purpose === 'recovery') await assertRecoveryOpen(services, accountId);
  const rawCode = typeof answer === 'string' ? answer : '';
  const code = typeof answer === 'string' ? normalizeCode(rawCode, config.policy.codeLength) : undefined;
  const sentCodeMatches = (stored: string | null) =>
    code !== undefined &&
    stored !== null &&
    keyring(config).verifyAny((secret) => codeMatches(secret, challengeId, code, stored));
  // Under Apple's rules, enough security keys replace codes for every second step.
  if (
    typeof answer === 'string' &&
    AUTHENTICATOR_PURPOSES.has(challenge.purpose) &&
    (await codesReplacedByKeys(services, accountId))
  )
    throw new AppError('SECURITY_KEY_REQUIRED');
  // A challenge is answered by the code it sent or, for a sign-in or step-up, by a code from one of
  // the account's authenticator apps (no send needed). The app code's time step is claimed first,
  // atomically and once (authenticator-codes.ts), and only while the challenge looks open; the answer
  // then goes through the same verify as any code, so the per-challenge attempt count and the
  // account's wrong-code budget apply to both alike. A right app code whose step was used already
  // (a replay, or concurrent copies of one answer) is refused without counting a failure, just as
  // concurrent copies of a right sent code are: it is not a guess, and it can never succeed.
  // A proof of another kind (a security key, a device's approval) goes through the same verify.
  let proven: ProofResult = 'wrong';
  let by: AnsweredBy = 'code';
  if (typeof answer !== 'string') {
    if (!answer.purposes.has(challenge.purpose)) throw new AppError('NOT_FOUND');
    if (looksOpen(challenge, now)) proven = await answer.check(services, challenge);
    by = answer.by;
  } else if (
    AUTHENTICATOR_PURPOSES.has(challenge.purpose) &&
    looksOpen(challenge, now) &&
    !sentCodeMatches(challenge.codeHash)
  ) {
    proven = await acceptAuthenticatorCode(services, accountId, rawCode);
    by = 'totp';
  }
  if (proven === 'used')
    throw new AppError('CODE_WRONG', { detail: { attemptsLeft: challenge.maxAttempts - challenge.failedAttempts } });
  const byProof = proven === 'accepted';
  const outcome = await store.transaction(async (tx) => {
    const result = await tx.challenges.verify(challenge, (stored) => byProof || sentCodeMatches(stored), now);
    if (result.result === 'completed') {
      const completion = completions.get(result.challenge.purpose);
      if (completion) await completion(services, tx, result.challenge, ctx);
      if (read.onCompleted) await read.onCompleted(tx, result.challenge);
      await tx.audit.record({
        accountId,
        actor: `account:${accountId}`,
        event: 'challenge.completed',
        at: now,
        ...origin(ctx),
        details: { purpose: result.challenge.purpose, ...(byProof ? { by } : {}) },
      });
    } else if (result.result === 'wrong') {
      await tx.audit.record({
        accountId,
        actor: `account:${accountId}`,
        event: 'challenge.failed',
        at: now,
        ...origin(ctx),
        details: { purpose: challenge.purpose },
      });
    }
    return result;
  });
  if (outcome.result === 'completed' || outcome.result === 'wrong')
    services.metrics.codeVerified(challenge.purpose, outcome.result === 'completed' ? 'ok' : 'wrong');
  if (outcome.result === 'completed') {
    if (ACCOUNT_BUDGET_PURPOSES.has(challenge.purpose)) await forgiveWrongCodes(services, accountId);
    // The push cap counts since the last accepted code (device-channel.ts).
    await services.kv.delete(pushCountKey(accountId));
    // The code did its work: devices still showing it can put it away. Devices get something of a
    // challenge only after a code was set (issueChallenge, replaceChallengeCode), and the row as it
    // was completed says whether one was: an app code answering a challenge nobody sent leaves
    // nothing on any device, and no reason to list them.
    if (outcome.challenge.codeSentAt !== null) {
      await store.devicePushes.removeForChallenge(challengeId);
      const devices = await store.devices.listForAccount(accountId);
      await services.hub.notify(
        devices.map((d) => d.id),
        { type: 'cancelled', challengeId, reason: 'answered' },
      );
    }
    return { ...outcome.challenge, answeredBy: byProof ? by : 'code' };
  }
  if (outcome.result === 'wrong' && ACCOUNT_BUDGET_PURPOSES.has(challenge.purpose))
    await countWrongCode(services, accountId, ctx);
  if (outcome.result === 'wrong' && challenge.purpose === 'recovery')
    await countWrongRecoveryCode(services, accountId, ctx);
  if (outcome.result === 'wrong') throw new AppError('CODE_WRONG', { detail: { attemptsLeft: outcome.attemptsLeft } });
  if (outcome.reason === 'expired') throw new AppError('CODE_EXPIRED');
  if (outcome.reason === 'missing') throw new AppError('NOT_FOUND');
  throw new AppError('CHALLENGE_CLOSED');
}

/** "This wasn't me" from a device: the challenge dies, the other devices forget it, and the event is recorded. */
export async function denyChallenge(
  services: Services,
  device: { id: string; accountId: string },
  challengeId: string,
  ctx: RequestContext,
): Promise<boolean> {
  const { clock, store, hub } = services;
  const now = clock.now();
  const challenge = await store.challenges.find(challengeId);
  if (!challenge || challenge.accountId !== device.accountId) return false;
  const cancelled = await store.transaction(async (tx) => {
    const done = await tx.challenges.cancel(challengeId, now);
    if (done) {
      await tx.audit.record({
        accountId: device.accountId,
        actor: `device:${device.id}`,
        event: 'challenge.denied',
        at: now,
        ...origin(ctx),
        details: { purpose: challenge.purpose, requestedFrom: challenge.context },
      });
    }
    return done;
  });
  if (!cancelled) return false;
  await store.devicePushes.removeForChallenge(challengeId);
  const devices = await store.devices.listForAccount(device.accountId);
  await hub.notify(
    devices.map((d) => d.id),
    { type: 'cancelled', challengeId },
  );
  return true;
}
