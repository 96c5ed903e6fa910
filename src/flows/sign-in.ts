// SPEC §3.2: sign in with email and password, then, on a two-step account from a browser that is not
// trusted, a code. No session of any kind exists until every required step passed (SECURITY.md item 10):
// the password step yields only a challenge, whose id is single-use and dies with the challenge. Unknown emails, wrong passwords and
// malformed emails get the same answer after the same argon2 work (SECURITY.md item 35).

import { normalizeEmail } from '../core/account-fields.ts';
import { DAY, MINUTE } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { issueToken, secretMatches, splitToken } from '../core/tokens.ts';
import type { Account } from '../store/accounts.ts';
import type { Challenge } from '../store/challenges.ts';
import {
  type AnsweredBy,
  answerChallenge,
  type ChallengeAnswer,
  type IssuedChallenge,
  openChallenge,
} from './challenges.ts';
import './channels/all.ts';
import { type Channel, listChannels } from './channels/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { noteSignInBrowser } from './known-browsers.ts';
import { notifyOwner } from './notify.ts';
import { claimPasswordAttempt } from './password-throttle.ts';
import { requestOrigin } from './request-origin.ts';
import { startSession } from './sessions.ts';
import { sendVerificationEmail } from './sign-up.ts';
import { assertNoTimedLock } from './wrong-codes.ts';

export interface SignedIn {
  status: 'signed_in';
  token: string;
  sessionId: string;
  account: Account;
  /** The marker this browser keeps so that its next sign-in is not "new" (known-browsers.ts). */
  knownBrowser?: string;
}

export interface TwoStepRequired {
  status: 'two_step_required';
  challenge: IssuedChallenge & { channels: Channel[] };
}

function emailOrUndefined(raw: string): string | undefined {
  try {
    return normalizeEmail(raw);
  } catch {
    return undefined;
  }
}

export async function signIn(
  services: Services,
  input: {
    email: string;
    password: string;
    trustedBrowser?: string | undefined;
    knownBrowser?: string | undefined;
  },
  ctx: RequestContext,
): Promise<SignedIn | TwoStepRequired> {
  const { store, hasher, clock } = services;
  const attempt = await claimPasswordAttempt(services, input.email, ctx.ip, 'password', {
    knownBrowser: input.knownBrowser,
  });
  const email = emailOrUndefined(input.email);
  const account = email ? await store.accounts.findByEmail(email) : undefined;
  const passwordOk = await hasher.verify(account?.password_hash, input.password);
  if (!account || !passwordOk) {
    if (account) {
      // Written after the answer: an unknown email writes nothing, and waiting for this insert made a
      // wrong password for a known email 1–2 ms slower, which a Kolmogorov–Smirnov test over 200
      // samples told apart (p < 0.001; test/security/enumeration-timing.test.ts, SECURITY.md item 35).
      const failure = { accountId: account.id, actor: 'system', event: 'account.signin_failed', at: clock.now() };
      services.background.run('signin-failed-audit', () => store.audit.record({ ...failure, ...origin(ctx) }));
    }
    services.metrics.signIn('failed');
    // Counted for the server-wide alarm after the answer, for unknown emails and wrong passwords alike.
    services.alarms.failedSignIn();
    throw new AppError('INVALID_CREDENTIALS');
  }
  await attempt.succeeded();
  if (account.state === 'disabled') throw new AppError('ACCOUNT_DISABLED');
  if (!account.email_verified_at) {
    // A fresh link at most once a minute, so the error page cannot be used to flood a mailbox.
    if (await services.kv.setIfAbsent(`verify-resend:${account.id}`, '1', MINUTE))
      await sendVerificationEmail(services, account);
    throw new AppError('EMAIL_NOT_VERIFIED');
  }
  if (hasher.needsRehash(account.password_hash)) {
    await store.accounts.upgradePasswordHash(account.id, await hasher.hash(input.password));
  }
  if (account.state === 'locked') throw new AppError('ACCOUNT_LOCKED');
  await assertNoTimedLock(services, account.id);
  if (account.two_step_enabled_at && !(await isTrustedBrowser(services, account.id, input.trustedBrowser))) {
    const channels = await listChannels(services, account.id);
    const challenge = await openChallenge(services, { accountId: account.id, purpose: 'sign_in' }, ctx);
    services.metrics.signIn('two_step_required');
    return { status: 'two_step_required', challenge: { ...challenge, channels } };
  }
  // A trusted browser skips the code, not the step-up: its session is a password session.
  const session = await store.transaction((tx) => startSession(services, tx, account, 'password', ctx));
  // SPEC §3.17: a password sign-in from a browser this account has not seen tells the owner.
  const knownBrowser = await noteSignInBrowser(services, account, input.knownBrowser, ctx, { notify: 'if-new' });
  services.metrics.signIn('signed_in');
  return { status: 'signed_in', token: session.token, sessionId: session.id, account, knownBrowser };
}

