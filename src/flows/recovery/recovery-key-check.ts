// Checking a typed recovery key (SPEC §2, SECURITY.md item 20). A typo is caught by the check
// character before anything is counted; only a well-formed key costs an attempt, from a budget of its
// own (growing, bounded delays per account and address) so guessing runs into a wall long before
// 65 bits give way. An unknown email, an account without a key and a wrong key answer the same,
// after the same argon2 work.
import { AppError } from '../../core/errors.ts';
import { normalizeRecoveryKey } from '../../core/recovery-key.ts';
import type { Account } from '../../store/accounts.ts';
import type { RequestContext, Services } from '../context.ts';
import { claimPasswordAttempt } from '../password-throttle.ts';

export async function checkRecoveryKey(
  services: Services,
  email: string,
  account: Account | undefined,
  typed: string,
  ctx: RequestContext,
): Promise<boolean> {
  const input = normalizeRecoveryKey(typed);
  if (!input.ok) throw new AppError('RECOVERY_KEY_MISTYPED');
  const attempt = await claimPasswordAttempt(services, email, ctx.ip, 'recoveryKey');
  const storedHash = account?.two_step_enabled_at ? (account.recovery_key_hash ?? undefined) : undefined;
  if (!(await services.hasher.verify(storedHash, input.key))) return false;
  await attempt.succeeded();
  return true;
}
