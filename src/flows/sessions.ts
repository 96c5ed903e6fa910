// Sessions (SPEC §2, SECURITY.md items 27–30): an opaque `id.secret` token, only its hash stored,
// a new one at every sign-in, ended by sign-out, revocation, idle time or absolute age.
import { HOUR, MINUTE } from '../core/clock.ts';
import { isSessionLive, type SessionLimits, sessionExpiresAt } from '../core/session-policy.ts';
import { issueToken, isTokenId, secretMatches, splitToken } from '../core/tokens.ts';
import type { Account } from '../store/accounts.ts';
import type { Store } from '../store/index.ts';
import type { SessionAssurance } from '../store/schema.ts';
import type { SessionRow } from '../store/sessions.ts';
import { origin, type RequestContext, type Services } from './context.ts';

export interface AuthenticatedSession {
  session: SessionRow;
  account: Account;
  expiresAt: Date;
}

// Writing last-seen on every request would make every read a write; a minute's precision is enough for a 60-minute idle limit.
const TOUCH_EVERY_MS = MINUTE;

export function sessionLimits(services: Services): SessionLimits {
  return {
    idleMs: services.config.policy.sessionIdleMinutes * MINUTE,
    absoluteMs: services.config.policy.sessionAbsoluteHours * HOUR,
  };
}

/** Creates a session inside the caller's transaction and records `session.created`; returns the token (shown once). */
export async function startSession(
  services: Services,
  tx: Store,
  account: Account,
  assurance: SessionAssurance,
  ctx: RequestContext,
): Promise<{ token: string; id: string }> {
  const now = services.clock.now();
  const issued = issueToken();
  await tx.sessions.create({
    id: issued.id,
    account_id: account.id,
    secret_hash: issued.secretHash,
    assurance,
    created_at: now,
    last_seen_at: now,
    verified_at: now,
    revoked_at: null,
    ip: ctx.ip,
    user_agent: ctx.userAgent,
  });
  await tx.audit.record({
    accountId: account.id,
    actor: `account:${account.id}`,
    event: 'session.created',
    at: now,
    ...origin(ctx),
    details: { session: issued.id, assurance },
  });
  return { token: issued.token, id: issued.id };
}

/** The session and account behind a token, or undefined for anything else: malformed, unknown, revoked, expired, disabled. */
export async function authenticate(
  services: Services,
  token: string | undefined,
): Promise<AuthenticatedSession | undefined> {
  const parts = token ? splitToken(token) : undefined;
  if (!parts) return undefined;
  // Read fresh on every request, never cached: a revoked session fails on its very next request, on any node.
  const found = await services.store.sessions.findActiveWithAccount(parts.id);
  if (!found || !secretMatches(parts.secret, found.session.secret_hash)) return undefined;
  const { session, account } = found;
  const now = services.clock.now();
  const limits = sessionLimits(services);
  if (!isSessionLive({ createdAt: session.created_at, lastSeenAt: session.last_seen_at }, limits, now))
    return undefined;
  if (account.state === 'disabled') return undefined;
  if (now.getTime() - session.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await services.store.sessions.touch(session.id, now);
    session.last_seen_at = now;
  }
  return {
    session,
    account,
    expiresAt: sessionExpiresAt({ createdAt: session.created_at, lastSeenAt: session.last_seen_at }, limits),
  };
}

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
  assurance: SessionAssurance;
}

export async function listSessions(services: Services, auth: AuthenticatedSession): Promise<SessionView[]> {
  const now = services.clock.now();
  const limits = sessionLimits(services);
  const rows = await services.store.sessions.listActive(auth.account.id);
  return rows
    .filter((row) => isSessionLive({ createdAt: row.created_at, lastSeenAt: row.last_seen_at }, limits, now))
    .map((row) => ({
      id: row.id,
      current: row.id === auth.session.id,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      ip: row.ip,
      userAgent: row.user_agent,
      assurance: row.assurance,
    }));
}

/** Revokes one of the account's sessions (its own or another); false when there is no such live session. */
export async function revokeSession(
  services: Services,
  auth: AuthenticatedSession,
  sessionId: string,
  ctx: RequestContext,
): Promise<boolean> {
  // An id of the wrong shape names no session, and must not reach the database as is: a NUL byte
  // in a path parameter made PostgreSQL fail the query, which came back as a 500.
  if (!isTokenId(sessionId)) return false;
  const now = services.clock.now();
  const event = sessionId === auth.session.id ? 'session.ended' : 'session.revoked';
  return services.store.transaction(async (tx) => {
    const revoked = await tx.sessions.revoke(auth.account.id, sessionId, now);
    if (revoked)
      await tx.audit.record({
        accountId: auth.account.id,
        actor: `account:${auth.account.id}`,
        event,
        at: now,
        ...origin(ctx),
        details: { session: sessionId },
      });
    return revoked;
  });
}

export async function signOut(services: Services, auth: AuthenticatedSession, ctx: RequestContext): Promise<void> {
  await revokeSession(services, auth, auth.session.id, ctx);
}
