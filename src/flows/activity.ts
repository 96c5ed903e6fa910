// "Recent activity" (SPEC §2, audit events): what happened to the account, newest first, and who did it.
import type { StoredAuditEvent } from '../store/audit.ts';
import type { Services } from './context.ts';
import type { AuthenticatedSession } from './sessions.ts';

/**
 * Who acted, as the owner may see it. A staff member is shown by the name they were registered with,
 * under the one role customers know ("Twostep support", whatever their console role). Never their
 * email: a staff address in the hands of whoever reads the account (the owner, or an intruder in it)
 * invites contact, pressure and phishing outside the audited console, and the name already lets the
 * owner say "Anna from support" when they call; the opaque id in `actor` lets support trace the rest.
 */
export type ActivityActor =
  | { kind: 'you' }
  | { kind: 'device' }
  | { kind: 'staff'; name: string }
  | { kind: 'twostep' };

export interface ActivityEntry extends StoredAuditEvent {
  by: ActivityActor;
}

const STAFF_ACTOR = /^staff:(.+)$/;

export async function recentActivity(
  services: Services,
  auth: AuthenticatedSession,
  options: { limit: number; beforeId?: string },
): Promise<ActivityEntry[]> {
  const events = await services.store.audit.listForAccount(auth.account.id, options);
  const staffIds = [...new Set(events.flatMap((e) => STAFF_ACTOR.exec(e.actor)?.[1] ?? []))];
  // A page holds few distinct staff members; disabled ones keep their row, so their name stays known.
  const members = await Promise.all(staffIds.map((id) => services.store.staff.findById(id)));
  const names = new Map(members.flatMap((m) => (m ? [[m.id, m.name] as const] : [])));
  const describe = (actor: string): ActivityActor => {
    if (actor === `account:${auth.account.id}`) return { kind: 'you' };
    if (actor.startsWith('device:')) return { kind: 'device' };
    const staffId = STAFF_ACTOR.exec(actor)?.[1];
    if (staffId !== undefined) return { kind: 'staff', name: names.get(staffId) ?? '' };
    return { kind: 'twostep' };
  };
  return events.map((e) => ({ ...e, by: describe(e.actor) }));
}
