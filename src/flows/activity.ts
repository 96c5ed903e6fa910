// "Recent activity" (SPEC §2, audit events): what happened to the account, newest first.
import type { StoredAuditEvent } from '../store/audit.ts';
import type { Services } from './context.ts';
import type { AuthenticatedSession } from './sessions.ts';

export async function recentActivity(
  services: Services,
  auth: AuthenticatedSession,
  options: { limit: number; beforeId?: string },
): Promise<StoredAuditEvent[]> {
  return services.store.audit.listForAccount(auth.account.id, options);
}
