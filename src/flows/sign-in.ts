// SPEC §3.2: sign in with email and password. No session exists until every required step passed;
// two-step verification adds its step here once it exists. Unknown emails, wrong passwords and
// malformed emails get the same answer after the same argon2 work (SECURITY.md item 35).
import { normalizeEmail } from '../core/account-fields.ts';
import { MINUTE } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Account } from '../store/accounts.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { claimPasswordAttempt } from './password-throttle.ts';
import { startSession } from './sessions.ts';
import { sendVerificationEmail } from './sign-up.ts';

export interface SignedIn {
  status: 'signed_in';
  token: string;
  sessionId: string;
  account: Account;
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
  input: { email: string; password: string },
  ctx: RequestContext,
): Promise<SignedIn> {
  const { store, hasher, clock } = services;
  const attempt = await claimPasswordAttempt(services, input.email, ctx.ip);
  const email = emailOrUndefined(input.email);
  const account = email ? await store.accounts.findByEmail(email) : undefined;
  const passwordOk = await hasher.verify(account?.password_hash, input.password);
  if (!account || !passwordOk) {
    if (account) {
      await store.audit.record({
        accountId: account.id,
        actor: 'system',
        event: 'account.signin_failed',
        at: clock.now(),
        ...origin(ctx),
      });
    }
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
  const session = await store.transaction((tx) => startSession(services, tx, account, 'password', ctx));
  return { status: 'signed_in', token: session.token, sessionId: session.id, account };
}