/**
 * The second step: the code (or another proof) of a sign-in challenge; optionally remember this
 * browser (SPEC §3.2). `pending` is the challenge as the caller read it in this request, or its id.
 */
export async function completeSignIn(
  services: Services,
  pending: string | Challenge,
  input: { answer: ChallengeAnswer; trustBrowser?: boolean | undefined; knownBrowser?: string | undefined },
  ctx: RequestContext,
): Promise<SignedIn & { trustedBrowser?: string; answeredBy: AnsweredBy }> {
  const challenge = typeof pending === 'string' ? await services.store.challenges.find(pending) : pending;
  if (challenge?.purpose !== 'sign_in') throw new AppError('NOT_FOUND');
  // Read once for the whole step: the lock check before the answer and the state check after it
  // both use this row (re-reading it in between narrowed no race: a staff lock can land at any moment).
  const account = await services.store.accounts.findById(challenge.accountId);
  const now = services.clock.now();
  let started: (SignedIn & { trustedBrowser?: string }) | undefined;
  // The session starts in the transaction that completes the challenge: one commit for both, and no
  // completed challenge without its session should the process die in between.
  const { answeredBy } = await answerChallenge(services, challenge.accountId, challenge.id, input.answer, ctx, {
    challenge,
    account,
    onCompleted: async (tx) => {
      if (account?.state !== 'active')
        throw new AppError(account?.state === 'locked' ? 'ACCOUNT_LOCKED' : 'ACCOUNT_DISABLED');
      const session = await startSession(services, tx, account, 'two-step', ctx);
      started = { status: 'signed_in', token: session.token, sessionId: session.id, account };
      if (!input.trustBrowser) return;
      const browser = issueToken();
      await tx.trustedBrowsers.add({
        id: browser.id,
        accountId: account.id,
        secretHash: browser.secretHash,
        createdAt: now,
        expiresAt: new Date(now.getTime() + services.config.policy.trustedBrowserDays * DAY),
        userAgent: ctx.userAgent,
      });
      await tx.audit.record({
        accountId: account.id,
        actor: `account:${account.id}`,
        event: 'browser.trusted',
        at: now,
        ...origin(ctx),
      });
      started.trustedBrowser = browser.token;
    },
  });
  // answerChallenge returns only for a completed challenge, and then onCompleted has run.
  if (!started) throw new Error('a completed sign-in challenge started no session');
  const signedIn = started.account;
  // A sign-in with a code is by definition from a browser or device that was not trusted: tell the
  // owner. The session stands even if the mail relay is down; the failure is logged, not hidden.
  const where = requestOrigin(ctx.ip, ctx.userAgent, now);
  await notifyOwner(services, signedIn, 'newSignIn', {
    browser: where.browser,
    ip: where.ip,
    place: where.place,
  }).catch((error: unknown) =>
    services.log.warn({ err: error, account: signedIn.id }, 'new sign-in notice could not be sent'),
  );
  // That notice is the only one: the browser becomes known without a second email.
  const knownBrowser = await noteSignInBrowser(services, signedIn, input.knownBrowser, ctx, { notify: 'never' });
  services.metrics.signIn('signed_in');
  // How the code came (an app, or the channel it was sent through) is what a service's `amr` reports.
  return { ...started, knownBrowser, answeredBy };
}

async function isTrustedBrowser(services: Services, accountId: string, token: string | undefined): Promise<boolean> {
  const parts = token ? splitToken(token) : undefined;
  if (!parts) return false;
  const found = await services.store.trustedBrowsers.find(accountId, parts.id, services.clock.now());
  return found !== undefined && secretMatches(parts.secret, found.secretHash);
}
