// A recovery in progress is held by its bearer as `id.secret` (an emailed link, a cookie, an API
// field); only the secret's hash is stored. Anything wrong with the token looks the same.
import { AppError } from '../../core/errors.ts';
import { secretMatches, splitToken } from '../../core/tokens.ts';
import type { Recovery } from '../../store/recoveries.ts';
import type { RecoveryMethod } from '../../store/schema.ts';
import type { Services } from '../context.ts';

export async function findRecovery(services: Services, token: string, method: RecoveryMethod): Promise<Recovery> {
  const parts = splitToken(token);
  const recovery = parts ? await services.store.recoveries.find(parts.id) : undefined;
  if (
    !parts ||
    !recovery ||
    recovery.method !== method ||
    !secretMatches(parts.secret, recovery.secretHash) ||
    recovery.expiresAt <= services.clock.now()
  ) {
    throw new AppError('INVALID_TOKEN');
  }
  return recovery;
}
