// When a web session ends (SPEC §5, SECURITY.md item 29; NIST 800-63B-4 §2.2.3 for AAL2):
// after `idle` without use, and in any case `absolute` after sign-in. Sliding use never passes the absolute limit.

export interface SessionTimes {
  createdAt: Date;
  lastSeenAt: Date;
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

export function sessionExpiresAt(session: SessionTimes, limits: SessionLimits): Date {
  const idleEnd = session.lastSeenAt.getTime() + limits.idleMs;
  const absoluteEnd = session.createdAt.getTime() + limits.absoluteMs;
  return new Date(Math.min(idleEnd, absoluteEnd));
}

export function isSessionLive(session: SessionTimes, limits: SessionLimits, now: Date): boolean {
  return now.getTime() < sessionExpiresAt(session, limits).getTime();
}
