// SPEC §3.1: the emailed link confirms the address, once.
import { AppError } from '../core/errors.ts';
import { sha256 } from '../core/tokens.ts';
import { origin, type RequestContext, type Services } from './context.ts';

export async function verifyEmail(services: Services, token: string, ctx: RequestContext): Promise<void> {
  const now = services.clock.now();
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new AppError('INVALID_TOKEN');
  await services.store.transaction(async (tx) => {
    const accountId = await tx.emailTokens.consume(sha256(token), 'verify_email', now);
    if (!accountId) throw new AppError('INVALID_TOKEN');
    await tx.accounts.markEmailVerified(accountId, now);
    await tx.audit.record({
      accountId,
      actor: `account:${accountId}`,
      event: 'account.email_verified',
      at: now,
      ...origin(ctx),
    });
  });
}
