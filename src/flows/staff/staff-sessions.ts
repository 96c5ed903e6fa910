// Console sessions (SPEC §3.15): created only after the password *and* a second step (TOTP or key), shorter than
// customer sessions (staff hold more power), ended by sign-out, by idle time, by age, and whenever
// the member is disabled or changes role.
import { HOUR, MINUTE } from '../../core/clock.ts';
import { isSessionLive } from '../../core/session-policy.ts';
import { issueToken, secretMatches, splitToken } from '../../core/tokens.ts';
import type { Store } from '../../store/index.ts';
import type { StaffMember } from '../../store/staff.ts';
import type { StaffSessionRow } from '../../store/staff-sessions.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { hasSecondStep, staffSecondSteps } from './staff-second-steps.ts';

export const STAFF_SESSION_IDLE_MS = 30 * MINUTE;
export const STAFF_SESSION_ABSOLUTE_MS = 12 * HOUR;
const LIMITS = { idleMs: STAFF_SESSION_IDLE_MS, absoluteMs: STAFF_SESSION_ABSOLUTE_MS };
const TOUCH_EVERY_MS = MINUTE;

export interface StaffAuth {
  session: StaffSessionRow;
  member: StaffMember;
}

/** The audit actor of a staff member. */
export function staffActor(member: { id: string }): string {
  return `staff:${member.id}`;
}

export async function startStaffSession(
  services: Services,
  tx: Store,
  member: StaffMember,
  ctx: RequestContext,
): Promise<string> {
  const now = services.clock.now();
  const issued = issueToken();
  await tx.staffSessions.create({
    id: issued.id,
    staff_id: member.id,
    secret_hash: issued.secretHash,
    created_at: now,
    last_seen_at: now,
    revoked_at: null,
    ip: ctx.ip,
    user_agent: ctx.userAgent,
  });
  await tx.audit.record({
    accountId: null,
    actor: staffActor(member),
    event: 'staff.signed_in',
    at: now,
    ...origin(ctx),
    details: { session: issued.id },
  });
  return issued.token;
}

/** The member behind a console token, or undefined: malformed, unknown, revoked, expired, disabled, no second factor. */
export async function authenticateStaff(services: Services, token: string | undefined): Promise<StaffAuth | undefined> {
  const parts = token ? splitToken(token) : undefined;
  if (!parts) return undefined;
  const session = await services.store.staffSessions.findActive(parts.id);
  if (!session || !secretMatches(parts.secret, session.secret_hash)) return undefined;
  const now = services.clock.now();
  if (!isSessionLive({ createdAt: session.created_at, lastSeenAt: session.last_seen_at }, LIMITS, now))
    return undefined;
  const member = await services.store.staff.findById(session.staff_id);
  if (!member || member.disabled_at !== null) return undefined;
  // Without TOTP, a live security key must remain (staff-second-steps.ts); checked only then, as it costs a query.
  if (member.totp_confirmed_at === null && !hasSecondStep(await staffSecondSteps(services, member))) return undefined;
  if (now.getTime() - session.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await services.store.staffSessions.touch(session.id, now);
    session.last_seen_at = now;
  }
  return { session, member };
}

export async function endStaffSession(services: Services, auth: StaffAuth, ctx: RequestContext): Promise<void> {
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    if (!(await tx.staffSessions.revoke(auth.session.id, now))) return;
    await tx.audit.record({
      accountId: null,
      actor: staffActor(auth.member),
      event: 'staff.signed_out',
      at: now,
      ...origin(ctx),
      details: { session: auth.session.id },
    });
  });
}
